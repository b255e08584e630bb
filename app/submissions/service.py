"""Submission ingest: the rules that make a tablet's "sent" mean "kept".

One call stores one POST: the instance XML exactly as received (except sacred
content, which is dropped before anything is written, design.md), its extracted
values, and the attachments the form expects. Resends, split uploads and edits
follow ODK Central's rules (openrosa.md §4.4):

- a new instanceID creates a submission;
- the same instanceID with byte-identical XML adds or replaces attachments
  (split uploads, retries) and is a success;
- the same instanceID with other XML is a conflict;
- `deprecatedID` naming the current version creates a new version.

Uniqueness of every instanceID per form is a database constraint, so two
workers storing the same record at once end with one row: the loser's insert
fails inside a savepoint and the call is re-run as a resend.

The caller (edge) owns the transaction and answers 201 only after commit; blobs
are fsynced by the BlobStore before this function returns.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.actors import Actor
from app.blobs import BlobStore, save_blob_id
from app.db.models import (
    AuditLog,
    Form,
    FormVersion,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
)
from app.db.types import utcnow
from app.errors import InvalidInputError, PermissionDeniedError
from app.forms import service as forms_service
from app.forms.errors import FormClosedError, FormNotFoundError
from app.forms.xform import FormSchema
from app.governance.rules import sacred_paths_to_drop
from app.submissions.errors import (
    DeprecatedIdNotFoundError,
    InstanceIdMissingError,
    SubmissionConflictError,
    SubmissionDeletedError,
)
from app.submissions.parser import (
    InstanceInfo,
    attachment_names,
    extract_values,
    is_safe_attachment_name,
    parse_instance,
    remove_paths,
)

IngestStatus = Literal["created", "merged", "edited"]
MAX_META_LENGTH = 255  # Central truncates deviceID and friends at 255


@dataclass
class Upload:
    """One OpenRosa POST as the edge parsed it."""

    xml: bytes
    # part name -> (filename the client gave, readable stream)
    parts: Mapping[str, tuple[str | None, BinaryIO]] = field(default_factory=dict)
    device_id: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class IngestResult:
    submission: Submission
    version: SubmissionVersion
    status: IngestStatus
    attachments_present: int
    attachments_expected: int


@dataclass(frozen=True)
class _Prepared:
    xml: bytes
    sha256: str
    info: InstanceInfo
    values: dict[str, Any]
    expected: list[str]
    dropped: list[str]


def _clip(value: str | None) -> str | None:
    return value[:MAX_META_LENGTH] if value else value


def _local_name(element: etree._Element) -> str:
    return etree.QName(element).localname


def _unsafe_part_names(upload: Upload) -> list[str]:
    bad = []
    for name, (filename, _stream) in upload.parts.items():
        for candidate in (name, filename):
            if candidate and not is_safe_attachment_name(candidate):
                bad.append(candidate)
    return bad


def _find_form(
    session: Session, project_id: int, info: InstanceInfo, expected: str | None
) -> Form:
    if expected is not None and info.xml_form_id != expected:
        raise InvalidInputError(
            f"El envío es del formulario «{info.xml_form_id}», no de «{expected}».",
            f"The submission is for form '{info.xml_form_id}', not '{expected}'.",
        )
    form = forms_service.find_form(session, project_id, info.xml_form_id)
    if form is None:
        raise FormNotFoundError(
            f"El formulario «{info.xml_form_id}» no existe en este proyecto.",
            f"Form '{info.xml_form_id}' does not exist in this project.",
        )
    return form


def _carries_content(element: etree._Element) -> bool:
    return len(element) > 0 or bool(element.text and element.text.strip())


def _prepare(
    upload: Upload, schema: FormSchema, info: InstanceInfo, root: etree._Element
) -> _Prepared:
    values = extract_values(root, schema)
    xml = upload.xml
    present = {_local_name(c): _carries_content(c) for c in root}
    dropped = sacred_paths_to_drop(schema, values, present)
    # Empty elements carry nothing (Collect sends every note as `<nota />`): they
    # are dropped too, but only elements with content are named in the audit.
    dropped_content = [name for name in dropped if present.get(name)]
    if dropped:
        # Sacred knowledge is never written anywhere (domain.md §4): the stored
        # XML, the values and the attachments all come from the stripped copy.
        xml = remove_paths(upload.xml, dropped)
        info, root = parse_instance(xml)
        values = extract_values(root, schema)
    expected = [
        name for name in attachment_names(root, schema) if is_safe_attachment_name(name)
    ]
    sha = hashlib.sha256(xml).hexdigest()
    return _Prepared(xml, sha, info, values, expected, dropped_content)


def ingest_submission(
    session: Session,
    store: BlobStore,
    *,
    project_id: int,
    upload: Upload,
    actor: Actor,
    expected_xml_form_id: str | None = None,
) -> IngestResult:
    """Store one submission POST.

    Raises:
        InstanceInvalidError: malformed XML, DOCTYPE/entities, not UTF-8, no form id.
        InstanceIdMissingError: no meta/instanceID.
        InvalidInputError: unsafe attachment names; root id differs from the URL's.
        FormNotFoundError, FormVersionNotFoundError: unknown form or version.
        PermissionDeniedError: the actor may not submit to this form.
        FormClosedError: the form is closed.
        SubmissionConflictError, SubmissionDeletedError: §4.4 conflicts.
        DeprecatedIdNotFoundError: an edit of an unknown instance.
    """
    if bad := _unsafe_part_names(upload):
        raise InvalidInputError(
            f"Nombre de archivo adjunto no permitido: «{bad[0]}».",
            f"Attachment file name not allowed: '{bad[0]}'.",
        )
    info, root = parse_instance(upload.xml)
    form = _find_form(session, project_id, info, expected_xml_form_id)
    if not auth_service.can_submit(session, actor, project_id, form.id):
        raise PermissionDeniedError(
            "No tiene permiso para enviar datos a este formulario.",
            "You are not allowed to submit to this form.",
        )
    if form.state == "closed":
        raise FormClosedError()
    form_version = forms_service.get_version(session, form, info.version)
    prepared = _prepare(upload, forms_service.schema_of(form_version), info, root)
    if not prepared.info.instance_id:
        raise InstanceIdMissingError()
    try:
        with session.begin_nested():
            return _store(session, store, form, form_version, prepared, upload, actor)
    except IntegrityError:
        # Another worker stored this instanceID between our look-up and insert;
        # it is now a resend of a stored record (identical XML) or a conflict.
        return _store(session, store, form, form_version, prepared, upload, actor)


def _version_by_instance(
    session: Session, form: Form, instance_id: str
) -> SubmissionVersion | None:
    return session.scalars(
        sa.select(SubmissionVersion).where(
            SubmissionVersion.form_id == form.id,
            SubmissionVersion.instance_id == instance_id,
        )
    ).first()


def _store(
    session: Session,
    store: BlobStore,
    form: Form,
    form_version: FormVersion,
    prepared: _Prepared,
    upload: Upload,
    actor: Actor,
) -> IngestResult:
    instance_id = prepared.info.instance_id or ""
    existing = _version_by_instance(session, form, instance_id)
    if existing is not None:
        return _resend(session, store, existing, prepared, upload)
    deprecated_id = prepared.info.deprecated_id
    previous = None
    if deprecated_id:
        previous = _version_by_instance(session, form, deprecated_id)
        if previous is None:
            raise DeprecatedIdNotFoundError()
        if not previous.current:
            raise SubmissionConflictError(
                "La copia que estaba editando ya no está al día: otra persona la "
                "editó. Descargue la versión actual y vuelva a editarla.",
                "The copy you were editing is now out of date: someone else has "
                "edited it. Get the current version and edit that instead.",
            )
    submission = _submission_for(session, form, prepared, upload, actor, previous)
    if submission.deleted_at is not None:
        raise SubmissionDeletedError()
    version = SubmissionVersion(
        submission_id=submission.id,
        form_id=form.id,
        form_version_id=form_version.id,
        instance_id=instance_id,
        deprecated_id=deprecated_id,
        instance_name=_clip(prepared.info.instance_name),
        xml=prepared.xml,
        xml_sha256=prepared.sha256,
        field_values=prepared.values,
        current=True,
        submitter_user_id=actor.id if actor.kind == "user" else None,
        submitter_app_user_id=actor.id if actor.kind == "app_user" else None,
        device_id=_clip(upload.device_id),
        user_agent=_clip(upload.user_agent),
    )
    session.add(version)
    session.flush()
    blobs: dict[str, int | None] = {}
    if previous is not None:
        previous.current = False
        # Attachments the edit still names carry over; new parts replace them.
        blobs = _attachment_blobs(session, previous.id)
        submission.review_state = "edited"
        submission.updated_at = utcnow()
        submission.instance_name = version.instance_name
    submission.current_version_id = version.id
    blobs.update(_save_parts(session, store, prepared, upload))
    if prepared.expected:
        session.execute(
            sa.insert(SubmissionAttachment),
            [
                {
                    "submission_version_id": version.id,
                    "name": name,
                    "blob_id": blobs.get(name),
                    "created_at": utcnow(),
                }
                for name in prepared.expected
            ],
        )
    present = sum(1 for name in prepared.expected if blobs.get(name) is not None)
    _audit_ingest(session, submission, version, prepared, actor, previous is not None)
    return IngestResult(
        submission,
        version,
        "edited" if previous is not None else "created",
        present,
        len(prepared.expected),
    )


def _submission_for(
    session: Session,
    form: Form,
    prepared: _Prepared,
    upload: Upload,
    actor: Actor,
    previous: SubmissionVersion | None,
) -> Submission:
    if previous is not None:
        found = session.get(Submission, previous.submission_id)
        assert found is not None  # noqa: S101 - the foreign key guarantees it
        return found
    submission = Submission(
        form_id=form.id,
        instance_id=prepared.info.instance_id or "",
        submitter_user_id=actor.id if actor.kind == "user" else None,
        submitter_app_user_id=actor.id if actor.kind == "app_user" else None,
        device_id=_clip(upload.device_id),
        user_agent=_clip(upload.user_agent),
        instance_name=_clip(prepared.info.instance_name),
        review_state="received",
    )
    session.add(submission)
    session.flush()
    return submission


def _resend(
    session: Session,
    store: BlobStore,
    existing: SubmissionVersion,
    prepared: _Prepared,
    upload: Upload,
) -> IngestResult:
    submission = session.get(Submission, existing.submission_id)
    assert submission is not None  # noqa: S101 - the foreign key guarantees it
    if submission.deleted_at is not None:
        raise SubmissionDeletedError()
    if not existing.current:
        raise SubmissionConflictError(
            "Este envío ya fue reemplazado por una edición posterior.",
            "This submission has been replaced by a later edit.",
        )
    if existing.xml_sha256 != prepared.sha256:
        raise SubmissionConflictError()
    present = _upsert_attachments(session, store, existing, prepared, upload)
    return IngestResult(submission, existing, "merged", present, len(prepared.expected))


def _attachment_blobs(session: Session, version_id: int) -> dict[str, int | None]:
    rows = session.execute(
        sa.select(SubmissionAttachment.name, SubmissionAttachment.blob_id).where(
            SubmissionAttachment.submission_version_id == version_id
        )
    ).all()
    return {name: blob_id for name, blob_id in rows}


def _part_for(upload: Upload, name: str) -> BinaryIO | None:
    # Match by part name first (Central), then by the filename the client gave.
    if name in upload.parts:
        return upload.parts[name][1]
    for filename, stream in upload.parts.values():
        if filename == name:
            return stream
    return None


def _content_type(name: str) -> str:
    if name.endswith(".enc"):
        return "application/octet-stream"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _save_parts(
    session: Session, store: BlobStore, prepared: _Prepared, upload: Upload
) -> dict[str, int]:
    """Blob ids of the parts that carry an expected attachment."""
    saved: dict[str, int] = {}
    for name in prepared.expected:
        stream = _part_for(upload, name)
        if stream is None:
            continue  # parts the form does not expect are ignored, as in Central
        stream.seek(0)
        saved[name] = save_blob_id(session, store, stream, _content_type(name))
    return saved


def _upsert_attachments(
    session: Session,
    store: BlobStore,
    version: SubmissionVersion,
    prepared: _Prepared,
    upload: Upload,
) -> int:
    """Attach the parts of a resend (split upload or retry) to a stored version."""
    now = utcnow()
    for name, blob_id in _save_parts(session, store, prepared, upload).items():
        session.execute(
            sa.update(SubmissionAttachment)
            .where(
                SubmissionAttachment.submission_version_id == version.id,
                SubmissionAttachment.name == name,
            )
            .values(blob_id=blob_id, updated_at=now)
        )
    present = session.scalar(
        sa.select(sa.func.count(SubmissionAttachment.id)).where(
            SubmissionAttachment.submission_version_id == version.id,
            SubmissionAttachment.blob_id.is_not(None),
        )
    )
    return int(present or 0)


def _audit_ingest(
    session: Session,
    submission: Submission,
    version: SubmissionVersion,
    prepared: _Prepared,
    actor: Actor,
    edited: bool,
) -> None:
    common: dict[str, Any] = {
        "actor_user_id": actor.id if actor.kind == "user" else None,
        "actor_app_user_id": actor.id if actor.kind == "app_user" else None,
        "target_type": "submission",
        "target_id": str(submission.id),
    }
    action = "submission.update" if edited else "submission.create"
    session.add(
        AuditLog(action=action, details={"instance_id": version.instance_id}, **common)
    )
    if prepared.dropped:
        # Only element names are logged: the dropped content itself never is.
        details = {"instance_id": version.instance_id, "dropped": prepared.dropped}
        session.add(
            AuditLog(
                action="submission.sacred_content_dropped", details=details, **common
            )
        )
    session.flush()


def get_submission(session: Session, form: Form, instance_id: str) -> Submission | None:
    return session.scalars(
        sa.select(Submission).where(
            Submission.form_id == form.id, Submission.instance_id == instance_id
        )
    ).first()


def attachments_of(
    session: Session, version: SubmissionVersion
) -> list[SubmissionAttachment]:
    return list(
        session.scalars(
            sa.select(SubmissionAttachment)
            .where(SubmissionAttachment.submission_version_id == version.id)
            .order_by(SubmissionAttachment.name)
        )
    )
