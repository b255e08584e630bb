"""The one SQL query that reads a form's submissions as records.

Exports and the console's submission table read the same thing: each
submission's current version with its form version, its submitter's name, how
many attachments it expects and has, and how many edits it went through. This
module owns that query; callers add their filters and order.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.db.models import (
    AppUser,
    FormVersion,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    User,
)


def current_records(form_id: int) -> sa.Select[Any]:
    """Every submission of the form (deleted ones included), current version."""
    # Per-row counts are correlated subqueries on indexed columns, not joins to
    # grouped subqueries: without fresh statistics (a database filled since its
    # last ANALYZE) PostgreSQL estimated one row and nested-looped the grouped
    # subquery, which made a 100 000-row export quadratic (minutes, not seconds).
    of_version = SubmissionAttachment.submission_version_id == SubmissionVersion.id
    expected = sa.select(sa.func.count(SubmissionAttachment.id)).where(of_version)
    present = sa.select(sa.func.count(SubmissionAttachment.blob_id)).where(of_version)
    versions = aliased(SubmissionVersion)
    edits = sa.select(sa.func.count(versions.id) - 1).where(
        versions.submission_id == Submission.id
    )
    return (
        sa.select(
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
            expected.scalar_subquery().label("expected"),
            present.scalar_subquery().label("present"),
            edits.scalar_subquery().label("edits"),
        )
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == Submission.submitter_user_id)
        .outerjoin(AppUser, AppUser.id == Submission.submitter_app_user_id)
        .where(Submission.form_id == form_id)
    )
