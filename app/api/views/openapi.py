"""`GET /v1/openapi.json`: the OpenAPI document of this server's API."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Response, current_app, jsonify

from app.api.openapi import build_document, operation

bp = Blueprint("api_openapi", __name__)


def _version() -> str:
    try:
        return version("ayni")
    except PackageNotFoundError:  # running from a checkout without install
        return "0"


@bp.get("/v1/openapi.json")
@operation(
    "The OpenAPI document of this API",
    tag="Ayni",
    response="application/json",
    ayni=True,
)
def openapi_document() -> Response:
    return jsonify(build_document(current_app, _version()))
