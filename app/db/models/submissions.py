"""Submissions, their versions (the XML exactly as received), attachments and
review comments.

Every instanceID a form has ever received is unique per form at the database
(`uq_submission_versions_form_id_instance_id`): that constraint, not a lock, is
what makes two simultaneous resends on two workers store one record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base
from app.db.types import JSONType, UTCDateTime, utcnow

REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint("form_id", "instance_id"),
        sa.Index("ix_submissions_form_id_created_at", "form_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"))
    # The first version's instanceID: the logical record's KEY in exports.
    instance_id: Mapped[str] = mapped_column(sa.String(255))
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submission_versions.id", use_alter=True)
    )
    submitter_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitter_app_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_users.id")
    )
    device_id: Mapped[str | None] = mapped_column(sa.String(255))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    instance_name: Mapped[str | None] = mapped_column(sa.String(255))
    review_state: Mapped[str] = mapped_column(sa.String(16), default="received")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current_version: Mapped[SubmissionVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class SubmissionVersion(Base):
    __tablename__ = "submission_versions"
    __table_args__ = (sa.UniqueConstraint("form_id", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id"), index=True
    )
    form_id: Mapped[int] = mapped_column(sa.ForeignKey("forms.id"))
    form_version_id: Mapped[int] = mapped_column(sa.ForeignKey("form_versions.id"))
    instance_id: Mapped[str] = mapped_column(sa.String(255))
    deprecated_id: Mapped[str | None] = mapped_column(sa.String(255))
    instance_name: Mapped[str | None] = mapped_column(sa.String(255))
    xml: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    xml_sha256: Mapped[str] = mapped_column(sa.String(64))
    field_values: Mapped[dict[str, Any]] = mapped_column(JSONType, deferred=True)
    current: Mapped[bool] = mapped_column(default=True)
    submitter_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    submitter_app_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_users.id")
    )
    device_id: Mapped[str | None] = mapped_column(sa.String(255))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubmissionAttachment(Base):
    __tablename__ = "submission_attachments"
    __table_args__ = (sa.UniqueConstraint("submission_version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submission_versions.id"), index=True
    )
    # The file name as the client sent it (binary field text, e.g. 1732455064123.jpg).
    name: Mapped[str] = mapped_column(sa.String(255))
    # NULL while expected but not yet received (split uploads, lost parts).
    blob_id: Mapped[int | None] = mapped_column(sa.ForeignKey("blobs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
