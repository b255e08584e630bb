"""The form registry: publishing XForms as versions, their media, their state,
and syncing the committed `forms/` directory into the default project.

Publishing is idempotent: the same XForm bytes again change nothing; changed
bytes become a new version, but only under a new version string, because
Collect decides whether a tablet's copy is current by id and version and by
the md5 hash (openrosa.md §3.1).
"""

from __future__ import annotations

import hashlib
import io
import logging
import mimetypes
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.blobs import BlobStore, save_blob
from app.db.models import Blob, Form, FormAttachment, FormVersion
from app.db.types import utcnow
from app.forms.compiler import CompiledForm, compile_xlsform
from app.forms.errors import (
    FormNotFoundError,
    FormStateInvalidError,
    FormVersionConflictError,
    FormVersionNotFoundError,
    MediaNameInvalidError,
)
from app.forms.xform import FormSchema, has_public_key, parse_xform

if TYPE_CHECKING:
    from app.auth.actors import Actor

log = logging.getLogger(__name__)

PublishStatus = Literal["created", "new_version", "media_updated", "unchanged"]
FORM_STATES = ("open", "closing", "closed")
XLSFORM_SUFFIXES = (".xlsx", ".xls")
MEDIA_DIR_SUFFIX = "-media"


@dataclass(frozen=True)
class PublishResult:
    form: Form
    version: FormVersion
    status: PublishStatus
    warnings: tuple[str, ...] = ()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha1(data: bytes) -> str:
    # Central's `sha` of a form version; an identity, not a security check.
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS_CONTENT_TYPE = "application/vnd.ms-excel"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def workbook_content_type(data: bytes) -> str:
    """The media type of a workbook's bytes: .xls (OLE2) or .xlsx (zip)."""
    return XLS_CONTENT_TYPE if data.startswith(_OLE2_MAGIC) else XLSX_CONTENT_TYPE


def find_form(session: Session, project_id: int, xml_form_id: str) -> Form | None:
    return session.scalars(
        sa.select(Form).where(
            Form.project_id == project_id,
            Form.xml_form_id == xml_form_id,
            Form.deleted_at.is_(None),
        )
    ).first()


def get_form(session: Session, project_id: int, xml_form_id: str) -> Form:
    """Raises: FormNotFoundError."""
    form = find_form(session, project_id, xml_form_id)
    if form is None:
        raise FormNotFoundError()
    return form


def current_version(session: Session, form: Form) -> FormVersion:
    """The published version tablets download. Raises: FormNotFoundError."""
    if form.current_version_id is None:
        raise FormNotFoundError()
    version = session.get(FormVersion, form.current_version_id)
    if version is None:
        raise FormNotFoundError()
    return version


def get_version(session: Session, form: Form, version: str) -> FormVersion:
    """A published version of the form by its version string.

    Raises: FormVersionNotFoundError.
    """
    found = session.scalars(
        sa.select(FormVersion).where(
            FormVersion.form_id == form.id,
            FormVersion.version == version,
            FormVersion.published_at.is_not(None),
        )
    ).first()
    if found is None:
        raise FormVersionNotFoundError(
            f"La versión del formulario indicada en este envío «{version}» no existe.",
            f"The form version specified in this submission '{version}' "
            "does not exist.",
        )
    return found


def list_forms(
    session: Session, project_id: int, *, states: Iterable[str] = FORM_STATES
) -> list[tuple[Form, FormVersion]]:
    """Published forms of a project in the given states, sorted by title."""
    rows = session.execute(
        sa.select(Form, FormVersion)
        .join(FormVersion, FormVersion.id == Form.current_version_id)
        .where(
            Form.project_id == project_id,
            Form.deleted_at.is_(None),
            Form.state.in_(list(states)),
        )
        .order_by(Form.title, Form.xml_form_id)
    ).all()
    return [(form, version) for form, version in rows]


_SCHEMAS: dict[tuple[int, str], FormSchema] = {}
_SCHEMA_CACHE_SIZE = 256


def schema_of(version: FormVersion) -> FormSchema:
    """The stored field schema of a version, parsed once per process.

    A form version is immutable (its sha256 names its bytes), so caching its
    parsed schema per process is safe with any number of workers.
    """
    key = (version.id, version.sha256)
    schema = _SCHEMAS.get(key)
    if schema is None:
        schema = _remember(key, FormSchema.from_json(version.field_schema))
    return schema


def version_schemas(session: Session, form_id: int) -> list[FormSchema]:
    """The schema of every version the form ever published, oldest first.

    Drafts are left out: nothing is ever recorded against a draft, and one
    discarded is gone. Reads only ids and hashes, and a version's stored
    schema only when this process has not parsed it yet: ingest asks this on
    every submission.
    """
    rows = session.execute(
        sa.select(FormVersion.id, FormVersion.sha256)
        .where(FormVersion.form_id == form_id, FormVersion.published_at.is_not(None))
        .order_by(FormVersion.id)
    ).all()
    found = []
    for version_id, sha in rows:
        schema = _SCHEMAS.get((version_id, sha))
        if schema is None:
            stored = session.scalar(
                sa.select(FormVersion.field_schema).where(FormVersion.id == version_id)
            )
            schema = _remember((version_id, sha), FormSchema.from_json(stored))
        found.append(schema)
    return found


_ENCRYPTED: dict[tuple[int, str], bool] = {}


def is_encrypted(version: FormVersion) -> bool:
    """Whether the version's XForm carries a public key: submissions to it
    come as encrypted envelopes (openrosa.md §7). Read once per process."""
    key = (version.id, version.sha256)
    found = _ENCRYPTED.get(key)
    if found is None:
        if len(_ENCRYPTED) >= _SCHEMA_CACHE_SIZE:
            _ENCRYPTED.clear()
        found = _ENCRYPTED[key] = has_public_key(version.xml)
    return found


def _remember(key: tuple[int, str], schema: FormSchema) -> FormSchema:
    if len(_SCHEMAS) >= _SCHEMA_CACHE_SIZE:
        _SCHEMAS.clear()
    _SCHEMAS[key] = schema
    return schema


def _attachments(session: Session, version_id: int) -> dict[str, FormAttachment]:
    rows = session.scalars(
        sa.select(FormAttachment).where(FormAttachment.form_version_id == version_id)
    )
    return {row.name: row for row in rows}


def _blob_sha(session: Session, blob_id: int | None) -> str | None:
    if blob_id is None:
        return None
    return session.scalar(sa.select(Blob.sha256).where(Blob.id == blob_id))


def _media_unchanged(
    session: Session, version_id: int, media: Mapping[str, bytes]
) -> bool:
    existing = {
        name: row
        for name, row in _attachments(session, version_id).items()
        if row.blob_id is not None
    }
    if set(existing) != set(media):
        return False
    return all(
        _blob_sha(session, existing[name].blob_id) == _sha256(data)
        for name, data in media.items()
    )


def _store_media(
    session: Session,
    store: BlobStore,
    version: FormVersion,
    media: Mapping[str, bytes],
) -> None:
    existing = _attachments(session, version.id)
    for name in set(existing) - set(media):
        session.delete(existing[name])
    for name, data in sorted(media.items()):
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        blob = save_blob(session, store, io.BytesIO(data), content_type)
        row = existing.get(name)
        if row is None:
            row = FormAttachment(form_version_id=version.id, name=name)
            session.add(row)
        row.content_type = content_type
        row.blob_id = blob.id
        row.updated_at = utcnow()
    session.flush()


# Unicode categories a media file name may not contain: controls (NUL, LF,
# \x01 …, which XML 1.0 cannot carry at all, so one would break the whole
# manifest), format characters (bidi overrides such as U+202E that show
# "gnp.exe" as "exe.png", zero-width joiners), surrogates and private-use or
# unassigned code points (XML's non-characters U+FFFE/U+FFFF among them), and
# the line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Android's file systems (where Collect saves media) take names up to 255
# bytes; the `form_attachments.name` column holds 255 characters.
MEDIA_NAME_MAX_BYTES = 255


def _forbidden_char(name: str) -> str | None:
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            return char
    return None


def _shown(name: str) -> str:
    """`name` fit to quote in a message: forbidden characters as `\\uXXXX`
    (a bidi override would reorder the message itself), at most 80 shown."""
    text = "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in _FORBIDDEN_CATEGORIES else c
        for c in name[:80]
    )
    return text + ("…" if len(name) > 80 else "")


def media_name_problem(name: str) -> tuple[str, str] | None:
    """Why `name` cannot be a form media file's name (Spanish, English), or
    None when it can: Collect saves the file under it and the manifest
    (openrosa.md §3.2) lists it as a bare file name."""
    if not name:
        return ("está vacío", "it is empty")
    char = _forbidden_char(name)
    if char is not None:
        return (
            f"contiene un carácter de control o invisible (U+{ord(char):04X})",
            f"it contains a control or invisible character (U+{ord(char):04X})",
        )
    if "/" in name or "\\" in name:
        return ("no puede contener «/» ni «\\»", "it cannot contain '/' or '\\'")
    if name.startswith("."):
        return ("no puede empezar con un punto", "it cannot start with a dot")
    if name != name.strip():
        return (
            "no puede empezar ni terminar con espacios",
            "it cannot start or end with spaces",
        )
    if len(name.encode("utf-8")) > MEDIA_NAME_MAX_BYTES:
        return (
            f"tiene más de {MEDIA_NAME_MAX_BYTES} bytes",
            f"it is longer than {MEDIA_NAME_MAX_BYTES} bytes",
        )
    return None


def _check_media_names(media: Mapping[str, bytes]) -> None:
    """Raises: MediaNameInvalidError for the first name that cannot be used."""
    for name in media:
        problem = media_name_problem(name)
        if problem is not None:
            raise MediaNameInvalidError(
                f"Nombre de archivo multimedia no válido: «{_shown(name)}»: "
                f"{problem[0]}.",
                f"Invalid media file name: '{_shown(name)}': {problem[1]}.",
            )


def publish_form(
    session: Session,
    store: BlobStore,
    *,
    project_id: int,
    compiled: CompiledForm,
    xlsform: bytes | None = None,
    media: Mapping[str, bytes] | None = None,
    actor_user_id: int | None = None,
) -> PublishResult:
    """Publish an XForm as the form's current version, idempotently.

    Raises:
        FormVersionConflictError: the XForm changed but its version did not.
        XFormInvalidError: the XForm has no title or no form id.
        MediaNameInvalidError: a media file name Collect could not use.
    """
    media = dict(media or {})
    _check_media_names(media)
    schema = parse_xform(compiled.xml)
    sha = _sha256(compiled.xml)
    form = find_form(session, project_id, schema.xml_form_id)
    if form is not None and form.current_version_id is not None:
        current = current_version(session, form)
        if current.sha256 == sha:
            if _media_unchanged(session, current.id, media):
                return PublishResult(form, current, "unchanged", compiled.warnings)
            _store_media(session, store, current, media)
            _audit(session, "form.media_update", form, actor_user_id)
            return PublishResult(form, current, "media_updated", compiled.warnings)
        taken = session.scalar(
            sa.select(FormVersion.id).where(
                FormVersion.form_id == form.id,
                FormVersion.version == schema.version,
                FormVersion.published_at.is_not(None),
            )
        )
        if taken is not None:
            raise FormVersionConflictError(
                f"El formulario «{schema.xml_form_id}» cambió pero su versión "
                f"«{schema.version}» sigue igual: cambie `version` en la hoja "
                "settings (por ejemplo, a la fecha de hoy) y vuelva a cargarlo.",
                f"Form '{schema.xml_form_id}' changed but its version "
                f"'{schema.version}' did not: change `version` in the settings "
                "sheet (e.g. to today's date) and load it again.",
            )
    status: PublishStatus = "new_version"
    if form is None:
        form = Form(
            project_id=project_id,
            xml_form_id=schema.xml_form_id,
            title="",
            created_by_id=actor_user_id,
        )
        session.add(form)
        status = "created"
    form.title = schema.title or schema.xml_form_id
    session.flush()
    xlsform_blob_id = None
    if xlsform is not None:
        xlsform_blob_id = save_blob(
            session, store, io.BytesIO(xlsform), workbook_content_type(xlsform)
        ).id
    version = FormVersion(
        form_id=form.id,
        version=schema.version,
        title=form.title,
        xml=compiled.xml,
        md5=_md5(compiled.xml),
        sha1=_sha1(compiled.xml),
        sha256=sha,
        xlsform_blob_id=xlsform_blob_id,
        field_schema=schema.to_json(),
        published_at=utcnow(),
        published_by_id=actor_user_id,
        created_by_id=actor_user_id,
    )
    session.add(version)
    session.flush()
    _store_media(session, store, version, media)
    form.current_version_id = version.id
    if status != "created":
        # Central dates a form's changes, not its creation (updatedAt null).
        form.updated_at = utcnow()
    session.flush()
    _audit(session, f"form.{status}", form, actor_user_id, version=schema.version)
    return PublishResult(form, version, status, compiled.warnings)


def _audit(
    session: Session, action: str, form: Form, actor: int | None, **details: str
) -> None:
    audit.record(
        session,
        action,
        by_user_id=actor,
        target_type="form",
        target_id=f"{form.project_id}/{form.xml_form_id}",
        **details,
    )


def check_state(state: object) -> str:
    """Raises: FormStateInvalidError (Central's 400.8) for an unknown state."""
    if not isinstance(state, str) or state not in FORM_STATES:
        raise FormStateInvalidError(
            f"Estado de formulario desconocido: «{state}».",
            f"Unexpected state value {state}; not a recognized state name",
            details={
                "field": "state",
                "value": state,
                "reason": "not a recognized state name",
            },
        )
    return state


def set_form_state(
    session: Session,
    project_id: int,
    xml_form_id: str,
    state: str,
    *,
    actor: Actor | None = None,
) -> Form:
    """Open, closing (unlisted, still accepts) or closed (neither).

    Raises: FormNotFoundError, FormStateInvalidError.
    """
    check_state(state)
    form = get_form(session, project_id, xml_form_id)
    form.state = state
    form.updated_at = utcnow()
    _audit(session, "form.state", form, actor.user_id if actor else None, state=state)
    session.flush()
    return form


def form_attachments(session: Session, version: FormVersion) -> list[tuple[str, Blob]]:
    """Media of a version that exist (Central omits never-uploaded ones) and
    that a manifest can name.

    A name stored before `media_name_problem` refused it (an older Ayni) is
    left out, with a warning in the log: one NUL or control character would
    make the whole manifest unwritable XML, and every other file of the form
    would be lost to the tablets with it. Left out, it is also not carried
    into the form's next version.
    """
    rows = session.execute(
        sa.select(FormAttachment.name, Blob)
        .join(Blob, Blob.id == FormAttachment.blob_id)
        .where(FormAttachment.form_version_id == version.id)
        .order_by(FormAttachment.name)
    ).all()
    usable = []
    for name, blob in rows:
        if media_name_problem(name) is not None:
            log.warning(
                "form version %s: media file %s left out (unusable name)",
                version.id,
                ascii(name),
            )
            continue
        usable.append((name, blob))
    return usable


def form_attachment(session: Session, version: FormVersion, name: str) -> Blob:
    """Raises: FormNotFoundError when the version has no such media file."""
    for found_name, blob in form_attachments(session, version):
        if found_name == name:
            return blob
    raise FormNotFoundError(
        "El formulario no tiene ese archivo multimedia.",
        "The form has no such media file.",
    )


# --- the committed forms/ directory --------------------------------------------


def read_media_dir(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {
        path.name: path.read_bytes()
        for path in sorted(directory.iterdir())
        if path.is_file() and not path.name.startswith(".")
    }


def compiled_forms_in(forms_dir: Path) -> list[tuple[CompiledForm, dict[str, bytes]]]:
    """Every `forms/<id>.xml` with its `forms/<id>-media/` files."""
    found = []
    for path in sorted(forms_dir.glob("*.xml")):
        xml = path.read_bytes()
        schema = parse_xform(xml)
        compiled = CompiledForm(
            xml=xml,
            xml_form_id=schema.xml_form_id,
            version=schema.version,
            title=schema.title,
            warnings=(),
        )
        media = read_media_dir(forms_dir / f"{path.stem}{MEDIA_DIR_SUFFIX}")
        found.append((compiled, media))
    return found


def sync_forms_dir(
    session: Session, store: BlobStore, *, project_id: int, forms_dir: Path
) -> list[PublishResult]:
    """Load `forms/` into a project: new forms and versions in, the rest alone.

    Raises: FormVersionConflictError (a form changed without a new version).
    """
    return [
        publish_form(
            session, store, project_id=project_id, compiled=compiled, media=media
        )
        for compiled, media in compiled_forms_in(forms_dir)
    ]


def compile_xlsforms_dir(xlsforms_dir: Path) -> dict[str, CompiledForm]:
    """Compile every workbook of `xlsforms/`, keyed by the file's stem.

    Raises: XlsFormInvalidError naming the workbook, sheet and row.
    """
    compiled: dict[str, CompiledForm] = {}
    for path in sorted(xlsforms_dir.iterdir()):
        if path.suffix.lower() not in XLSFORM_SUFFIXES or path.name.startswith("~"):
            continue
        compiled[path.stem] = compile_xlsform(path.read_bytes(), filename=path.name)
    return compiled


def write_compiled_forms(xlsforms_dir: Path, forms_dir: Path) -> list[Path]:
    """`make forms`: xlsforms/*.xlsx → forms/<form_id>.xml (+ media kept)."""
    forms_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for compiled in compile_xlsforms_dir(xlsforms_dir).values():
        target = forms_dir / f"{compiled.xml_form_id}.xml"
        if not target.exists() or target.read_bytes() != compiled.xml:
            target.write_bytes(compiled.xml)
        written.append(target)
    return written


def stale_compiled_forms(xlsforms_dir: Path, forms_dir: Path) -> list[str]:
    """Names of forms whose committed XForm differs from a fresh compile."""
    stale = []
    compiled = compile_xlsforms_dir(xlsforms_dir)
    expected = {c.xml_form_id for c in compiled.values()}
    for form in compiled.values():
        target = forms_dir / f"{form.xml_form_id}.xml"
        if not target.exists() or target.read_bytes() != form.xml:
            stale.append(form.xml_form_id)
    stale += [
        f"{path.stem} (sin XLSForm / no XLSForm)"
        for path in sorted(forms_dir.glob("*.xml"))
        if path.stem not in expected
    ]
    return stale
