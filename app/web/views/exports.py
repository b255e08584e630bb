"""The exports page: a form, a format (CSV zip, CSV, XLSX, GeoJSON, JSON
lines), filters and label options, streamed from `app.exports.service` after
knowledge governance. A POST (with its CSRF token) because every export is
written to the audit log (domain.md §4)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Response,
    render_template,
    request,
    stream_with_context,
)
from flask_login import login_required

from app.auth import permissions
from app.errors import AppError
from app.exports import service as exports_service
from app.forms import service as forms_service
from app.governance.records import RecordFilter
from app.runtime import current_runtime, read_session, write_transaction
from app.web import session as web_session
from app.web.views import bp
from app.web.views.common import (
    day_range,
    flag,
    flash_error,
    parse_day,
    project_choices,
    project_context,
)

FORMAT_ORDER = ("csv.zip", "csv", "xlsx", "geojson", "jsonl")


def _page(project_id: int, status: int = 200) -> tuple[str, int]:
    context = project_context(project_id)
    web_session.require("export.create", permissions.Project(project_id))
    forms = [
        {"xml_form_id": form.xml_form_id, "title": form.title}
        for form, _version in forms_service.list_forms(read_session(), project_id)
    ]
    choices = project_choices(project_id)
    chosen = request.values.get("form") or (forms[0]["xml_form_id"] if forms else "")
    return (
        render_template(
            "web/exports.html",
            forms=forms,
            chosen=chosen,
            formats=FORMAT_ORDER,
            states=exports_service.REVIEW_STATES,
            values=request.values,
            fresh=request.method == "GET",
            ayllus=choices.get("ayllu", {}),
            mesas=choices.get("mesa", {}) or choices.get("mesas", {}),
            nav="exports",
            **context,
        ),
        status,
    )


@bp.get("/projects/<int:project_id>/exports")
@login_required
def export_page(project_id: int) -> tuple[str, int]:
    return _page(project_id)


def _options() -> exports_service.ExportOptions:
    export_format = request.form.get("format", "csv.zip")
    since, until = day_range(parse_day("since"), parse_day("until"))
    filters = RecordFilter(
        since=since,
        until=until,
        review_states=tuple(s for s in request.form.getlist("state") if s),
        ayllu=(request.form.get("ayllu") or "").strip() or None,
        mesa=(request.form.get("mesa") or "").strip() or None,
        include_deleted=flag("deleted"),
    )
    return exports_service.ExportOptions(
        format=export_format,
        filters=filters,
        group_paths=flag("group_paths"),
        split_select_multiples=flag("split_select_multiples"),
        labels_lang=request.form.get("labels_lang") or None,
        header_lang=request.form.get("header_lang") or None,
        attachments=export_format == "csv.zip" and flag("attachments"),
        bom=flag("bom"),
    )


@bp.post("/projects/<int:project_id>/exports")
@login_required
def export_download(project_id: int) -> Response | tuple[str, int]:
    runtime = current_runtime()
    xml_form_id = request.form.get("form", "")
    try:
        options = _options()
        project_context(project_id)
        with write_transaction() as session:
            plan = exports_service.plan_export(
                session,
                project_id=project_id,
                xml_form_id=xml_form_id,
                actor=web_session.actor(),
                options=options,
            )
            exports_service.record_export(session, plan)
    except AppError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        flash_error(exc)
        return _page(project_id, 422)

    def generate() -> Iterator[bytes]:
        with runtime.db.read() as session:
            yield from exports_service.export_chunks(session, runtime.blobs, plan)

    response = Response(stream_with_context(generate()), content_type=plan.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=plan.filename)
    response.headers["Cache-Control"] = "no-store"
    return response
