"""Forms, versions, drafts and form attachments:
`/v1/projects/{id}/forms/...` (Central's Forms, Individual Form, Draft Form,
Published Form Versions).

A form is created as a draft unless `?publish=true` (Central's default since
0.8); the draft is replaced by `POST …/draft` (an XForm, an XLSForm, or an
empty body for a copy of the published version, as pyODK does), filled with
media by `POST …/draft/attachments/<name>` and published by
`POST …/draft/publish[?version=]`. Collect keeps downloading the published
version meanwhile; a form with only a draft is invisible to it.

Two of Central's routes are the OpenRosa blueprint's, because Collect uses
the same URLs: the published XForm (`…/forms/<id>.xml`) and one media file
(`…/forms/<id>/attachments/<name>`).

Each route also answers under the app-user prefix `/v1/key/<token>/…`, as
every Central route does. Checks run in Central's order: the form exists
(404.1), the actor may (403.1), then the body (400.x).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

from flask import Blueprint, Response, jsonify, request
from lxml import etree

from app.api.common import central_routes, extended, json_body, query_flag, success
from app.api.openapi import operation
from app.api.schemas.common import SuccessSchema
from app.api.schemas.forms import (
    ExtendedFormSchema,
    ExtendedFormVersionSchema,
    FormAttachmentSchema,
    FormFieldSchema,
    FormPatchSchema,
    FormSchema,
)
from app.auth import permissions
from app.auth.actors import Actor
from app.blobs import CHUNK
from app.forms import lifecycle
from app.forms.errors import FormNumericIdError
from app.governance.visibility import Viewer, governed_tally
from app.httpauth import InvalidTokenError, resolve_actor
from app.runtime import current_runtime, read_session, write_transaction

bp = Blueprint("api_forms", __name__)

TAG_FORMS = "Forms"
TAG_FORM = "Individual Form"
TAG_DRAFT = "Draft Form"
TAG_VERSIONS = "Published Form Versions"
EXTENDED = {"X-Extended-Metadata": "`true`: Central's extended metadata"}
XML = "application/xml"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
WORKBOOK = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM = "/projects/<int:project_id>/forms/<xml_form_id>"
VERSION = f"{FORM}/versions/<version>"
DRAFT = f"{FORM}/draft"
DEFINITION_BODY = (
    "application/xml (an XForm), or an XLSForm: "
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (.xlsx) "
    "or application/vnd.ms-excel (.xls)"
)
DEFINITION_QUERY = {
    "ignoreWarnings": "`true`: accept an XLSForm with warnings (else 400.16)"
}
DEFINITION_HEADERS = {
    "X-XlsForm-FormId-Fallback": (
        "the form id when the workbook names none (percent-encoded)"
    ),
    "Content-Type": DEFINITION_BODY,
}


_route = central_routes(bp)


def _actor(token: str | None, project_id: int) -> Actor:
    """The caller; an app user only within its own project."""
    actor = resolve_actor(token)
    if actor.is_app_user and actor.project_id != project_id:
        raise InvalidTokenError()
    return actor


def _form(project_id: int, xml_form_id: str, token: str | None) -> tuple[Any, Actor]:
    """The live form (404.1 first, as Central) and the caller."""
    resolve_actor(token)  # no credentials: 401 before anything else
    form = lifecycle.get_live_form(read_session(), project_id, xml_form_id)
    return form, _actor(token, project_id)


def _readable_form(
    project_id: int, xml_form_id: str, token: str | None
) -> tuple[Any, Actor]:
    form, actor = _form(project_id, xml_form_id, token)
    lifecycle.require_readable(actor, form)
    return form, actor


def _draft(project_id: int, xml_form_id: str, token: str | None) -> tuple[Any, Any]:
    """The form's draft (404.1 when there is none) for one who may update."""
    form, actor = _form(project_id, xml_form_id, token)
    draft = lifecycle.draft_of(read_session(), form)
    lifecycle.require_updatable(actor, form)
    return form, draft


def _version(
    project_id: int, xml_form_id: str, version: str, token: str | None
) -> tuple[Any, Any, Actor]:
    form, actor = _readable_form(project_id, xml_form_id, token)
    found = lifecycle.published_version(read_session(), form, version)
    return form, found, actor


def _definition() -> lifecycle.Definition | None:
    """The body as a form definition; None for an empty body."""
    data = request.get_data(cache=False)
    if not data:
        return None
    fallback = request.headers.get("X-XlsForm-FormId-Fallback")
    return lifecycle.read_definition(
        data,
        request.content_type,
        form_id_fallback=unquote(fallback) if fallback else None,
    )


def _stats(actor: Actor, form: Any) -> Any:
    """What the extended shape counts: the submissions this caller may know
    of, through governance (none without `submission.list`)."""
    if not permissions.can(
        actor, "submission.list", permissions.Project(form.project_id)
    ):
        return None
    viewer = Viewer(actor=actor, project_id=form.project_id)
    return governed_tally(read_session(), viewer, form)


def _form_body(actor: Actor, form: Any, *, with_notes: bool = False) -> dict[str, Any]:
    session = read_session()
    if not extended():
        return FormSchema().dump(lifecycle.view(session, form))  # type: ignore[no-any-return]
    shown = lifecycle.view(session, form, extended=True)
    stats = _stats(actor, form) if not shown.draft else None
    body = ExtendedFormSchema().dump(dataclasses.replace(shown, stats=stats))
    if with_notes and permissions.can(
        actor, "form.update", permissions.Form(form.project_id, form.id)
    ):
        # Central's notes of a publication (X-Action-Notes); none are kept.
        body["publishNotes"] = None
    return body  # type: ignore[no-any-return]


def _ascii_name(name: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)


def _attachment_headers(response: Response, filename: str) -> None:
    # Central's form: a quoted ASCII name and the exact one, RFC 5987-encoded.
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_ascii_name(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


def _with_charset(content_type: str) -> str:
    lowered = content_type.lower()
    textual = lowered.startswith("text/") or lowered.split(";")[0].strip() in (
        "application/xml",
        "application/json",
    )
    return (
        f"{content_type}; charset=utf-8"
        if textual and "charset" not in lowered
        else content_type
    )


def _file_response(blob: Any, content_type: str, filename: str) -> Response:
    """A stored file with Central's headers; `If-None-Match` with its ETag
    (the content's MD5) answers 304."""
    if request.if_none_match.contains(blob.md5):
        not_modified = Response(status=304)
        not_modified.set_etag(blob.md5)
        return not_modified
    handle = current_runtime().blobs.open(read_session(), blob.sha256)

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    response = Response(chunks(), content_type=_with_charset(content_type))
    response.content_length = blob.size
    response.set_etag(blob.md5)
    _attachment_headers(response, filename)
    return response


def _manifest(version: Any) -> Response:
    """The OpenRosa manifest of a version's uploaded media, each linked
    beside this manifest's own address (Central's `formManifest`)."""
    settings = current_runtime().settings
    origin = (settings.public_url or request.host_url).rstrip("/")
    base = f"{origin}{request.path.rsplit('/', 1)[0]}/attachments"
    root = etree.Element("manifest", nsmap={None: MANIFEST_NS})
    ns = f"{{{MANIFEST_NS}}}"
    for slot in lifecycle.attachment_slots(read_session(), version):
        if slot.blob is None:
            continue
        item = etree.SubElement(root, f"{ns}mediaFile")
        etree.SubElement(item, f"{ns}filename").text = slot.name
        etree.SubElement(item, f"{ns}hash").text = f"md5:{slot.blob.md5}"
        etree.SubElement(
            item, f"{ns}downloadUrl"
        ).text = f"{base}/{quote(slot.name, safe='')}"
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    response = Response(body, content_type="text/xml; charset=utf-8")
    response.headers["X-OpenRosa-Version"] = "1.0"
    return response


def _xml_response(xml: bytes, md5: str) -> Response:
    response = Response(xml, content_type=f"{XML}; charset=utf-8")
    response.set_etag(md5)
    return response


# --- The project's forms ---------------------------------------------------------


@_route("/projects/<int:project_id>/forms", methods=["GET"])
@operation(
    "List the project's forms",
    tag=TAG_FORMS,
    response=FormSchema,
    many=True,
    query={"deleted": "`true`: the deleted forms instead, with their numeric ids"},
    headers=EXTENDED,
)
def form_list(project_id: int, token: str | None = None) -> Response:
    """Forms with only a draft appear to those who may update them
    (`publishedAt` null); the extended shape counts the submissions the
    caller may know of."""
    resolve_actor(token)
    actor = _actor(token, project_id)
    session = read_session()
    forms = lifecycle.list_forms_for(
        session, project_id, actor, deleted=query_flag("deleted")
    )
    return jsonify([_form_body(actor, form) for form in forms])


@_route("/projects/<int:project_id>/forms", methods=["POST"])
@operation(
    "Create a form from an XForm or an XLSForm (a draft unless ?publish=true)",
    tag=TAG_FORMS,
    body=XML,
    response=FormSchema,
    query={
        "publish": "`true`: publish it at once (default: a draft)",
        **DEFINITION_QUERY,
    },
    headers=DEFINITION_HEADERS,
)
def form_create(project_id: int, token: str | None = None) -> Response:
    """pyODK sends `?ignoreWarnings=True&publish=False`; flags are read
    case-insensitively."""
    resolve_actor(token)
    actor = _actor(token, project_id)
    # Central's order: the project and the right to create come before the body.
    lifecycle.check_may_create(read_session(), project_id, actor)
    data = request.get_data(cache=False)
    fallback = request.headers.get("X-XlsForm-FormId-Fallback")
    definition = lifecycle.read_definition(
        data,
        request.content_type,
        form_id_fallback=unquote(fallback) if fallback else None,
    )
    with write_transaction() as session:
        form = lifecycle.create_form(
            session,
            current_runtime().blobs,
            project_id=project_id,
            definition=definition,
            publish=query_flag("publish"),
            ignore_warnings=query_flag("ignoreWarnings"),
            actor=actor,
        )
        body = FormSchema().dump(lifecycle.view(session, form))
    return jsonify(body)


@_route("/projects/<int:project_id>/forms/<int:form_id>/restore", methods=["POST"])
@operation(
    "Restore a deleted form by its numeric id", tag=TAG_FORM, response=SuccessSchema
)
def form_restore(project_id: int, form_id: int, token: str | None = None) -> Response:
    resolve_actor(token)
    actor = _actor(token, project_id)
    with write_transaction() as session:
        lifecycle.restore_form(
            session, project_id=project_id, form_id=form_id, actor=actor
        )
    return success()


@_route("/projects/<int:project_id>/forms/<xml_form_id>/restore", methods=["POST"])
@operation(
    "Restoring takes the numeric id: an xmlFormId is 400.11",
    tag=TAG_FORM,
    response=SuccessSchema,
)
def form_restore_by_name(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    resolve_actor(token)
    _actor(token, project_id)
    raise FormNumericIdError(xml_form_id)


# --- One form -------------------------------------------------------------------


@_route(FORM, methods=["GET"])
@operation(
    "A form: its published version, or its draft if never published",
    tag=TAG_FORM,
    response=FormSchema,
    headers=EXTENDED,
)
def form_show(project_id: int, xml_form_id: str, token: str | None = None) -> Response:
    form, actor = _readable_form(project_id, xml_form_id, token)
    return jsonify(_form_body(actor, form, with_notes=True))


@_route(FORM, methods=["PATCH"])
@operation(
    "Change a form's state (open, closing, closed)",
    tag=TAG_FORM,
    body=FormPatchSchema,
    response=FormSchema,
)
def form_update(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    form, actor = _form(project_id, xml_form_id, token)
    lifecycle.require_updatable(actor, form)
    data = json_body(FormPatchSchema())
    with write_transaction() as session:
        form = lifecycle.get_live_form(session, project_id, xml_form_id)
        lifecycle.update_form(session, form=form, state=data.get("state"), actor=actor)
        body = FormSchema().dump(lifecycle.view(session, form))
    return jsonify(body)


@_route(FORM, methods=["DELETE"])
@operation("Delete a form (to the trash)", tag=TAG_FORM, response=SuccessSchema)
def form_delete(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    form, actor = _form(project_id, xml_form_id, token)
    with write_transaction() as session:
        form = lifecycle.get_live_form(session, project_id, xml_form_id)
        lifecycle.delete_form(session, form=form, actor=actor)
    return success()


def _workbook(version: Any, suffix: str, xml_form_id: str) -> Response:
    blob = lifecycle.workbook_of(read_session(), version, suffix)
    return _file_response(blob, blob.content_type, f"{xml_form_id}{suffix}")


@_route(
    f"{FORM}.xlsx",
    name="form_workbook_xlsx",
    methods=["GET"],
    defaults={"suffix": ".xlsx"},
)
@_route(
    f"{FORM}.xls",
    name="form_workbook_xls",
    methods=["GET"],
    defaults={"suffix": ".xls"},
)
@operation(
    "The workbook the form was made from, as uploaded (404.1 if it came as XML)",
    tag=TAG_FORM,
    response=WORKBOOK,
    headers={"If-None-Match": "the ETag of a copy already held"},
)
def form_workbook(
    project_id: int, xml_form_id: str, suffix: str, token: str | None = None
) -> Response:
    form, _who = _readable_form(project_id, xml_form_id, token)
    version = lifecycle.current_of(read_session(), form)
    return _workbook(version, suffix, form.xml_form_id)


@_route(f"{FORM}/fields", methods=["GET"])
@operation(
    "The form's fields, depth first",
    tag=TAG_FORM,
    response=FormFieldSchema,
    many=True,
    query={"odata": "`true`: names and paths as the OData feed writes them"},
)
def form_fields(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    form, _who = _readable_form(project_id, xml_form_id, token)
    version = lifecycle.current_of(read_session(), form)
    found = lifecycle.fields_of(version, odata=query_flag("odata"))
    return jsonify(FormFieldSchema(many=True).dump(found))


@_route(f"{FORM}/attachments", methods=["GET"])
@operation(
    "The media files the form expects, uploaded or not",
    tag=TAG_FORM,
    response=FormAttachmentSchema,
    many=True,
)
def form_attachment_list(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    form, _who = _readable_form(project_id, xml_form_id, token)
    session = read_session()
    slots = lifecycle.attachment_slots(session, lifecycle.current_of(session, form))
    return jsonify(FormAttachmentSchema(many=True).dump(slots))


# --- Published versions ---------------------------------------------------------


@_route(f"{FORM}/versions", methods=["GET"])
@operation(
    "Every published version, the newest first",
    tag=TAG_VERSIONS,
    response=FormSchema,
    many=True,
    headers=EXTENDED,
)
def version_list(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    form, actor = _readable_form(project_id, xml_form_id, token)
    session = read_session()
    versions = lifecycle.published_versions(session, form)
    if not extended():
        views = [lifecycle.view(session, form, v) for v in versions]
        return jsonify(FormSchema(many=True).dump(views))
    notes = permissions.can(
        actor, "form.update", permissions.Form(form.project_id, form.id)
    )
    bodies = []
    for found in versions:
        body = ExtendedFormVersionSchema().dump(
            lifecycle.view(session, form, found, extended=True)
        )
        if notes:
            body["publishNotes"] = None
        bodies.append(body)
    return jsonify(bodies)


@_route(VERSION, methods=["GET"])
@operation(
    "One published version (`___` names the empty version)",
    tag=TAG_VERSIONS,
    response=FormSchema,
    headers=EXTENDED,
)
def version_show(
    project_id: int, xml_form_id: str, version: str, token: str | None = None
) -> Response:
    form, found, actor = _version(project_id, xml_form_id, version, token)
    session = read_session()
    if not extended():
        return jsonify(FormSchema().dump(lifecycle.view(session, form, found)))
    body = ExtendedFormVersionSchema().dump(
        lifecycle.view(session, form, found, extended=True)
    )
    if permissions.can(
        actor, "form.update", permissions.Form(form.project_id, form.id)
    ):
        body["publishNotes"] = None
    return jsonify(body)


@_route(f"{VERSION}.xml", methods=["GET"])
@operation("The XForm of one published version", tag=TAG_VERSIONS, response=XML)
def version_xml(
    project_id: int, xml_form_id: str, version: str, token: str | None = None
) -> Response:
    _parent, found, _who = _version(project_id, xml_form_id, version, token)
    return _xml_response(found.xml, found.md5)


@_route(
    f"{VERSION}.xlsx",
    name="version_workbook_xlsx",
    methods=["GET"],
    defaults={"suffix": ".xlsx"},
)
@_route(
    f"{VERSION}.xls",
    name="version_workbook_xls",
    methods=["GET"],
    defaults={"suffix": ".xls"},
)
@operation(
    "The workbook one published version was made from",
    tag=TAG_VERSIONS,
    response=WORKBOOK,
    headers={"If-None-Match": "the ETag of a copy already held"},
)
def version_workbook(
    project_id: int,
    xml_form_id: str,
    version: str,
    suffix: str,
    token: str | None = None,
) -> Response:
    form, found, _who = _version(project_id, xml_form_id, version, token)
    return _workbook(found, suffix, form.xml_form_id)


@_route(f"{VERSION}/fields", methods=["GET"])
@operation(
    "The fields of one published version",
    tag=TAG_VERSIONS,
    response=FormFieldSchema,
    many=True,
    query={"odata": "`true`: names and paths as the OData feed writes them"},
)
def version_fields(
    project_id: int, xml_form_id: str, version: str, token: str | None = None
) -> Response:
    _parent, found, _who = _version(project_id, xml_form_id, version, token)
    fields = lifecycle.fields_of(found, odata=query_flag("odata"))
    return jsonify(FormFieldSchema(many=True).dump(fields))


@_route(f"{VERSION}/attachments", methods=["GET"])
@operation(
    "The media files of one published version",
    tag=TAG_VERSIONS,
    response=FormAttachmentSchema,
    many=True,
)
def version_attachment_list(
    project_id: int, xml_form_id: str, version: str, token: str | None = None
) -> Response:
    _parent, found, _who = _version(project_id, xml_form_id, version, token)
    slots = lifecycle.attachment_slots(read_session(), found)
    return jsonify(FormAttachmentSchema(many=True).dump(slots))


@_route(f"{VERSION}/manifest", methods=["GET"])
@operation(
    "The OpenRosa manifest of one published version's media",
    tag=TAG_VERSIONS,
    response="text/xml",
)
def version_manifest(
    project_id: int, xml_form_id: str, version: str, token: str | None = None
) -> Response:
    _parent, found, _who = _version(project_id, xml_form_id, version, token)
    return _manifest(found)


@_route(f"{VERSION}/attachments/<name>", methods=["GET"])
@operation(
    "One media file of one published version",
    tag=TAG_VERSIONS,
    response="application/octet-stream",
    headers={"If-None-Match": "the ETag of a copy already held"},
)
def version_attachment(
    project_id: int,
    xml_form_id: str,
    version: str,
    name: str,
    token: str | None = None,
) -> Response:
    _parent, found, _who = _version(project_id, xml_form_id, version, token)
    blob, content_type = lifecycle.attachment_file(read_session(), found, name)
    return _file_response(blob, content_type, name)


# --- The draft ------------------------------------------------------------------


@_route(DRAFT, methods=["POST"])
@operation(
    "Set the draft: an XForm, an XLSForm, or an empty body for a copy of the "
    "published version",
    tag=TAG_DRAFT,
    body=XML,
    response=SuccessSchema,
    query=DEFINITION_QUERY,
    headers=DEFINITION_HEADERS,
)
def draft_create(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    """The new draft keeps the files of the draft it replaces (or of the
    published version) that it still expects, same name and kind."""
    form, actor = _form(project_id, xml_form_id, token)
    lifecycle.require_updatable(actor, form)
    definition = _definition()
    with write_transaction() as session:
        form = lifecycle.get_live_form(session, project_id, xml_form_id)
        lifecycle.create_draft(
            session,
            current_runtime().blobs,
            form=form,
            definition=definition,
            ignore_warnings=query_flag("ignoreWarnings"),
            actor=actor,
        )
    return success()


@_route(DRAFT, methods=["GET"])
@operation(
    "The draft (404.1 when there is none)",
    tag=TAG_DRAFT,
    response=FormSchema,
    headers=EXTENDED,
)
def draft_show(project_id: int, xml_form_id: str, token: str | None = None) -> Response:
    form, draft = _draft(project_id, xml_form_id, token)
    session = read_session()
    if not extended():
        return jsonify(FormSchema().dump(lifecycle.view(session, form, draft)))
    # Draft test submissions are not offered: a draft counts none.
    shown = lifecycle.view(session, form, draft, extended=True)
    return jsonify(ExtendedFormSchema().dump(shown))


@_route(DRAFT, methods=["DELETE"])
@operation(
    "Discard the draft (409.7 when the form was never published)",
    tag=TAG_DRAFT,
    response=SuccessSchema,
)
def draft_delete(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    form, actor = _form(project_id, xml_form_id, token)
    with write_transaction() as session:
        form = lifecycle.get_live_form(session, project_id, xml_form_id)
        lifecycle.delete_draft(session, form=form, actor=actor)
    return success()


@_route(f"{DRAFT}/publish", methods=["POST"])
@operation(
    "Publish the draft, under a new version string if given",
    tag=TAG_DRAFT,
    response=SuccessSchema,
    query={"version": "the version to publish under (set in the XForm)"},
)
def draft_publish(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    form, actor = _form(project_id, xml_form_id, token)
    version = request.args.get("version")
    with write_transaction() as session:
        form = lifecycle.get_live_form(session, project_id, xml_form_id)
        lifecycle.publish_draft(session, form=form, version=version, actor=actor)
    return success()


@_route(f"{DRAFT}.xml", methods=["GET"])
@operation("The draft's XForm", tag=TAG_DRAFT, response=XML)
def draft_xml(project_id: int, xml_form_id: str, token: str | None = None) -> Response:
    _parent, draft = _draft(project_id, xml_form_id, token)
    return _xml_response(draft.xml, draft.md5)


@_route(
    f"{DRAFT}.xlsx",
    name="draft_workbook_xlsx",
    methods=["GET"],
    defaults={"suffix": ".xlsx"},
)
@_route(
    f"{DRAFT}.xls",
    name="draft_workbook_xls",
    methods=["GET"],
    defaults={"suffix": ".xls"},
)
@operation(
    "The workbook the draft was made from",
    tag=TAG_DRAFT,
    response=WORKBOOK,
    headers={"If-None-Match": "the ETag of a copy already held"},
)
def draft_workbook(
    project_id: int, xml_form_id: str, suffix: str, token: str | None = None
) -> Response:
    form, draft = _draft(project_id, xml_form_id, token)
    return _workbook(draft, suffix, form.xml_form_id)


@_route(f"{DRAFT}/fields", methods=["GET"])
@operation(
    "The draft's fields",
    tag=TAG_DRAFT,
    response=FormFieldSchema,
    many=True,
    query={"odata": "`true`: names and paths as the OData feed writes them"},
)
def draft_fields(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    _parent, draft = _draft(project_id, xml_form_id, token)
    fields = lifecycle.fields_of(draft, odata=query_flag("odata"))
    return jsonify(FormFieldSchema(many=True).dump(fields))


@_route(f"{DRAFT}/attachments", methods=["GET"])
@operation(
    "The media files the draft expects, uploaded or not",
    tag=TAG_DRAFT,
    response=FormAttachmentSchema,
    many=True,
)
def draft_attachment_list(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    _parent, draft = _draft(project_id, xml_form_id, token)
    slots = lifecycle.attachment_slots(read_session(), draft)
    return jsonify(FormAttachmentSchema(many=True).dump(slots))


@_route(f"{DRAFT}/manifest", methods=["GET"])
@operation(
    "The OpenRosa manifest of the draft's uploaded media",
    tag=TAG_DRAFT,
    response="text/xml",
)
def draft_manifest(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    _parent, draft = _draft(project_id, xml_form_id, token)
    return _manifest(draft)


@_route(f"{DRAFT}/attachments/<name>", methods=["POST"])
@operation(
    "Upload one of the draft's media files (the raw body)",
    tag=TAG_DRAFT,
    body="application/octet-stream",
    response=FormAttachmentSchema,
)
def draft_attachment_upload(
    project_id: int, xml_form_id: str, name: str, token: str | None = None
) -> Response:
    """A name the draft's XForm does not name is 404.1, as in Central; the
    body is read only once the name is known to be expected."""
    form, actor = _form(project_id, xml_form_id, token)
    with write_transaction() as session:
        form = lifecycle.get_live_form(session, project_id, xml_form_id)
        slot = lifecycle.upload_draft_attachment(
            session,
            current_runtime().blobs,
            form=form,
            name=name,
            stream=request.stream,
            content_type=request.content_type,
            actor=actor,
        )
        body = FormAttachmentSchema().dump(slot)
    return jsonify(body)


@_route(f"{DRAFT}/attachments/<name>", methods=["GET"])
@operation(
    "One of the draft's media files",
    tag=TAG_DRAFT,
    response="application/octet-stream",
    headers={"If-None-Match": "the ETag of a copy already held"},
)
def draft_attachment(
    project_id: int, xml_form_id: str, name: str, token: str | None = None
) -> Response:
    _parent, draft = _draft(project_id, xml_form_id, token)
    blob, content_type = lifecycle.attachment_file(read_session(), draft, name)
    return _file_response(blob, content_type, name)


@_route(f"{DRAFT}/attachments/<name>", methods=["DELETE"])
@operation(
    "Take the file out of one of the draft's media slots",
    tag=TAG_DRAFT,
    response=SuccessSchema,
)
def draft_attachment_delete(
    project_id: int, xml_form_id: str, name: str, token: str | None = None
) -> Response:
    form, actor = _form(project_id, xml_form_id, token)
    with write_transaction() as session:
        form = lifecycle.get_live_form(session, project_id, xml_form_id)
        lifecycle.clear_draft_attachment(session, form=form, name=name, actor=actor)
    return success()
