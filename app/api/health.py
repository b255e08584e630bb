"""`GET /healthz`: 200 when the server can take submissions, 503 with reasons."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.runtime import current_runtime, read_session
from app.system.service import check_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def health_check():  # type: ignore[no-untyped-def]
    problems = check_health(read_session(), current_runtime().blobs)
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ok")
