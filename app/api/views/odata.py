"""ODK Central's OData feed of each form (its "OData Endpoints"):
`/v1/projects/<pid>/forms/<fid>.svc` (the service document), `.svc/$metadata`
(EDMX), `.svc/Submissions`, `.svc/Submissions.<repeat path>` and one entity,
`.svc/Submissions('<instanceID>')[/<path>]`; the same for the form's draft
under `…/<fid>/draft.svc`. Each route also answers under the app-user prefix
`/v1/key/<token>/…` (where an app user is refused, as in Central).

Checks run in Central's order: credentials (401), the request's format,
OData version and options (406.1, 404.1, 501.x), the form (404.1), the
permission (403.1), then the options' values (400.x, 501.x). Every answer
carries `OData-Version: 4.0`; the metadata document's problems are written
as Central's XML error. `app.odata.service` does the work; the
`Submissions` table streams from a read session of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

from flask import Blueprint, Response, request, stream_with_context
from lxml import etree

from app.api.common import central_routes
from app.api.openapi import operation
from app.errors import AppError
from app.httpauth import resolve_actor
from app.odata import options, service
from app.runtime import current_runtime, read_session

bp = Blueprint("api_odata", __name__)

TAG = "OData Endpoints"
FORM = "/projects/<int:project_id>/forms/<xml_form_id>"
JSON_DOCUMENT = "application/json; charset=utf-8"
SERVICE_DOCUMENT = "application/json; charset=utf-8; odata.metadata=minimal"
XML_DOCUMENT = "application/xml; charset=utf-8"
XML_ERROR = "text/xml; charset=utf-8"
DATA_QUERY = {
    "$top": "at most this many rows",
    "$skip": "leave out this many rows first",
    "$skiptoken": "continue where a page's `@odata.nextLink` says",
    "$count": "`true`: add `@odata.count`",
    "$filter": "a condition on `__id` and `__system/…` (Central's subset)",
    "$orderby": "`__id` or `__system/…` fields, `asc` or `desc`",
    "$select": "the properties to give (`__id`, `__system/…` included)",
    "$expand": "`*`: repeats inline",
    "$wkt": "`true`: geodata as WKT instead of GeoJSON",
    "$format": "`json`",
}
FORMAT_QUERY = {"$format": "the format asked for"}
_SVC = re.compile(r"\.svc(?=/|$)", re.IGNORECASE)


_route = central_routes(bp)


@bp.after_request
def _odata_version(response: Response) -> Response:
    response.headers["OData-Version"] = "4.0"
    return response


def _params() -> list[tuple[str, str]]:
    return list(request.args.items(multi=True))


def _raw_path() -> str:
    """The path as the client wrote it (Central builds its links from the
    original URL, percent-encoding and all)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    return quote(request.script_root + request.path, safe="/()'!*$,;=:@-._~")


def _domain() -> str:
    settings = current_runtime().settings
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return request.host_url.rstrip("/")


def _service_root(path: str) -> str:
    match = _SVC.search(path)
    return path[: match.end()] if match else path


def _feed(
    project_id: int, xml_form_id: str, token: str | None, *, draft: bool, serves: str
) -> service.Feed:
    actor = resolve_actor(token)
    options.check_request(_params(), headers=request.headers, serves=serves)
    return service.open_feed(
        read_session(),
        project_id=project_id,
        xml_form_id=xml_form_id,
        actor=actor,
        draft=draft,
    )


def _service_document(
    project_id: int, xml_form_id: str, token: str | None, draft: bool
) -> Response:
    feed = _feed(project_id, xml_form_id, token, draft=draft, serves="json")
    path = _raw_path().rstrip("/")
    body = service.service_document(feed, f"{_domain()}{path}")
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        content_type=SERVICE_DOCUMENT,
    )


def _xml_error(error: AppError) -> Response:
    """Central's OData XML error: the code, the English message, no details."""
    root = etree.Element("error", code=str(error.problem))
    message = etree.SubElement(root, "message")
    message.text = error.en
    details = etree.SubElement(root, "details")
    details.text = ""
    root.text = "\n  "
    message.tail = "\n  "
    details.tail = "\n"
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="unicode"
    )
    return Response(body, status=error.status, content_type=XML_ERROR)


def _metadata(
    project_id: int, xml_form_id: str, token: str | None, draft: bool
) -> Response:
    resolve_actor(token)  # credentials first, answered as every API path
    try:
        feed = _feed(project_id, xml_form_id, token, draft=draft, serves="xml")
        body = service.metadata_document(feed)
    except AppError as error:
        return _xml_error(error)
    return Response(body, content_type=XML_DOCUMENT)


def _data(
    project_id: int, xml_form_id: str, resource: str, token: str | None, draft: bool
) -> Response:
    feed = _feed(project_id, xml_form_id, token, draft=draft, serves="json")
    path = _raw_path()
    plan = service.plan_document(
        feed,
        resource,
        _params(),
        domain=_domain(),
        path=path,
        service_root=_service_root(path),
    )
    if not plan.streams:
        body = "".join(service.document(read_session(), plan))
        return Response(body, content_type=JSON_DOCUMENT)
    runtime = current_runtime()

    def generate() -> Iterator[str]:
        with runtime.db.read() as session:
            yield from service.document(session, plan)

    return Response(stream_with_context(generate()), content_type=JSON_DOCUMENT)


# --- the published form's feed --------------------------------------------------


@_route(f"{FORM}.svc")
@operation("Service Document", tag=TAG, response="application/json", query=FORMAT_QUERY)
def odata_service(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    """`Submissions` and one table per repeat."""
    return _service_document(project_id, xml_form_id, token, False)


@_route(f"{FORM}.svc/$metadata")
@operation("Metadata Document", tag=TAG, response="application/xml", query=FORMAT_QUERY)
def odata_metadata(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    """EDMX 4.0: an entity type per table, a complex type per group."""
    return _metadata(project_id, xml_form_id, token, False)


@_route(f"{FORM}.svc/<path:resource>")
@operation("Data Document", tag=TAG, response="application/json", query=DATA_QUERY)
def odata_data(
    project_id: int, xml_form_id: str, resource: str, token: str | None = None
) -> Response:
    """`Submissions`, `Submissions.<repeat path>`, or one entity:
    `Submissions('<instanceID>')` and the repeats under it."""
    return _data(project_id, xml_form_id, resource, token, False)


# --- the draft's feed ----------------------------------------------------------


@_route(f"{FORM}/draft.svc")
@operation(
    "Draft Service Document", tag=TAG, response="application/json", query=FORMAT_QUERY
)
def odata_draft_service(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    return _service_document(project_id, xml_form_id, token, True)


@_route(f"{FORM}/draft.svc/$metadata")
@operation(
    "Draft Metadata Document", tag=TAG, response="application/xml", query=FORMAT_QUERY
)
def odata_draft_metadata(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    return _metadata(project_id, xml_form_id, token, True)


@_route(f"{FORM}/draft.svc/<path:resource>")
@operation(
    "Draft Data Document", tag=TAG, response="application/json", query=DATA_QUERY
)
def odata_draft_data(
    project_id: int, xml_form_id: str, resource: str, token: str | None = None
) -> Response:
    """Nothing is ever recorded against a draft: its tables are empty."""
    return _data(project_id, xml_form_id, resource, token, True)
