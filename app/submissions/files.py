"""A stored submission's files, one at a time: uploading a file its XML names
(ODK Central's `POST …/submissions/<id>/attachments/<name>`, which pyODK
uses after creating a submission) and clearing one.

An upload is ingest of one file and keeps ingest's rules (`app.submissions.
service`): only a name the record's XML names (any other is 404, as in
Central), its bytes checked against the fields that name it
(`app.submissions.checks`: an image field gets an image…), the same blob
store, fsynced before the caller commits, and governance first: a record
that may keep no content (a `sagrado` practice or one without both
consents: its stored XML names no file) never stores one.

Who may upload is Central's rule: `submission.update`, or the submitter of
the record filling a file still missing on its first version
(`submission.create`). Governance adds: someone who may update but may not
read the record in full is answered as if it did not exist, so a file of
restricted knowledge is never replaced by someone who does not guard it.
Clearing a file needs `submission.update` and a record read in full.
Services flush, never commit; no Flask here.
"""

from __future__ import annotations

import mimetypes
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions
from app.blobs import BlobStore, save_blob_id
from app.db.models import (
    Form,
    FormVersion,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
)
from app.db.types import utcnow
from app.forms import service as forms_service
from app.governance import rules
from app.governance.visibility import (
    SubmissionNotFoundError,
    Viewer,
    form_is_governed,
    governed_record,
    governed_version_files,
)
from app.submissions import checks
from app.submissions.errors import AttachmentNotFoundError
from app.submissions.parser import attachment_kinds, parse_instance
from app.submissions.service import get_submission


def _content_type(name: str) -> str:
    # By the name, as ingest stores it: a client's Content-Type is not checked
    # against the bytes, the extension is (`checks.content_problem`).
    if name.endswith(".enc"):
        return "application/octet-stream"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _live_submission(session: Session, form: Form, instance_id: str) -> Submission:
    submission = get_submission(session, form, instance_id)
    if submission is None or submission.deleted_at is not None:
        raise SubmissionNotFoundError()
    return submission


def _readable(session: Session, viewer: Viewer, form: Form, instance_id: str) -> bool:
    try:
        governed_record(session, viewer, form, instance_id)
    except SubmissionNotFoundError:
        return False
    return True


def _slot(session: Session, version_id: int, name: str) -> SubmissionAttachment:
    slot = session.scalars(
        sa.select(SubmissionAttachment).where(
            SubmissionAttachment.submission_version_id == version_id,
            SubmissionAttachment.name == name,
        )
    ).first()
    if slot is None:
        raise AttachmentNotFoundError()
    return slot


def _is_submitter(viewer: Viewer, version: SubmissionVersion) -> bool:
    actor = viewer.actor
    if actor is None:
        return False
    if actor.is_app_user:
        return version.submitter_app_user_id == actor.id
    return version.submitter_user_id == actor.id


def upload_attachment(
    session: Session,
    store: BlobStore,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    name: str,
    stream: BinaryIO,
    viewer: Viewer,
) -> int:
    """Store the file `name` of the submission's current version; returns
    its blob id.

    Raises:
        FormNotFoundError, SubmissionNotFoundError: unknown, or not readable
            by someone who could only replace it (404.1).
        PermissionDeniedError: neither `submission.update` nor the
            submitter's own missing file (403.1).
        AttachmentNotFoundError: a name the record's XML does not name, or a
            record that keeps no content (404.1).
        AttachmentRefusedError: the bytes are not what the field takes.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    target = permissions.Form(project_id, form.id)
    may_update = permissions.can(viewer.actor, "submission.update", target)
    if not may_update and not permissions.can(
        viewer.actor, "submission.create", target
    ):
        permissions.require(viewer.actor, "submission.update", target)
    submission = _live_submission(session, form, instance_id)
    version = session.get_one(SubmissionVersion, submission.current_version_id)
    readable = may_update and _readable(session, viewer, form, instance_id)
    # Central: a submitter without submission.update may fill a file still
    # missing on the record's first version, nothing else.
    own = _is_submitter(viewer, version) and version.instance_id == instance_id
    if not readable and not own:
        if may_update:
            raise SubmissionNotFoundError()
        permissions.require(viewer.actor, "submission.update", target)
    slot = _slot(session, version.id, name)
    if not readable and slot.blob_id is not None:
        permissions.require(viewer.actor, "submission.update", target)
    values = version.field_values or {}
    if (
        form_is_governed(session, form.id)
        and not rules.facts_from_values(values).content_allowed
    ):
        # A minimal record names no file; should one ever have a slot, the
        # intake rule still holds: no content of it is stored.
        raise AttachmentNotFoundError()
    schema = forms_service.schema_of(
        session.get_one(FormVersion, version.form_version_id)
    )
    _info, root = parse_instance(version.xml)
    kinds = attachment_kinds(root, schema).get(name, {"file"})
    checks.check_file_name(name)
    checks.check_contents({name: (kinds, stream)})
    stream.seek(0)
    blob_id = save_blob_id(session, store, stream, _content_type(name))
    _refill_slot(session, slot, blob_id, viewer, submission.id, version, instance_id)
    return blob_id


def clear_attachment(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    name: str,
    viewer: Viewer,
    version_id: str | None = None,
) -> None:
    """Forget the file `name` of a version (None: the current one); the
    record still names it, so it is listed as missing (Central's DELETE).

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError,
        AttachmentNotFoundError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.update", permissions.Form(project_id, form.id)
    )
    record = governed_record(session, viewer, form, instance_id)
    # The version must be one the viewer reads in full, as for reading it.
    governed_version_files(session, viewer, form, record, version_id)
    version = session.scalars(
        sa.select(SubmissionVersion).where(
            SubmissionVersion.submission_id == record.submission_id,
            SubmissionVersion.current.is_(True)
            if version_id is None
            else SubmissionVersion.instance_id == version_id,
        )
    ).one()
    slot = _slot(session, version.id, name)
    _refill_slot(
        session, slot, None, viewer, record.submission_id, version, instance_id
    )


def _refill_slot(
    session: Session,
    slot: SubmissionAttachment,
    blob_id: int | None,
    viewer: Viewer,
    submission_id: int,
    version: SubmissionVersion,
    instance_id: str,
) -> None:
    """Point a file slot at a new blob (None: forget the file), audited with
    the blob before and after."""
    old_blob_id = slot.blob_id
    slot.blob_id = blob_id
    slot.updated_at = utcnow()
    audit.record(
        session,
        "submission.attachment.update",
        by=viewer.actor,
        target_type="submission",
        target_id=submission_id,
        instance_id=instance_id,
        version_instance_id=version.instance_id,
        name=slot.name,
        old_blob_id=old_blob_id,
        new_blob_id=blob_id,
    )
    session.flush()
