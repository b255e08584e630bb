"""Blobs: content-addressed bytes (photos, audio, XLSForms, form media).

`blobs` holds the metadata of every blob; `blob_contents` holds the bytes only
when the database-backed BlobStore is used (grown deployment without a shared
file system).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, utcnow


class Blob(Base):
    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    md5: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(
        sa.String(255), default="application/octet-stream"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlobContent(Base):
    __tablename__ = "blob_contents"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
