"""Errors as `application/problem+json` (RFC 9457) for the API surface.

Keeps Central's `message` and `code` keys beside the RFC ones, because pyODK
reads `message` (openrosa.md §9).
"""

from __future__ import annotations

from flask import Response, json

from app.errors import AppError


def problem_response(error: AppError, lang: str | None = None) -> Response:
    detail = error.detail(lang)
    body = {
        "type": f"https://ayni.local/problems/{error.code}",
        "title": error.en if lang == "en" else error.es,
        "status": error.status,
        "detail": detail,
        "code": error.code,
        "message": detail,
    }
    if "errors" in error.extra:
        body["errors"] = error.extra["errors"]
    return Response(
        json.dumps(body), status=error.status, mimetype="application/problem+json"
    )
