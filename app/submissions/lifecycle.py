"""Deleting a submission and restoring it (ODK Central's soft delete).

A deleted submission keeps every version and file; it leaves every list,
export and figure (governance's stream leaves it out) and its instanceID
stays taken: a tablet resending it is told it was deleted (409.18), as in
Central. Both need their verb (`submission.delete`, `submission.restore`) and
a record the person may read in full: one governance hides from them answers
as a missing one. Both go into the audit log with Central's action names.
Services flush, never commit; no Flask here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions
from app.db.models import Submission
from app.db.types import utcnow
from app.forms import service as forms_service
from app.governance.records import RecordFilter
from app.governance.visibility import Viewer, governed_record, governed_records
from app.submissions.errors import SubmissionNotDeletedError


def delete_submission(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> Submission:
    """Mark a live submission deleted.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.delete", permissions.Form(project_id, form.id)
    )
    record = governed_record(session, viewer, form, instance_id)
    submission = session.get_one(Submission, record.submission_id)
    submission.deleted_at = utcnow()
    audit.record(
        session,
        "submission.delete",
        by=viewer.actor,
        target_type="submission",
        target_id=submission.id,
        instance_id=instance_id,
    )
    session.flush()
    return submission


def restore_submission(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> Submission:
    """Bring a deleted submission back.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotDeletedError
        (no deleted submission of that instanceID this viewer may read).
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.restore", permissions.Form(project_id, form.id)
    )
    wanted = RecordFilter(instance_id=instance_id, include_deleted=True)
    records = governed_records(session, viewer, form, wanted, with_counts=False)
    try:
        found = [r for r in records if r.deleted and not r.content_hidden]
    finally:
        records.close()
    if not found:
        raise SubmissionNotDeletedError()
    submission = session.get_one(Submission, found[0].submission_id)
    submission.deleted_at = None
    audit.record(
        session,
        "submission.restore",
        by=viewer.actor,
        target_type="submission",
        target_id=submission.id,
        instance_id=instance_id,
    )
    session.flush()
    return submission
