"""Submission ingest: the rules that make a tablet's "sent" mean "kept".

One call stores one POST: the instance XML exactly as received, its extracted
values, and the attachments the form expects. Knowledge governance comes first
(`app.governance.intake`): a governed record that may keep no content (a
`sagrado` practice, or one without both consents) is stored as its minimal
record, rebuilt, with no files; an edit that opens a governed record up (a
less strict level or consent, another ayllu) needs the guardian of its ayllu
(`knowledge.guard`) and is refused with nothing stored otherwise; every change
of level, consent or ayllu is its own audit entry. Resends, split uploads and
edits follow ODK Central's rules (openrosa.md §4.4):

- a new instanceID creates a submission;
- the same instanceID with byte-identical XML adds or replaces attachments
  (split uploads, retries) and is a success;
- the same instanceID with other XML is a conflict;
- `deprecatedID` naming the current version creates a new version; files the
  new version names carry over from the old one only if the level did not
  change (restricted media must not follow an edit that opens the record).

Uniqueness of every instanceID per form is a database constraint, so two
workers storing the same record at once end with one row: the loser's insert
fails inside a savepoint and the call is re-run as a resend.

The caller (edge) owns the transaction and answers 201 only after commit; blobs
are fsynced by the BlobStore before this function returns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions
from app.auth.actors import Actor, is_live
from app.blobs import BlobStore, save_blob_id
from app.config import SubmissionLimits
from app.db.models import (
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
from app.governance import intake, rules
from app.governance.rules import KnowledgeFacts
from app.governance.visibility import SubmissionNotFoundError, form_is_governed
from app.submissions import checks
from app.submissions.errors import (
    DeprecatedIdNotFoundError,
    DeprecatingOldSubmissionError,
    ExpectedDeprecationError,
    InstanceIdConflictError,
    InstanceIdMissingError,
    KnowledgeEditRefusedError,
    SubmissionConflictError,
    SubmissionDeletedError,
)
from app.submissions.parser import (
    InstanceInfo,
    attachment_kinds,
    extract_values,
    parse_instance,
)

IngestStatus = Literal["created", "merged", "edited"]
DEFAULT_LIMITS = SubmissionLimits()
MAX_META_LENGTH = 255  # Central truncates deviceID and friends at 255


@dataclass
class Upload:
    """One OpenRosa POST as the edge parsed it."""

    xml: bytes
    # part name -> (filename the client gave, readable stream)
    parts: Mapping[str, tuple[str | None, BinaryIO]] = field(default_factory=dict)
    device_id: str | None = None
    user_agent: str | None = None
    # The declared type of every part named xml_submission_file, as received.
    xml_content_types: tuple[str | None, ...] = ("text/xml",)
    # Every file part (name, filename) as received, repeats included; None:
    # those of `parts`.
    received: tuple[tuple[str, str | None], ...] | None = None

    def received_names(self) -> tuple[tuple[str, str | None], ...]:
        if self.received is not None:
            return self.received
        return tuple((name, filename) for name, (filename, _s) in self.parts.items())


@dataclass(frozen=True)
class IngestResult:
    submission: Submission
    version: SubmissionVersion
    status: IngestStatus
    attachments_present: int
    attachments_expected: int
    # Files the POST carried that the record does not name: not stored (as in
    # Central), and said so in the answer.
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Prepared:
    xml: bytes
    sha256: str
    info: InstanceInfo
    values: dict[str, Any]
    expected: dict[str, set[str]]  # file name -> the kinds of field naming it
    facts: KnowledgeFacts | None  # None: the form is not governed
    minimal: intake.MinimalRecord | None  # set when content was not kept
    files_dropped: int = 0  # parts of a minimal record's POST, never stored


def _clip(value: str | None) -> str | None:
    return value[:MAX_META_LENGTH] if value else value


def _find_form(
    session: Session, project_id: int, info: InstanceInfo, expected: str | None
) -> Form:
    if expected is not None and info.xml_form_id != expected:
        raise InvalidInputError(
            f"El envío es del formulario «{info.xml_form_id}», no de «{expected}».",
            f"Unexpected form id value {info.xml_form_id}; did not match the form "
            "ID in the URL",
            details={
                "field": "form id",
                "value": info.xml_form_id,
                "reason": "did not match the form ID in the URL",
            },
        )
    form = forms_service.find_form(session, project_id, info.xml_form_id)
    if form is None:
        raise FormNotFoundError(
            f"El formulario «{info.xml_form_id}» no existe en este proyecto.",
            f"Form '{info.xml_form_id}' does not exist in this project.",
        )
    return form


def _expected(root: etree._Element, schema: FormSchema) -> dict[str, set[str]]:
    """The files the record names, each name checked (a name that could
    escape a folder or bend a header refuses the whole submission)."""
    expected = attachment_kinds(root, schema)
    for name in expected:
        checks.check_file_name(name)
    return expected


def _prepare(
    upload: Upload,
    schema: FormSchema,
    info: InstanceInfo,
    root: etree._Element,
    governed: bool,
) -> _Prepared:
    if not governed:
        values = extract_values(root, schema)
        expected = _expected(root, schema)
        sha = hashlib.sha256(upload.xml).hexdigest()
        return _Prepared(upload.xml, sha, info, values, expected, None, None)
    facts = intake.facts_from_instance(root, schema)
    xml, minimal = upload.xml, None
    if not facts.content_allowed:
        # Sacred knowledge (or knowledge without both consents) is never
        # written anywhere (domain.md §4): what is stored, the values and the
        # files all come from the rebuilt minimal record, which names none.
        minimal = intake.minimal_record(root, schema, facts)
        xml = minimal.xml
        info, root = parse_instance(xml)
    values = extract_values(root, schema)
    rules.stamp_facts(values, facts)
    expected = {} if minimal else _expected(root, schema)
    sha = hashlib.sha256(xml).hexdigest()
    dropped = len(upload.parts) if minimal else 0
    return _Prepared(xml, sha, info, values, expected, facts, minimal, dropped)


def ingest_submission(
    session: Session,
    store: BlobStore,
    *,
    project_id: int,
    upload: Upload,
    actor: Actor,
    expected_xml_form_id: str | None = None,
    limits: SubmissionLimits = DEFAULT_LIMITS,
) -> IngestResult:
    """Store one submission POST.

    Raises:
        InstanceInvalidError: malformed XML, DOCTYPE/entities, not UTF-8, no form id.
        InstanceIdMissingError: no meta/instanceID.
        InvalidInputError: root id differs from the URL's; and the refusals of
            `app.submissions.checks` (parts, limits, node types, identifiers,
            file names and contents, encrypted envelopes).
        FormNotFoundError, FormVersionNotFoundError: unknown form or version.
        PermissionDeniedError: the actor may not submit to this form.
        KnowledgeEditRefusedError: an edit opens a governed record up and the
            actor does not guard its ayllu.
        FormClosedError: the form is closed.
        SubmissionConflictError, SubmissionDeletedError: §4.4 conflicts.
        DeprecatedIdNotFoundError: an edit of an unknown instance.
    """
    checks.check_xml_parts(upload.xml_content_types)
    checks.check_part_names(upload.received_names(), limits)
    info, root = parse_instance(upload.xml)
    checks.check_tree(root, limits)
    checks.check_instance_id(info.instance_id, limits)
    checks.check_instance_id(info.deprecated_id, limits, label="deprecatedID")
    form = _find_form(session, project_id, info, expected_xml_form_id)
    permissions.require(
        actor, "submission.create", permissions.Form(project_id, form.id)
    )
    if not is_live(session, actor):
        raise PermissionDeniedError(
            "Su acceso fue revocado: no se guardó nada.",
            "Your access was revoked: nothing was stored.",
        )
    if form.state == "closed":
        raise FormClosedError()
    form_version = forms_service.get_version(session, form, info.version)
    checks.check_envelope(root, form_encrypted=forms_service.is_encrypted(form_version))
    prepared = _prepare(
        upload,
        forms_service.schema_of(form_version),
        info,
        root,
        form_is_governed(session, form.id),
    )
    if not prepared.info.instance_id:
        raise InstanceIdMissingError()
    checks.check_contents(
        {
            name: (kinds, stream)
            for name, kinds in prepared.expected.items()
            if (stream := _part_for(upload, name)) is not None
        }
    )
    try:
        with session.begin_nested():
            result = _store(session, store, form, form_version, prepared, upload, actor)
    except IntegrityError:
        # Another worker stored this instanceID between our look-up and insert;
        # it is now a resend of a stored record (identical XML) or a conflict.
        result = _store(session, store, form, form_version, prepared, upload, actor)
    return dataclasses.replace(result, ignored=_unnamed(upload, prepared))


def edit_submission(
    session: Session,
    store: BlobStore,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    upload: Upload,
    actor: Actor,
    limits: SubmissionLimits = DEFAULT_LIMITS,
) -> IngestResult:
    """Store a new version of the submission `instance_id` (its first
    instanceID), as Central's `PUT …/submissions/<instanceId>`: the XML names
    the current version in `meta/deprecatedID` and brings a new instanceID.
    Everything else is ingest's, governance included.

    Raises (beyond `ingest_submission`'s):
        ExpectedDeprecationError: the XML has no deprecatedID (400.19).
        SubmissionNotFoundError: no live submission `instance_id` (404.1).
        DeprecatingOldSubmissionError: deprecatedID is not the current
            version (409.9).
        InstanceIdConflictError: the new instanceID is already taken (409.8).
    """
    info, _root = parse_instance(upload.xml)
    form = _find_form(session, project_id, info, xml_form_id)
    if not info.deprecated_id:
        raise ExpectedDeprecationError()
    permissions.require(
        actor, "submission.create", permissions.Form(project_id, form.id)
    )
    submission = get_submission(session, form, instance_id)
    if submission is None or submission.deleted_at is not None:
        raise SubmissionNotFoundError()
    current = session.get(SubmissionVersion, submission.current_version_id)
    if current is None or current.instance_id != info.deprecated_id:
        raise _out_of_date(deprecated_id=info.deprecated_id)
    if info.instance_id and _version_by_instance(session, form, info.instance_id):
        raise InstanceIdConflictError()
    return ingest_submission(
        session,
        store,
        project_id=project_id,
        upload=upload,
        actor=actor,
        expected_xml_form_id=xml_form_id,
        limits=limits,
    )


def _unnamed(upload: Upload, prepared: _Prepared) -> tuple[str, ...]:
    """Files of the POST the record does not name (a minimal record names
    none: those are counted in its audit entry, not reported as strays)."""
    if prepared.minimal is not None:
        return ()
    return tuple(
        name
        for name, filename in upload.received_names()
        if name not in prepared.expected and filename not in prepared.expected
    )


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
            raise _out_of_date(deprecated_id=deprecated_id)
    change = _check_edit(form, previous, prepared, actor)
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
        submitter_user_id=actor.user_id,
        submitter_app_user_id=actor.app_user_id,
        device_id=_clip(upload.device_id),
        user_agent=_clip(upload.user_agent),
    )
    session.add(version)
    session.flush()
    blobs: dict[str, int | None] = {}
    if previous is not None:
        previous.current = False
        if change is None or change.level is None:
            # Attachments the edit still names carry over; new parts replace
            # them. Never across a change of level: a file kept under one
            # level must not be published by an edit naming it under another.
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
    _audit_ingest(session, submission, version, prepared, actor, previous, change)
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
        submitter_user_id=actor.user_id,
        submitter_app_user_id=actor.app_user_id,
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
        # Central's deprecatingOldSubmission, keyed by the resent instanceID.
        raise _out_of_date(instance_id=existing.instance_id)
    if existing.xml_sha256 != prepared.sha256:
        raise SubmissionConflictError()
    present = _upsert_attachments(session, store, existing, prepared, upload)
    return IngestResult(submission, existing, "merged", present, len(prepared.expected))


def _out_of_date(**ids: str) -> DeprecatingOldSubmissionError:
    """Central's 409.9: the copy edited or resent is no longer the current one."""
    (key, value), *_ = ids.items()
    return DeprecatingOldSubmissionError(
        f"La copia que estaba editando ({value}) ya no está al día: otra persona "
        "la editó. Descargue la versión actual y vuelva a editarla.",
        f"You tried to update a submission, but the copy you were editing "
        f"({value}) is now out of date. Please get the new version that has been "
        "submitted, and make your edits again.",
        details={"deprecatedId" if key == "deprecated_id" else "instanceId": value},
    )


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


def _check_edit(
    form: Form,
    previous: SubmissionVersion | None,
    prepared: _Prepared,
    actor: Actor,
) -> intake.FactsChange | None:
    """How an edit changes a governed record, once the actor may make it.

    Raises: KnowledgeEditRefusedError (domain.md §4: opening a record up
    needs a guardian of its ayllu; an app user never is one).
    """
    if previous is None or prepared.facts is None:
        return None
    old = rules.facts_from_values(previous.field_values or {})
    change = intake.compare(old, prepared.facts)
    if change.opens_up:
        # The record's custody decides: its ayllu before the edit (or, for a
        # record that had none, the one the edit gives it).
        ayllu = old.ayllu if old.ayllu is not None else prepared.facts.ayllu
        target = permissions.Ayllu(form.project_id, ayllu)
        if not permissions.can(actor, "knowledge.guard", target):
            raise KnowledgeEditRefusedError()
    return change


def _audit_ingest(
    session: Session,
    submission: Submission,
    version: SubmissionVersion,
    prepared: _Prepared,
    actor: Actor,
    previous: SubmissionVersion | None,
    change: intake.FactsChange | None,
) -> None:
    def entry(action: str, **details: Any) -> None:
        audit.record(
            session,
            action,
            by=actor,
            target_type="submission",
            target_id=submission.id,
            instance_id=version.instance_id,
            **details,
        )

    entry("submission.update" if previous is not None else "submission.create")
    if change is not None:
        # Each change of what governs the record is its own entry: who, old, new.
        if change.level:
            entry("submission.update.access_level", **_from_to(change.level))
        for layer, pair in (
            ("colectivo", change.collective),
            ("individual", change.individual),
        ):
            if pair:
                entry("submission.update.consent", layer=layer, **_from_to(pair))
        if change.ayllu:
            entry("submission.update.ayllu", **_from_to(change.ayllu))
    if prepared.minimal is not None:
        # The form's own questions are named; anything else is only counted,
        # since element names chosen by the sender could carry content too.
        facts = prepared.facts
        entry(
            "submission.content_dropped",
            reason="sagrado" if facts and facts.level == "sagrado" else "consent",
            fields=list(prepared.minimal.dropped_fields),
            other=prepared.minimal.dropped_other,
            files=prepared.files_dropped,
        )
    session.flush()


def _from_to(pair: tuple[Any, Any]) -> dict[str, Any]:
    return {"from": pair[0], "to": pair[1]}


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
