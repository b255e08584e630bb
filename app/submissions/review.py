"""Reviewing submissions: their review state and comments.

Who may review is the permission table's `submission.update`; what may be
reviewed is what the reviewer may read in full (`app.submissions.reading`,
governance's one read), so a restricted practice is reviewed by its guardian's
peers only if they guard it too. Both the state change and the comment go into
the audit log. Services take the session first, flush and never commit.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions
from app.db.models import Comment, Submission
from app.db.types import utcnow
from app.forms import service as forms_service
from app.governance.visibility import Viewer
from app.submissions.errors import ReviewInputError
from app.submissions.reading import readable_record

# "edited" is set by ingest when a tablet sends an edit; people set the others
# in the console. Central's API also lets a client set "edited", and writes
# "received" as null (`API_STATES` holds both spellings).
SETTABLE_STATES = ("received", "hasIssues", "approved", "rejected")
API_STATES = ("received", "hasIssues", "edited", "approved", "rejected")
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
    state: object,
    viewer: Viewer,
    comment: str | None = None,
    allowed: tuple[str, ...] = SETTABLE_STATES,
) -> Submission:
    """Set the review state (one of `allowed`; the console's by default), with
    an optional comment; both go into the audit log.

    Raises: PermissionDeniedError, ReviewInputError, FormNotFoundError,
        SubmissionNotFoundError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.update", permissions.Form(project_id, form.id)
    )
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    if not isinstance(state, str) or state not in allowed:
        shown = state if isinstance(state, str) else json.dumps(state)
        # Central's wording and details (its review-state trigger, ODK03).
        raise ReviewInputError(
            f"Estado de revisión no válido: «{shown}».",
            f"Unexpected state value {shown}; not a recognized state name",
            details={
                "field": "state",
                "value": shown,
                "reason": "not a recognized state name",
            },
        )
    text = _comment_text(comment)
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
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.update", permissions.Form(project_id, form.id)
    )
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    text = _comment_text(body)
    if text is None:
        raise ReviewInputError("Escriba el comentario.", "Write the comment.")
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
