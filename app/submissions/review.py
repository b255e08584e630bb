"""Reviewing submissions: their review state and comments.

Who may review is the permission table's `submission.update`; what may be
reviewed is what the reviewer may read in full (`app.submissions.reading`,
governance's one read), so a restricted practice is reviewed by its guardian's
peers only if they guard it too. Both the state change and the comment go into
the audit log. Services take the session first, flush and never commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions
from app.db.models import Comment, Submission
from app.db.types import utcnow
from app.governance.visibility import Viewer
from app.submissions.errors import ReviewInputError
from app.submissions.reading import readable_record

# "edited" is set by ingest when a tablet sends an edit; people set the others.
SETTABLE_STATES = ("received", "hasIssues", "approved", "rejected")
MAX_COMMENT = 10_000


def _comment_text(body: str | None) -> str | None:
    text = (body or "").strip()
    if len(text) > MAX_COMMENT:
        raise ReviewInputError(
            f"El comentario es demasiado largo (máximo {MAX_COMMENT} caracteres).",
            f"The comment is too long (at most {MAX_COMMENT} characters).",
        )
    return text or None


def set_review_state(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    state: str,
    viewer: Viewer,
    comment: str | None = None,
) -> Submission:
    """Set the review state (received, hasIssues, approved, rejected), with an
    optional comment; both go into the audit log.

    Raises: PermissionDeniedError, ReviewInputError, FormNotFoundError,
        SubmissionNotFoundError.
    """
    permissions.require(
        viewer.actor, "submission.update", permissions.Project(project_id)
    )
    if state not in SETTABLE_STATES:
        raise ReviewInputError(
            f"Estado de revisión no válido: «{state}».",
            f"Invalid review state '{state}'.",
        )
    text = _comment_text(comment)
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    submission = session.get_one(Submission, record.submission_id)
    previous = submission.review_state
    submission.review_state = state
    submission.updated_at = utcnow()
    audit.record(
        session,
        "submission.update.review_state",
        by=viewer.actor,
        target_type="submission",
        target_id=submission.id,
        instance_id=instance_id,
        **{"from": previous, "to": state},
    )
    if text is not None:
        _add_comment(session, viewer, submission.id, text, instance_id)
    session.flush()
    return submission


def add_comment(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
    body: str,
) -> Comment:
    """Comment on a submission.

    Raises: PermissionDeniedError, ReviewInputError, FormNotFoundError,
        SubmissionNotFoundError.
    """
    permissions.require(
        viewer.actor, "submission.update", permissions.Project(project_id)
    )
    text = _comment_text(body)
    if text is None:
        raise ReviewInputError("Escriba el comentario.", "Write the comment.")
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    comment = _add_comment(session, viewer, record.submission_id, text, instance_id)
    session.flush()
    return comment


def _add_comment(
    session: Session, viewer: Viewer, submission_id: int, text: str, instance_id: str
) -> Comment:
    assert viewer.actor is not None  # noqa: S101 - require() let a person in
    comment = Comment(
        submission_id=submission_id,
        author_id=viewer.actor.id,
        body=text,
        created_at=utcnow(),
    )
    session.add(comment)
    session.flush()
    # The comment's text stays in `comments`; the log says who commented when.
    audit.record(
        session,
        "submission.comment",
        by=viewer.actor,
        target_type="submission",
        target_id=submission_id,
        instance_id=instance_id,
        comment_id=comment.id,
    )
    return comment
