"""Forms, their versions (the XForm exactly as served) and their media."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow

FORM_STATES = ("open", "closing", "closed")


class Form(Base):
    __tablename__ = "forms"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "xml_form_id"),
        sa.CheckConstraint(
            "state IN ('open', 'closing', 'closed')", name="state_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    xml_form_id: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(16), default="open")
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("form_versions.id", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class FormVersion(Base):
    __tablename__ = "form_versions"
    __table_args__ = (sa.UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"), index=True)
    version: Mapped[str] = mapped_column(sa.String(255), default="")
    title: Mapped[str] = mapped_column(sa.String(255))
    # Deferred: listing and ingest need the version's identity, not its bytes.
    xml: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    md5: Mapped[str] = mapped_column(sa.String(32))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    xlsform_blob_id: Mapped[int | None] = mapped_column(sa.ForeignKey("blobs.id"))
    field_schema: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    form: Mapped[Form] = relationship(foreign_keys=[form_id])


class FormAttachment(Base):
    __tablename__ = "form_attachments"
    __table_args__ = (sa.UniqueConstraint("form_version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("form_versions.id"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(255))
    blob_id: Mapped[int | None] = mapped_column(sa.ForeignKey("blobs.id"))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )
