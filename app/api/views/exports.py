"""Export endpoints on ODK Central's paths, plus Ayni's XLSX, GeoJSON and JSON
lines, and the planning aggregates.

`GET|POST /v1/projects/<pid>/forms/<fid>/submissions.csv.zip` (Central's zip:
root table, repeat tables, `media/`; `?attachments=false` leaves media out),
`…/submissions.csv` (root table only), `…/submissions.xlsx|.geojson|.jsonl`.
Query options: `groupPaths=false`, `splitSelectMultiples=true`,
`labels=es|en` (choice labels), `headers=es|en` (column labels), `bom=true`,
filters `since`, `until` (ISO dates or datetimes, 1900-01-01 to 9998-12-31),
`reviewState` (comma list), `ayllu`, `mesa`, `deleted=true`.

Responses stream: the first bytes leave before the last row is read, so every
option is checked before the response starts; a failure after it has begun
could only cut the download short behind a 200.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request, stream_with_context

from app.api.openapi import operation
from app.datebounds import parse_instant
from app.exports import service as exports_service
from app.governance.records import RecordFilter
from app.httpauth import resolve_actor
from app.runtime import current_runtime, write_transaction

bp = Blueprint("api_exports", __name__)

_TRUE = {"1", "true", "yes"}


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    return value.strip().lower() in _TRUE


def query_date(name: str) -> datetime | None:
    """A `since`/`until` query parameter as an aware datetime, or None.

    Raises: DateBoundError (400) for a value that is not a date or is outside
    what every later step can represent (`app.datebounds`): checked here,
    before the response starts, never while the export streams.
    """
    value = request.args.get(name)
    if not value:
        return None
    return parse_instant(value, name)


def export_options_from_request(export_format: str) -> exports_service.ExportOptions:
    states = request.args.get("reviewState", "")
    filters = RecordFilter(
        since=query_date("since"),
        until=query_date("until"),
        review_states=tuple(s for s in states.split(",") if s),
        ayllu=request.args.get("ayllu") or None,
        mesa=request.args.get("mesa") or None,
        include_deleted=_flag("deleted", False),
    )
    return exports_service.ExportOptions(
        format=export_format,
        filters=filters,
        group_paths=_flag("groupPaths", True),
        split_select_multiples=_flag("splitSelectMultiples", False),
        labels_lang=request.args.get("labels") or None,
        header_lang=request.args.get("headers") or None,
        attachments=export_format == "csv.zip" and _flag("attachments", True),
        bom=_flag("bom", False),
    )


def stream_export(
    project_id: int, xml_form_id: str, options: exports_service.ExportOptions, actor
) -> Response:  # type: ignore[no-untyped-def]
    runtime = current_runtime()
    with write_transaction() as session:
        plan = exports_service.plan_export(
            session,
            project_id=project_id,
            xml_form_id=xml_form_id,
            actor=actor,
            options=options,
        )
        exports_service.record_export(session, plan)

    def generate():  # type: ignore[no-untyped-def]
        with runtime.db.read() as session:
            yield from exports_service.export_chunks(session, runtime.blobs, plan)

    response = Response(stream_with_context(generate()), content_type=plan.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=plan.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


_EXPORT_QUERY = {
    "attachments": "false leaves media/ out of the zip",
    "groupPaths": "false drops group names from column headers",
    "splitSelectMultiples": "true adds one column per choice",
    "labels": "es|en: choice labels instead of names (Ayni)",
    "headers": "es|en: question labels as headers (Ayni)",
    "bom": "true starts CSV with a UTF-8 BOM (Ayni)",
    "since": "ISO date or datetime, submissions received from then",
    "until": "ISO date or datetime, submissions received until then",
    "reviewState": "comma list of review states",
    "ayllu": "only this ayllu (Ayni)",
    "mesa": "only this working table (Ayni)",
    "deleted": "true exports deleted submissions",
}


@bp.route(
    "/v1/projects/<int:project_id>/forms/<xml_form_id>/submissions.<any("
    '"csv.zip", csv, xlsx, geojson, jsonl):export_format>',
    methods=["GET", "POST"],
)
@operation(
    "Export submissions: csv.zip and csv as Central; xlsx, geojson, jsonl (Ayni)",
    tag="Submissions",
    response="application/octet-stream",
    query=_EXPORT_QUERY,
)
def submissions_export(
    project_id: int, xml_form_id: str, export_format: str
) -> Response:
    actor = resolve_actor()
    return stream_export(
        project_id, xml_form_id, export_options_from_request(export_format), actor
    )
