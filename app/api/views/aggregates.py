"""`GET /v1/projects/<pid>/aggregates[/<name>[.csv]]`: the CdP's planning
figures (needs ranking, practices, participation, agreements, commitments,
exchanges) as JSON or CSV, after knowledge governance."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.aggregates import service as aggregates_service
from app.api.openapi import operation
from app.api.views.exports import query_date
from app.auth import permissions
from app.errors import NotFoundError
from app.governance.visibility import Viewer
from app.httpauth import resolve_actor
from app.runtime import read_session

bp = Blueprint("api_aggregates", __name__)


@bp.get("/v1/projects/<int:project_id>/aggregates")
@operation(
    "Names of the planning aggregates",
    tag="Aggregates",
    ayni=True,
    response="application/json",
)
def aggregate_list(project_id: int) -> Response:
    resolve_actor()
    return jsonify(sorted(aggregates_service.AGGREGATES))


@bp.get("/v1/projects/<int:project_id>/aggregates/<name>")
@operation(
    "One planning aggregate as JSON, or CSV with a .csv suffix",
    tag="Aggregates",
    ayni=True,
    response="application/json",
    query={"since": "ISO date", "until": "ISO date"},
)
def aggregate_show(project_id: int, name: str) -> Response:
    as_csv = name.endswith(".csv")
    name = name.removesuffix(".csv")
    compute = aggregates_service.AGGREGATES.get(name)
    if compute is None:
        raise NotFoundError(
            f"No existe el agregado «{name}».", f"No aggregate named '{name}'."
        )
    actor = resolve_actor()
    permissions.require(actor, "submission.list", permissions.Project(project_id))
    result = compute(
        read_session(),
        project_id,
        Viewer(actor=actor, project_id=project_id),
        since=query_date("since"),
        until=query_date("until"),
        ayllu=request.args.get("ayllu") or None,
        mesa=request.args.get("mesa") or None,
    )
    if not as_csv:
        return jsonify(result)
    text = aggregates_service.to_csv_text(name, result)
    response = Response(text, content_type="text/csv; charset=utf-8")
    response.headers.set("Content-Disposition", "attachment", filename=f"{name}.csv")
    return response
