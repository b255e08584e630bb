"""Forms as ODK Central's API handles them: creating a form (as a draft, or
published at once), a form's draft and its publication, the media slots of
each version, a form's state, deleting and restoring it.

Central's rules, kept here so every caller gets them (its
`lib/resources/forms.js` and `lib/model/query/forms.js`):

- A new form is a draft until published; a form with only a draft is
  invisible to Collect (`list_forms` and `current_version` only know
  published versions) and readable only by those who may update it.
- A draft is replaced by the next one; publishing makes it the version
  Collect downloads, refused (409.6) when the project ever published that
  form id with that version string, deleted forms included: tablets tell
  versions apart by it.
- The files a version expects are the ones its XForm names
  (`xform.expected_attachments`); a new draft carries over the files of the
  draft it replaces (or else of the published version) whose name and kind
  it still expects, so publishing keeps them unless a new file was uploaded.
- XLSForm warnings, a deleted form with the same id and fields a new
  version drops are refused as warnings (400.16) unless the client says
  `ignoreWarnings`.

Checks come before any write, and a workbook's or a file's bytes reach the
blob store only once nothing can refuse them any more. Services take the
session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions
from app.blobs import BlobStore, save_blob
from app.db.models import Blob, Form, FormAttachment, FormVersion, User
from app.db.types import utcnow
from app.forms import service
from app.forms.compiler import compile_xlsform
from app.forms.errors import (
    DefinitionMissingError,
    DraftNotFoundError,
    FormAttachmentNotFoundError,
    FormExistsError,
    FormIdInvalidError,
    FormIdTooLongError,
    FormNotFoundError,
    FormVersionConflictError,
    FormWarningsError,
    MetaMissingError,
    NoPublishedVersionError,
)
from app.forms.xform import (
    ExpectedAttachment,
    FormSchema,
    central_fields,
    expected_attachments,
    odata_fields,
    parse_xform,
    set_version,
)
from app.projects import service as projects_service

if TYPE_CHECKING:
    from app.auth.actors import Actor

EXCEL_SUFFIXES = {
    service.XLSX_CONTENT_TYPE: ".xlsx",
    service.XLS_CONTENT_TYPE: ".xls",
}
# Central's `forms.xmlFormId` holds 64 characters (400.13 beyond).
MAX_FORM_ID_LENGTH = 64
# Central's own name for the empty version string in a URL.
EMPTY_VERSION = "___"
# Fields whose disappearance is no structural change (Central's list).
_STRUCTURE_EXEMPT = ("/meta", "/meta/entity", "/meta/entity/label")


# --- What the API shows ----------------------------------------------------------


@dataclass(frozen=True)
class FormView:
    """A form with the version a response describes (published, draft, or
    an older published one), plus what the extended shape adds."""

    form: Form
    version: FormVersion | None
    draft: bool = False
    created_by: User | None = None
    published_by: User | None = None
    excel_content_type: str | None = None
    # What the extended shape counts (the edge asks governance for it).
    stats: Any = None

    def __getattr__(self, name: str) -> Any:
        # The form's own attributes (project_id, xml_form_id, state…), so a
        # view dumps like a form.
        return getattr(self.form, name)


@dataclass(frozen=True)
class AttachmentSlot:
    """A file a version expects or carries: Central's FormAttachment."""

    name: str
    type: str
    blob: Blob | None
    content_type: str | None
    updated_at: datetime | None

    @property
    def exists(self) -> bool:
        return self.blob is not None


@dataclass(frozen=True)
class Definition:
    """A form definition as a client sent it, read and checked: the XForm
    (compiled when a workbook came), its schema, pyxform's warnings and the
    workbook itself."""

    xml: bytes
    schema: FormSchema
    warnings: tuple[str, ...] = ()
    xlsform: bytes | None = None
    xlsform_content_type: str | None = None


def excel_suffix(content_type: str | None) -> str | None:
    """`.xlsx`/`.xls` when the media type is a workbook's, else None."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return EXCEL_SUFFIXES.get(media)


def read_definition(
    data: bytes, content_type: str | None, *, form_id_fallback: str | None = None
) -> Definition:
    """An XForm, or an XLSForm compiled by pyxform, as Central reads a body:
    a workbook when the media type says so, XML otherwise.

    Raises: XFormUnparseableError (400.1), XFormIncompleteError (400.2),
    XlsFormInvalidError (400.15).
    """
    suffix = excel_suffix(content_type)
    if suffix is None:
        return Definition(xml=data, schema=parse_xform(data))
    media = (content_type or "").split(";", 1)[0].strip().lower()
    compiled = compile_xlsform(
        data, filename=f"form{suffix}", form_id_fallback=form_id_fallback or "form"
    )
    return Definition(
        xml=compiled.xml,
        schema=parse_xform(compiled.xml),
        warnings=compiled.warnings,
        xlsform=data,
        xlsform_content_type=media,
    )


# --- Finding forms and what they show ------------------------------------------------


def get_live_form(session: Session, project_id: int, xml_form_id: str) -> Form:
    """Raises: FormNotFoundError (404.1)."""
    return service.get_form(session, project_id, xml_form_id)


def _open_forms_only(actor: Actor | None) -> bool:
    """An app user reads the forms it fills, and only while they accept data
    (Central gives app users `open_form.read`, not `form.read`)."""
    return bool(getattr(actor, "is_app_user", False))


def may_read(actor: Actor | None, form: Form) -> bool:
    """Central's `canReadForm`: a form with only a draft is for those who may
    update it; a closed one is not for an app user; otherwise `form.read`."""
    target = permissions.Form(form.project_id, form.id)
    if form.current_version_id is None:
        return permissions.can(actor, "form.update", target)
    if form.state == "closed" and _open_forms_only(actor):
        return False
    return permissions.can(actor, "form.read", target)


def require_readable(actor: Actor | None, form: Form) -> None:
    """Raises: PermissionDeniedError (403.1) unless `may_read`."""
    if not may_read(actor, form):
        verb = "form.update" if form.current_version_id is None else "form.read"
        raise permissions.PermissionRefusedError(verb=verb)


def require_updatable(actor: Actor | None, form: Form) -> None:
    """Raises: PermissionDeniedError (403.1)."""
    permissions.require(
        actor, "form.update", permissions.Form(form.project_id, form.id)
    )


def shown_version(session: Session, form: Form) -> FormVersion | None:
    """The published version, or else the draft (Central's `AnyVersion`)."""
    version_id = form.current_version_id or form.draft_version_id
    return session.get(FormVersion, version_id) if version_id is not None else None


def view(
    session: Session,
    form: Form,
    version: FormVersion | None = None,
    *,
    extended: bool = False,
) -> FormView:
    """The form as a response shows it, with `version` (default: the one
    Central shows) and, extended, who created it and its workbook's type."""
    version = version if version is not None else shown_version(session, form)
    draft = version is not None and version.published_at is None
    if not extended:
        return FormView(form, version, draft)
    return FormView(
        form,
        version,
        draft,
        created_by=_user(session, form.created_by_id),
        published_by=_user(session, version.published_by_id) if version else None,
        excel_content_type=_blob_type(session, version.xlsform_blob_id)
        if version
        else None,
    )


def _user(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


def _blob_type(session: Session, blob_id: int | None) -> str | None:
    if blob_id is None:
        return None
    return session.scalar(sa.select(Blob.content_type).where(Blob.id == blob_id))


def list_forms_for(
    session: Session, project_id: int, actor: Actor | None, *, deleted: bool = False
) -> list[Form]:
    """The project's forms this actor may see, by name (Central's list):
    forms with only a draft for those who may update them, published ones
    for those who may read them. `deleted` lists the trash instead.

    Raises: ProjectNotFoundError, PermissionDeniedError.
    """
    projects_service.get_project(session, project_id)
    permissions.require(actor, "form.list", permissions.Project(project_id))
    shown = sa.func.coalesce(Form.current_version_id, Form.draft_version_id)
    stmt = (
        sa.select(Form, FormVersion.title)
        .outerjoin(FormVersion, FormVersion.id == shown)
        .where(
            Form.project_id == project_id,
            Form.deleted_at.is_not(None) if deleted else Form.deleted_at.is_(None),
        )
        .order_by(sa.func.coalesce(FormVersion.title, Form.xml_form_id), Form.id)
    )
    return [form for form, _title in session.execute(stmt) if may_read(actor, form)]


def published_version(session: Session, form: Form, version: str) -> FormVersion:
    """A published version by its string (`___` for the empty one).

    Raises: FormNotFoundError (404.1).
    """
    wanted = "" if version == EMPTY_VERSION else version
    found = session.scalars(
        sa.select(FormVersion)
        .where(
            FormVersion.form_id == form.id,
            FormVersion.version == wanted,
            FormVersion.published_at.is_not(None),
        )
        .order_by(FormVersion.published_at.desc(), FormVersion.id.desc())
    ).first()
    if found is None:
        raise FormNotFoundError(
            "El formulario no tiene esa versión.", "The form has no such version."
        )
    return found


def published_versions(session: Session, form: Form) -> list[FormVersion]:
    """Every published version, the newest publication first."""
    return list(
        session.scalars(
            sa.select(FormVersion)
            .where(
                FormVersion.form_id == form.id, FormVersion.published_at.is_not(None)
            )
            .order_by(FormVersion.published_at.desc(), FormVersion.id.desc())
        )
    )


def draft_of(session: Session, form: Form) -> FormVersion:
    """Raises: DraftNotFoundError (404.1)."""
    if form.draft_version_id is None:
        raise DraftNotFoundError()
    draft = session.get(FormVersion, form.draft_version_id)
    if draft is None:
        raise DraftNotFoundError()
    return draft


def current_of(session: Session, form: Form) -> FormVersion:
    """The published version, or the draft of a form never published (what
    Central's `/forms/{id}` resources read).

    Raises: FormNotFoundError.
    """
    version = shown_version(session, form)
    if version is None:
        raise FormNotFoundError()
    return version


def fields_of(version: FormVersion, *, odata: bool = False) -> list[dict[str, Any]]:
    """Central's `/fields` of a version (`odata`: names as OData writes them)."""
    found = central_fields(version.xml)
    return odata_fields(found) if odata else found


def workbook_of(session: Session, version: FormVersion, suffix: str) -> Blob:
    """The workbook the version was made from, if it was one of that kind.

    Raises: FormNotFoundError (404.1): the version came as XML, or as the
    other kind of workbook.
    """
    blob = (
        session.get(Blob, version.xlsform_blob_id)
        if version.xlsform_blob_id is not None
        else None
    )
    if blob is None or excel_suffix(blob.content_type) != suffix:
        raise FormNotFoundError(
            "El formulario no se creó desde un libro de ese tipo.",
            "The form was not created from a workbook of that kind.",
        )
    return blob


# --- Media slots ---------------------------------------------------------------------


def _kind_of(content_type: str | None) -> str:
    major = (content_type or "").split("/", 1)[0].strip().lower()
    return major if major in ("image", "audio", "video") else "file"


def _expected(xml: bytes) -> dict[str, ExpectedAttachment]:
    """The files the XForm names that a manifest can carry, by name (the
    first kind named wins when one name is named twice)."""
    found: dict[str, ExpectedAttachment] = {}
    for attachment in expected_attachments(xml):
        if service.media_name_problem(attachment.name) is None:
            found.setdefault(attachment.name, attachment)
    return found


def attachment_slots(session: Session, version: FormVersion) -> list[AttachmentSlot]:
    """The files the version expects, uploaded or not, and those uploaded
    beside them, by name."""
    expected = _expected(version.xml)
    rows = {
        row.name: row
        for row in session.scalars(
            sa.select(FormAttachment).where(
                FormAttachment.form_version_id == version.id
            )
        )
    }
    blob_ids = [row.blob_id for row in rows.values() if row.blob_id is not None]
    blobs = (
        {
            blob.id: blob
            for blob in session.scalars(sa.select(Blob).where(Blob.id.in_(blob_ids)))
        }
        if blob_ids
        else {}
    )
    names = set(expected) | {
        name
        for name, row in rows.items()
        if row.blob_id is not None and service.media_name_problem(name) is None
    }
    slots = []
    for name in sorted(names):
        row = rows.get(name)
        blob = blobs.get(row.blob_id) if row is not None and row.blob_id else None
        kind = (
            expected[name].type
            if name in expected
            else _kind_of(row and row.content_type)
        )
        slots.append(
            AttachmentSlot(
                name=name,
                type=kind,
                blob=blob,
                content_type=row.content_type if row is not None else None,
                updated_at=row.updated_at if row is not None else None,
            )
        )
    return slots


def attachment_slot(
    session: Session, version: FormVersion, name: str
) -> AttachmentSlot:
    """Raises: FormAttachmentNotFoundError (404.1)."""
    for slot in attachment_slots(session, version):
        if slot.name == name:
            return slot
    raise FormAttachmentNotFoundError()


def attachment_file(
    session: Session, version: FormVersion, name: str
) -> tuple[Blob, str]:
    """An uploaded file of the version and the media type it was sent with.

    Raises: FormAttachmentNotFoundError (404.1): not expected, or not uploaded.
    """
    slot = attachment_slot(session, version, name)
    if slot.blob is None:
        raise FormAttachmentNotFoundError()
    content_type = slot.content_type or slot.blob.content_type
    return slot.blob, content_type


def default_content_type(name: str) -> str:
    """Central's `defaultMimetypeFor`: by extension, else a plain binary."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _carry_attachments(
    session: Session, source: FormVersion | None, target: FormVersion, xml: bytes
) -> None:
    """Copy into `target` the files of `source` it still expects, same name
    and same kind, with their upload time (Central's `createVersion`)."""
    if source is None:
        return
    expected = _expected(xml)
    for slot in attachment_slots(session, source):
        wanted = expected.get(slot.name)
        if wanted is None or wanted.type != slot.type or slot.blob is None:
            continue
        session.add(
            FormAttachment(
                form_version_id=target.id,
                name=slot.name,
                content_type=slot.content_type or slot.blob.content_type,
                blob_id=slot.blob.id,
                updated_at=slot.updated_at or utcnow(),
            )
        )
    session.flush()


def upload_draft_attachment(
    session: Session,
    store: BlobStore,
    *,
    form: Form,
    name: str,
    stream: IO[bytes],
    content_type: str | None,
    actor: Actor | None,
) -> AttachmentSlot:
    """Set the file of one of the draft's expected media.

    Raises: PermissionDeniedError, DraftNotFoundError,
    FormAttachmentNotFoundError (a name the draft's XForm does not name, or
    one no manifest could carry).
    """
    require_updatable(actor, form)
    draft = draft_of(session, form)
    if service.media_name_problem(name) is not None or name not in _expected(draft.xml):
        raise FormAttachmentNotFoundError(
            "El borrador no espera un archivo con ese nombre.",
            "The draft does not expect a file with that name.",
        )
    media = (content_type or "").strip() or default_content_type(name)
    blob = save_blob(session, store, stream, media)
    row = session.scalars(
        sa.select(FormAttachment).where(
            FormAttachment.form_version_id == draft.id, FormAttachment.name == name
        )
    ).first()
    old_blob_id = row.blob_id if row is not None else None
    if row is None:
        row = FormAttachment(form_version_id=draft.id, name=name)
        session.add(row)
    row.content_type = media[:255]
    row.blob_id = blob.id
    row.updated_at = utcnow()
    form.updated_at = utcnow()
    session.flush()
    _audit(
        session,
        "form.attachment.update",
        form,
        actor,
        formDefId=draft.id,
        name=name,
        oldBlobId=old_blob_id,
        newBlobId=blob.id,
    )
    return attachment_slot(session, draft, name)


def clear_draft_attachment(
    session: Session, *, form: Form, name: str, actor: Actor | None
) -> None:
    """Take the file out of one of the draft's media slots.

    Raises: PermissionDeniedError, DraftNotFoundError,
    FormAttachmentNotFoundError (no such slot, or no file in it).
    """
    require_updatable(actor, form)
    draft = draft_of(session, form)
    row = session.scalars(
        sa.select(FormAttachment).where(
            FormAttachment.form_version_id == draft.id, FormAttachment.name == name
        )
    ).first()
    if row is None or row.blob_id is None:
        raise FormAttachmentNotFoundError()
    old_blob_id = row.blob_id
    row.blob_id = None
    row.updated_at = utcnow()
    session.flush()
    _audit(
        session,
        "form.attachment.update",
        form,
        actor,
        formDefId=draft.id,
        name=name,
        oldBlobId=old_blob_id,
        newBlobId=None,
    )


# --- Checks before anything is written --------------------------------------------


def _check_new_form(definition: Definition) -> None:
    """Central's checks of a new form's id and meta group.

    Raises: FormIdInvalidError (400.8), FormIdTooLongError (400.13),
    MetaMissingError (400.27).
    """
    xml_form_id = definition.schema.xml_form_id
    if xml_form_id.lower().endswith((".xml", ".xls", ".xlsx")):
        raise FormIdInvalidError(
            f"El ID del formulario «{xml_form_id}» no puede terminar en .xls, "
            ".xlsx o .xml: indique otro ID en el formulario o cambie el nombre "
            "del archivo.",
            f"Unexpected formId value {xml_form_id}; The Form ID cannot end in "
            ".xls, .xlsx, or .xml. Please either specify an allowed ID in the form "
            "itself, or rename the file (eg change form.xls.xls to form.xls).",
            details={
                "field": "formId",
                "value": xml_form_id,
                "reason": "The Form ID cannot end in .xls, .xlsx, or .xml.",
            },
        )
    if len(xml_form_id) > MAX_FORM_ID_LENGTH:
        raise FormIdTooLongError(
            f"El ID del formulario tiene más de {MAX_FORM_ID_LENGTH} caracteres.",
            "Length of value too long for a field",
            details={"maxLength": MAX_FORM_ID_LENGTH},
        )
    fields = central_fields(definition.xml)
    if not any(f["name"] == "meta" and f["type"] == "structure" for f in fields):
        raise MetaMissingError()


def _raise_warnings(warnings: dict[str, list[Any]]) -> None:
    if warnings:
        lines = [str(w) for w in warnings.get("xlsFormWarnings", [])]
        raise FormWarningsError(details={"warnings": warnings}, warnings=lines)


def _removed_fields(session: Session, form: Form, xml: bytes) -> list[str]:
    """Names of the fields of the published version the new XForm drops
    (Central's `structureChanged` warning)."""
    if form.current_version_id is None:
        return []
    current = session.get(FormVersion, form.current_version_id)
    if current is None:
        return []
    new_paths = {f["path"] for f in central_fields(xml)}
    return [
        f["name"]
        for f in central_fields(current.xml)
        if f["path"] not in new_paths and not f["path"].endswith(_STRUCTURE_EXEMPT)
    ]


def _deleted_form_exists(session: Session, project_id: int, xml_form_id: str) -> bool:
    return (
        session.scalar(
            sa.select(Form.id)
            .where(
                Form.project_id == project_id,
                Form.xml_form_id == xml_form_id,
                Form.deleted_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def _check_version_free(
    session: Session, project_id: int, xml_form_id: str, version: str
) -> None:
    """Raises: FormVersionConflictError (409.6) when the project ever
    published this form id with this version, deleted forms included."""
    taken = session.scalar(
        sa.select(FormVersion.id)
        .join(Form, Form.id == FormVersion.form_id)
        .where(
            Form.project_id == project_id,
            Form.xml_form_id == xml_form_id,
            FormVersion.version == version,
            FormVersion.published_at.is_not(None),
        )
        .limit(1)
    )
    if taken is not None:
        raise _version_conflict(xml_form_id, version)


def _version_conflict(xml_form_id: str, version: str) -> FormVersionConflictError:
    return FormVersionConflictError(
        f"El formulario «{xml_form_id}» ya se publicó con la versión «{version}» "
        "en este proyecto: publíquelo con otra versión.",
        f"You tried to publish the form '{xml_form_id}' with version '{version}', "
        "but a published form has already existed in this project with those "
        "identifiers.",
        details={"xmlFormId": xml_form_id, "version": version},
    )


def _form_exists(project_id: int, xml_form_id: str) -> FormExistsError:
    return FormExistsError(
        f"Ya existe un formulario «{xml_form_id}» en este proyecto.",
        f"A resource already exists with projectId,xmlFormId value(s) of "
        f"{project_id},{xml_form_id}.",
        details={
            "fields": ["projectId", "xmlFormId"],
            "values": [str(project_id), xml_form_id],
        },
    )


# --- Writing --------------------------------------------------------------------


def _new_version(
    session: Session,
    store: BlobStore,
    form: Form,
    definition: Definition,
    actor: Actor | None,
    *,
    xlsform_blob_id: int | None = None,
) -> FormVersion:
    if definition.xlsform is not None:
        xlsform_blob_id = save_blob(
            session,
            store,
            io.BytesIO(definition.xlsform),
            definition.xlsform_content_type or service.XLSX_CONTENT_TYPE,
        ).id
    schema = definition.schema
    version = FormVersion(
        form_id=form.id,
        version=schema.version,
        title=schema.title or schema.xml_form_id,
        xml=definition.xml,
        md5=service._md5(definition.xml),
        sha1=service._sha1(definition.xml),
        sha256=service._sha256(definition.xml),
        xlsform_blob_id=xlsform_blob_id,
        field_schema=schema.to_json(),
        created_by_id=actor.user_id if actor is not None else None,
    )
    session.add(version)
    session.flush()
    return version


def _flush_new_form(session: Session, form: Form) -> None:
    try:
        with session.begin_nested():
            session.add(form)
            session.flush()
    except IntegrityError as exc:
        # Another request created this id meanwhile (uq_forms_live_xml_form_id).
        raise _form_exists(form.project_id, form.xml_form_id) from exc


def check_may_create(session: Session, project_id: int, actor: Actor | None) -> None:
    """Raises: ProjectNotFoundError (404.1), PermissionDeniedError (403.1)."""
    projects_service.get_project(session, project_id)
    permissions.require(actor, "form.create", permissions.Project(project_id))


def create_form(
    session: Session,
    store: BlobStore,
    *,
    project_id: int,
    definition: Definition,
    publish: bool = False,
    ignore_warnings: bool = False,
    actor: Actor | None,
) -> Form:
    """A new form, as a draft (Central's default) or published at once.

    Raises: ProjectNotFoundError, PermissionDeniedError, FormIdInvalidError,
    FormIdTooLongError, MetaMissingError, FormWarningsError (400.16),
    FormExistsError (409.3), FormVersionConflictError (409.6).
    """
    check_may_create(session, project_id, actor)
    _check_new_form(definition)
    schema = definition.schema
    if not ignore_warnings:
        warnings: dict[str, list[Any]] = {}
        if definition.warnings:
            warnings["xlsFormWarnings"] = list(definition.warnings)
        if _deleted_form_exists(session, project_id, schema.xml_form_id):
            warnings["workflowWarnings"] = [
                {
                    "type": "deletedFormExists",
                    "details": {"xmlFormId": schema.xml_form_id},
                }
            ]
        _raise_warnings(warnings)
    if service.find_form(session, project_id, schema.xml_form_id) is not None:
        raise _form_exists(project_id, schema.xml_form_id)
    if publish:
        _check_version_free(session, project_id, schema.xml_form_id, schema.version)
    form = Form(
        project_id=project_id,
        xml_form_id=schema.xml_form_id,
        title=schema.title or schema.xml_form_id,
        state="open",
        created_by_id=actor.user_id if actor is not None else None,
        created_at=utcnow(),
    )
    _flush_new_form(session, form)
    version = _new_version(session, store, form, definition, actor)
    form.draft_version_id = version.id
    session.flush()
    _audit(session, "form.create", form, actor)
    if publish:
        # Published as it is created: Central dates the publication with the
        # creation and leaves updatedAt empty.
        _publish(session, form, version, actor, at=form.created_at, touch=False)
    return form


def create_draft(
    session: Session,
    store: BlobStore,
    *,
    form: Form,
    definition: Definition | None,
    ignore_warnings: bool = False,
    actor: Actor | None,
) -> FormVersion:
    """Set the form's draft: a new definition, or (none given) a copy of the
    published version, workbook included. It replaces the draft there was.

    Raises: PermissionDeniedError, DefinitionMissingError (no definition and
    nothing published), FormIdInvalidError (another form's XForm),
    FormWarningsError (400.16).
    """
    require_updatable(actor, form)
    xlsform_blob_id = None
    if definition is None:
        if form.current_version_id is None:
            raise DefinitionMissingError(details={"field": "xml"})
        published = service.current_version(session, form)
        definition = Definition(xml=published.xml, schema=service.schema_of(published))
        xlsform_blob_id = published.xlsform_blob_id
    else:
        schema = definition.schema
        if schema.xml_form_id != form.xml_form_id:
            raise FormIdInvalidError(
                f"El XForm es del formulario «{schema.xml_form_id}», no de "
                f"«{form.xml_form_id}».",
                f"Unexpected xmlFormId value {schema.xml_form_id}; does not match "
                "the form you are updating",
                details={
                    "field": "xmlFormId",
                    "value": schema.xml_form_id,
                    "reason": "does not match the form you are updating",
                },
            )
        if not ignore_warnings:
            warnings: dict[str, list[Any]] = {}
            if definition.warnings:
                warnings["xlsFormWarnings"] = list(definition.warnings)
            removed = _removed_fields(session, form, definition.xml)
            if removed:
                warnings["workflowWarnings"] = [
                    {"type": "structureChanged", "details": removed}
                ]
            _raise_warnings(warnings)
    old_draft = (
        session.get(FormVersion, form.draft_version_id)
        if form.draft_version_id is not None
        else None
    )
    source = old_draft or (
        session.get(FormVersion, form.current_version_id)
        if form.current_version_id is not None
        else None
    )
    version = _new_version(
        session, store, form, definition, actor, xlsform_blob_id=xlsform_blob_id
    )
    _carry_attachments(session, source, version, definition.xml)
    form.draft_version_id = version.id
    if form.current_version_id is None:
        # A form never published is named by its draft (Central).
        form.title = version.title
    form.updated_at = utcnow()
    session.flush()
    if old_draft is not None:
        _discard(session, old_draft)
    _audit(
        session,
        "form.update.draft.set",
        form,
        actor,
        oldDraftDefId=old_draft.id if old_draft is not None else None,
        newDraftDefId=version.id,
    )
    return version


def _discard(session: Session, draft: FormVersion) -> None:
    """Delete a draft nobody points at any more, with its media slots."""
    session.execute(
        sa.delete(FormAttachment).where(FormAttachment.form_version_id == draft.id)
    )
    session.delete(draft)
    session.flush()


def delete_draft(session: Session, *, form: Form, actor: Actor | None) -> None:
    """Discard the draft of a published form.

    Raises: PermissionDeniedError, NoPublishedVersionError (409.7: the
    draft is all the form has), DraftNotFoundError.
    """
    require_updatable(actor, form)
    if form.current_version_id is None:
        raise NoPublishedVersionError()
    draft = draft_of(session, form)
    form.draft_version_id = None
    session.flush()
    _discard(session, draft)
    _audit(session, "form.update.draft.delete", form, actor, oldDraftDefId=draft.id)


def publish_draft(
    session: Session, *, form: Form, version: str | None = None, actor: Actor | None
) -> FormVersion:
    """Make the draft the version Collect downloads, under `version` when
    given (the XForm's version attribute is set to it).

    Raises: PermissionDeniedError, DraftNotFoundError,
    FormVersionConflictError (409.6).
    """
    require_updatable(actor, form)
    draft = draft_of(session, form)
    if version is not None and version != "":
        xml = set_version(draft.xml, version)
        schema = parse_xform(xml)
        draft.xml = xml
        draft.version = schema.version
        draft.md5 = service._md5(xml)
        draft.sha1 = service._sha1(xml)
        draft.sha256 = service._sha256(xml)
        draft.field_schema = schema.to_json()
        session.flush()
    _check_version_free(session, form.project_id, form.xml_form_id, draft.version)
    _publish(session, form, draft, actor, at=utcnow(), touch=True)
    return draft


def _publish(
    session: Session,
    form: Form,
    version: FormVersion,
    actor: Actor | None,
    *,
    at: datetime,
    touch: bool,
) -> None:
    old = form.current_version_id
    version.published_at = at
    version.published_by_id = actor.user_id if actor is not None else None
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        # Published meanwhile by another request (uq_form_versions_published_version).
        raise _version_conflict(form.xml_form_id, version.version) from exc
    form.current_version_id = version.id
    form.draft_version_id = None
    form.title = version.title
    if touch:
        form.updated_at = at
    session.flush()
    _audit(
        session, "form.update.publish", form, actor, oldDefId=old, newDefId=version.id
    )


def update_form(
    session: Session, *, form: Form, state: str | None, actor: Actor | None
) -> Form:
    """Change what Central lets a client change of a form: its state.

    Raises: PermissionDeniedError, FormStateInvalidError (400.8).
    """
    require_updatable(actor, form)
    if state is None:
        return form
    form.state = service.check_state(state)
    form.updated_at = utcnow()
    session.flush()
    _audit(session, "form.update", form, actor, data={"state": state})
    return form


def delete_form(session: Session, *, form: Form, actor: Actor | None) -> None:
    """Move the form to the trash: gone for Collect and the API, restorable.

    Raises: PermissionDeniedError.
    """
    permissions.require(
        actor, "form.delete", permissions.Form(form.project_id, form.id)
    )
    form.deleted_at = utcnow()
    session.flush()
    _audit(session, "form.delete", form, actor)


def restore_form(
    session: Session, *, project_id: int, form_id: int, actor: Actor | None
) -> Form:
    """Take a form out of the trash, by its numeric id (its xmlFormId may be
    taken again meanwhile).

    Raises: FormNotFoundError, PermissionDeniedError, FormExistsError (a
    live form has its id).
    """
    form = session.get(Form, form_id)
    if form is None or form.project_id != project_id or form.deleted_at is None:
        raise FormNotFoundError()
    permissions.require(actor, "form.restore", permissions.Form(project_id, form.id))
    if service.find_form(session, project_id, form.xml_form_id) is not None:
        raise _form_exists(project_id, form.xml_form_id)
    form.deleted_at = None
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise _form_exists(project_id, form.xml_form_id) from exc
    _audit(session, "form.restore", form, actor)
    return form


def _audit(
    session: Session, action: str, form: Form, actor: Actor | None, **details: Any
) -> None:
    audit.record(
        session,
        action,
        by=actor,
        target_type="form",
        target_id=f"{form.project_id}/{form.xml_form_id}",
        **details,
    )
