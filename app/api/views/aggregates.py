"""`GET /v1/projects/<pid>/aggregates[/<name>[.csv]]`: the CdP's planning
figures (needs ranking, practices, participation, agreements, commitments,
exchanges) as JSON or CSV, after knowledge governance."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, jsonify, request

from app.aggregates import service as aggregates_service
from app.api.views.exports import _date
from app.errors import NotFoundError, PermissionDeniedError
from app.exports.service import can_export
from app.governance.service import Viewer
from app.openrosa.auth import resolve_actor
from app.runtime import current_runtime

bp = Blueprint("api_aggregates", __name__)


@bp.get("/v1/projects/<int:project_id>/aggregates")
def aggregate_list(project_id: int) -> Response:
    resolve_actor()
    return jsonify(sorted(aggregates_service.AGGREGATES))


@bp.get("/v1/projects/<int:project_id>/aggregates/<name>")
def aggregate_show(project_id: int, name: str) -> Response:
    as_csv = name.endswith(".csv")
    name = name.removesuffix(".csv")
    compute = aggregates_service.AGGREGATES.get(name)
    if compute is None:
        raise NotFoundError(
            f"No existe el agregado «{name}».", f"No aggregate named '{name}'."
        )
    actor = resolve_actor()
    if not can_export(actor, project_id):
        raise PermissionDeniedError(
            "No tiene permiso para ver las cifras de este proyecto.",
            "You are not allowed to see this project's figures.",
        )
    with current_runtime().db.read() as session:
        result = compute(
            session,
            project_id,
            Viewer(actor=actor, project_id=project_id),
            since=_date("since"),
            until=_date("until"),
            ayllu=request.args.get("ayllu") or None,
            mesa=request.args.get("mesa") or None,
        )
    if not as_csv:
        return jsonify(result)
    header, rows = aggregates_service.to_csv_rows(name, result)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = Response(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response.headers.set("Content-Disposition", "attachment", filename=f"{name}.csv")
    return response
