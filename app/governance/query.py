"""The SQL that reads submissions as records: owned by governance, so that
nothing reads submission content without passing its rules.

Each submission's current version with its form version, its submitter's name
and, when asked, how many attachments it expects and has and how many edits it
went through; the filters readers may ask for; the version history and the
files of a version. `app.governance.visibility` is the only caller.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.db.models import (
    AppUser,
    Blob,
    FormVersion,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    User,
)
from app.governance.records import RecordFilter


def current_records(form_id: int, *, with_counts: bool = True) -> sa.Select[Any]:
    """Every submission of the form (deleted ones included), current version."""
    columns: list[Any] = [
        Submission.id,
        Submission.instance_id,
        Submission.instance_name,
        Submission.created_at,
        Submission.updated_at,
        Submission.deleted_at,
        Submission.review_state,
        Submission.device_id,
        sa.func.coalesce(
            Submission.submitter_user_id, Submission.submitter_app_user_id
        ).label("submitter_id"),
        sa.func.coalesce(User.display_name, AppUser.display_name).label(
            "submitter_name"
        ),
        SubmissionVersion.id.label("version_id"),
        SubmissionVersion.form_version_id,
        SubmissionVersion.field_values,
        FormVersion.version.label("form_version"),
    ]
    if with_counts:
        # Per-row counts are correlated subqueries on indexed columns, not joins
        # to grouped subqueries: without fresh statistics (a database filled
        # since its last ANALYZE) PostgreSQL estimated one row and nested-looped
        # the grouped subquery, which made a 100 000-row export quadratic.
        of_version = SubmissionAttachment.submission_version_id == SubmissionVersion.id
        expected = sa.select(sa.func.count(SubmissionAttachment.id)).where(of_version)
        present = sa.select(sa.func.count(SubmissionAttachment.blob_id)).where(
            of_version
        )
        versions = aliased(SubmissionVersion)
        edits = sa.select(sa.func.count(versions.id) - 1).where(
            versions.submission_id == Submission.id
        )
        columns += [
            expected.scalar_subquery().label("expected"),
            present.scalar_subquery().label("present"),
            edits.scalar_subquery().label("edits"),
        ]
    return (
        sa.select(*columns)
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == Submission.submitter_user_id)
        .outerjoin(AppUser, AppUser.id == Submission.submitter_app_user_id)
        .where(Submission.form_id == form_id)
    )


def filtered(stmt: sa.Select[Any], wanted: RecordFilter) -> sa.Select[Any]:
    """The filters the database can apply, and the order (id breaks ties)."""
    if not wanted.include_deleted:
        stmt = stmt.where(Submission.deleted_at.is_(None))
    if wanted.since is not None:
        stmt = stmt.where(Submission.created_at >= wanted.since)
    if wanted.until is not None:
        stmt = stmt.where(Submission.created_at < wanted.until)
    if wanted.review_states:
        stmt = stmt.where(Submission.review_state.in_(wanted.review_states))
    if wanted.submitter_user_id is not None:
        stmt = stmt.where(Submission.submitter_user_id == wanted.submitter_user_id)
    if wanted.submitter_app_user_id is not None:
        stmt = stmt.where(
            Submission.submitter_app_user_id == wanted.submitter_app_user_id
        )
    if wanted.instance_id is not None:
        stmt = stmt.where(Submission.instance_id == wanted.instance_id)
    if wanted.newest_first:
        return stmt.order_by(Submission.created_at.desc(), Submission.id.desc())
    return stmt.order_by(Submission.created_at, Submission.id)


def version_history(submission_id: int) -> sa.Select[Any]:
    """Every version of a submission, oldest first, with who sent it."""
    return (
        sa.select(
            SubmissionVersion.id,
            SubmissionVersion.instance_id,
            SubmissionVersion.deprecated_id,
            SubmissionVersion.created_at,
            SubmissionVersion.device_id,
            SubmissionVersion.current,
            SubmissionVersion.field_values,
            FormVersion.version.label("form_version"),
            sa.func.coalesce(User.display_name, AppUser.display_name).label(
                "submitter_name"
            ),
        )
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == SubmissionVersion.submitter_user_id)
        .outerjoin(AppUser, AppUser.id == SubmissionVersion.submitter_app_user_id)
        .where(SubmissionVersion.submission_id == submission_id)
        .order_by(SubmissionVersion.created_at, SubmissionVersion.id)
    )


def version_files(version_id: int) -> sa.Select[Any]:
    """The files a version names, received or not, by name."""
    return (
        sa.select(SubmissionAttachment.name, Blob.sha256, Blob.content_type, Blob.size)
        .outerjoin(Blob, Blob.id == SubmissionAttachment.blob_id)
        .where(SubmissionAttachment.submission_version_id == version_id)
        .order_by(SubmissionAttachment.name)
    )
