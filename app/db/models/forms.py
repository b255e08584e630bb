"""Forms, their versions (the XForm exactly as served) and their media.

A form points at two versions, as Central's `currentDefId` and `draftDefId`
do: the published one Collect downloads, and the draft being prepared (a new
definition, new media) that nobody downloads until it is published. A version
with no `published_at` is a draft. Version strings are unique among a form's
published versions only: a draft may repeat the published version's string
(pyODK copies the published form into a draft, then publishes it under a new
version), and is refused only when it is published as is.

A form's media (`form_attachments`) are the files uploaded for a version:
those its XForm names (`jr://images/logo.png`, an external instance's CSV…)
and any a coordinator added beside them. Which files a version expects is
read from its XForm, so a named file nobody uploaded has no row.
"""

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
        # A deleted form's id may be taken again (Central: the trash keeps the
        # old one, restorable while no live form has its id).
        sa.Index(
            "uq_forms_live_xml_form_id",
            "project_id",
            "xml_form_id",
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        ),
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
    draft_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("form_versions.id", use_alter=True)
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by each change Central dates (a draft set, a publication, a state):
    # not at creation, nor by the trash (Central leaves it null then).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    draft_version: Mapped[FormVersion | None] = relationship(
        foreign_keys=[draft_version_id], post_update=True
    )


class FormVersion(Base):
    __tablename__ = "form_versions"
    __table_args__ = (
        sa.Index(
            "uq_form_versions_published_version",
            "form_id",
            "version",
            unique=True,
            sqlite_where=sa.text("published_at IS NOT NULL"),
            postgresql_where=sa.text("published_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"), index=True)
    version: Mapped[str] = mapped_column(sa.String(255), default="")
    title: Mapped[str] = mapped_column(sa.String(255))
    # Deferred: listing and ingest need the version's identity, not its bytes.
    xml: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    md5: Mapped[str] = mapped_column(sa.String(32))
    sha1: Mapped[str] = mapped_column(sa.String(40))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    xlsform_blob_id: Mapped[int | None] = mapped_column(sa.ForeignKey("blobs.id"))
    field_schema: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
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
    # NULL once the file was cleared from a draft (its slot keeps the time).
    blob_id: Mapped[int | None] = mapped_column(sa.ForeignKey("blobs.id"))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )
