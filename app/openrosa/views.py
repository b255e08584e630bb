"""OpenRosa routes on ODK Central's paths, for ODK Collect and Enketo.

Each route exists three times (openrosa.md §1): under `/v1/projects/<pid>`,
under the app-user prefix `/v1/key/<token>/projects/<pid>`, and, for the form
list and submission, as root aliases for the default project, so a tablet set
to `http://host:8000` works. Links in lists keep the caller's prefix and are
absolute (Collect rejects relative `downloadUrl`s).

This module parses, authorises, calls services and renders; it never touches
SQL. No route ends in `/`: OkHttp turns a redirected POST into a GET.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from flask import Blueprint, Response, request
from werkzeug.datastructures import FileStorage

from app.auth import permissions
from app.auth.actors import Actor
from app.blobs import iter_blob
from app.errors import InvalidInputError
from app.forms import service as forms_service
from app.forms.errors import FormNotFoundError
from app.httpauth import InvalidTokenError, resolve_actor
from app.openrosa import responses
from app.projects import service as projects_service
from app.runtime import current_runtime, read_session, write_transaction
from app.submissions import service as submissions_service
from app.submissions.checks import printable

if TYPE_CHECKING:  # types only: the edge never queries (import-linter)
    from app.db.models import Form, FormVersion

bp = Blueprint("openrosa", __name__)

XML_PART = "xml_submission_file"


class MissingXmlPartError(InvalidInputError):
    code, problem = "xml_submission_file_missing", 400.7  # missingMultipartField
    default_es = "Falta el campo multipart xml_submission_file en el envío."
    default_en = "Required multipart POST field xml_submission_file missing."


def _routes(rule: str, endpoint: str, *, root_alias: bool = False, **options):  # type: ignore[no-untyped-def]
    """Register a view under the project path, the app-user prefix and maybe /."""

    def register(view):  # type: ignore[no-untyped-def]
        bp.add_url_rule(
            f"/v1/projects/<int:project_id>{rule}", endpoint, view, **options
        )
        bp.add_url_rule(
            f"/v1/key/<token>/projects/<int:project_id>{rule}",
            f"{endpoint}_key",
            view,
            **options,
        )
        if root_alias:
            bp.add_url_rule(rule, f"{endpoint}_root", view, **options)
        return view

    return register


def _context(project_id: int | None, token: str | None) -> tuple[int, Actor, str]:
    """(project id, caller, the URL prefix links must keep)."""
    actor = resolve_actor(token)
    session = read_session()
    if project_id is None:
        project_id = projects_service.default_project(session).id
    else:
        projects_service.get_project(session, project_id)
    if actor.is_app_user and actor.project_id != project_id:
        raise InvalidTokenError()
    if token:
        prefix = f"/v1/key/{_encode(token)}/projects/{project_id}"
    else:
        prefix = f"/v1/projects/{project_id}"
    return project_id, actor, prefix


def _encode(component: str) -> str:
    """Percent-encode like JavaScript's encodeURIComponent, as Central does."""
    return quote(component, safe="-_.!~*'()")


def _base_url() -> str:
    runtime = current_runtime()
    if runtime.settings.public_url:
        return runtime.settings.public_url.rstrip("/")
    return request.host_url.rstrip("/")


def _query_suffix() -> str:
    # `?st=` tokens must travel with every link (Central keeps them).
    st = request.args.get("st")
    return f"?st={_encode(st)}" if st else ""


def _may_fill(actor: Actor, form: Form) -> bool:
    """Collect and Enketo fill forms: they are listed and served the forms the
    caller may submit to (an analyst or a guardian reads data elsewhere)."""
    target = permissions.Form(form.project_id, form.id)
    return permissions.can(actor, "submission.create", target)


@_routes("/formList", "form_list", root_alias=True, methods=["GET"])
def form_list(project_id: int | None = None, token: str | None = None) -> Response:
    project_id, actor, prefix = _context(project_id, token)
    only = request.args.get("formID")
    entries = []
    base = _base_url() + prefix
    suffix = _query_suffix()
    session = read_session()
    for form, version in forms_service.list_forms(
        session, project_id, states=("open",)
    ):
        if (only and form.xml_form_id != only) or not _may_fill(actor, form):
            continue
        fid = _encode(form.xml_form_id)
        has_media = bool(forms_service.form_attachments(session, version))
        entries.append(
            responses.FormListEntry(
                xml_form_id=form.xml_form_id,
                name=form.title or form.xml_form_id,
                version=version.version,
                md5=version.md5,
                download_url=f"{base}/forms/{fid}.xml{suffix}",
                manifest_url=(
                    f"{base}/forms/{fid}/manifest{suffix}" if has_media else None
                ),
            )
        )
    return responses.form_list(entries)


def _readable_version(project_id: int, actor: Actor, xml_form_id: str) -> FormVersion:
    """The current version of a form the caller may download.

    Raises: FormNotFoundError (also for closed forms and forms not readable).
    """
    session = read_session()
    form = forms_service.get_form(session, project_id, xml_form_id)
    if not actor.is_app_user and permissions.can(
        actor, "form.read", permissions.Form(form.project_id, form.id)
    ):
        # These URLs are also Central's REST reads of a form (`canReadForm`):
        # a person who may read the form gets its published XForm and media,
        # closed or not, fill it or not (pyODK's `get_xml` for an analyst).
        return forms_service.current_version(session, form)
    if form.state == "closed" or not _may_fill(actor, form):
        raise FormNotFoundError()
    return forms_service.current_version(session, form)


@_routes("/forms/<xml_form_id>.xml", "form_download", methods=["GET"])
def form_download(
    xml_form_id: str, project_id: int | None = None, token: str | None = None
) -> Response:
    project_id, actor, _prefix = _context(project_id, token)
    version = _readable_version(project_id, actor, xml_form_id)
    return responses.download(
        version.xml, "text/xml; charset=utf-8", f"{xml_form_id}.xml", version.md5
    )


@_routes("/forms/<xml_form_id>/manifest", "form_manifest", methods=["GET"])
def form_manifest(
    xml_form_id: str, project_id: int | None = None, token: str | None = None
) -> Response:
    project_id, actor, prefix = _context(project_id, token)
    base = f"{_base_url()}{prefix}/forms/{_encode(xml_form_id)}/attachments"
    suffix = _query_suffix()
    version = _readable_version(project_id, actor, xml_form_id)
    media = [
        responses.MediaEntry(name, blob.md5, f"{base}/{_encode(name)}{suffix}")
        for name, blob in forms_service.form_attachments(read_session(), version)
    ]
    return responses.manifest(media)


@_routes("/forms/<xml_form_id>/attachments/<name>", "form_media", methods=["GET"])
def form_media(
    xml_form_id: str,
    name: str,
    project_id: int | None = None,
    token: str | None = None,
) -> Response:
    project_id, actor, _prefix = _context(project_id, token)
    session = read_session()
    version = _readable_version(project_id, actor, xml_form_id)
    blob = forms_service.form_attachment(session, version, name)
    data = b"".join(iter_blob(session, current_runtime().blobs, blob.sha256))
    return responses.download(data, blob.content_type, name, blob.md5)


@_routes("/submission", "submission", root_alias=True, methods=["HEAD", "GET", "POST"])
def submission_create(
    project_id: int | None = None, token: str | None = None
) -> Response:
    project_id, actor, _prefix = _context(project_id, token)
    if request.method != "POST":
        # HEAD is answered 204 so Collect reads X-OpenRosa-Accept-Content-Length
        # (a 200 makes it fail: "Is this an OpenRosa submission endpoint?").
        # Auth is required here too, so the Digest challenge happens on the
        # body-less HEAD and the POST goes out pre-authenticated (§4.1).
        return Response(status=204)
    upload = _read_upload()
    runtime = current_runtime()
    with write_transaction() as session:
        result = submissions_service.ingest_submission(
            session,
            runtime.blobs,
            project_id=project_id,
            upload=upload,
            actor=actor,
            limits=runtime.settings.limits,
        )
    # Committed and fsynced: only now may the tablet be told it is safe.
    return responses.openrosa_message(_success_text(result.ignored), status=201)


def _success_text(ignored: tuple[str, ...]) -> str:
    """Central's exact text, which Collect replaces with its own "Success";
    when files came that the record does not name (and so were not stored),
    Collect shows this text instead, which says so."""
    if not ignored:
        return "full submission upload was successful!"
    names = ", ".join(printable(name) for name in ignored)
    return (
        f"Envío guardado. No se guardaron estos archivos, que el formulario no "
        f"nombra: {names}. / Submission saved. These files were not stored, "
        f"the form does not name them: {names}."
    )


def _read_upload() -> submissions_service.Upload:
    """The multipart body, streamed by Werkzeug to temporary files on disk.

    Only framing is read here: which parts came, under which names and types.
    What they may be is `app.submissions.checks`'s to say, before anything is
    written.
    """
    mimetype = request.mimetype or ""
    if not mimetype.startswith("multipart/"):
        raise MissingXmlPartError()
    files = request.files
    xml_files: list[FileStorage] = files.getlist(XML_PART)
    xml_fields = request.form.getlist(XML_PART)
    if xml_files:
        xml = xml_files[0].read()
    elif xml_fields:
        # A plain field (curl -F name=<file, some scripts): no declared type.
        xml = xml_fields[0].encode("utf-8")
    else:
        raise MissingXmlPartError()
    if not xml.strip():
        raise MissingXmlPartError(
            "El archivo xml_submission_file está vacío.",
            "The xml_submission_file part is empty.",
        )
    received = tuple(
        (name, storage.filename)
        for name, storage in files.items(multi=True)
        if name != XML_PART
    )
    parts = {
        name: (storage.filename, storage.stream)
        for name, storage in files.items(multi=False)
        if name != XML_PART
    }
    return submissions_service.Upload(
        xml=xml,
        parts=parts,
        device_id=request.args.get("deviceID"),
        user_agent=request.headers.get("User-Agent"),
        xml_content_types=(
            *(storage.content_type for storage in xml_files),
            *("text/xml" for _field in xml_fields),
        ),
        received=received,
    )
