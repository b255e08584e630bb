"""Errors as ODK Central's problem bodies on every `/v1/` path.

Central answers `{"message": …, "code": 404.1, "details": {…}}` (its
`lib/util/problem.js`, serialized by `lib/http/endpoint.js`) as
`application/json`; its frontend, pyODK (which raises with `message`), ruODK
and scripts branch on the numeric `code`. Ayni keeps that shape and adds its
own beside it, never instead:

- `message`: the English text, as Central would say it;
- `code`: Central's numeric problem code (`AppError.problem`);
- `details`: Central's machine-readable details, when the problem has them;
- `error`: Ayni's stable name for the problem (`AppError.code`);
- `detail`: the bilingual message for a person, Spanish first (or the
  language asked for with `Accept-Language`);
- `errors`, `warnings`: pyxform's messages for XLSForm problems.
"""

from __future__ import annotations

from typing import Any

from flask import Response, json

from app.errors import AppError


def problem_body(error: AppError, lang: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": error.en,
        "code": error.problem,
        "error": error.code,
        "detail": error.detail(lang),
    }
    if error.details is not None:
        body["details"] = error.details
    for key in ("errors", "warnings"):
        if key in error.extra:
            body[key] = error.extra[key]
    return body


def problem_response(error: AppError, lang: str | None = None) -> Response:
    return Response(
        json.dumps(problem_body(error, lang)),
        status=error.status,
        mimetype="application/json",
    )


# The problem body in the OpenAPI document (`app.api.openapi`).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["message", "code"],
    "properties": {
        "message": {"type": "string", "description": "English, as Central says it"},
        "code": {"type": "number", "example": 404.1},
        "details": {"type": "object"},
        "error": {"type": "string", "description": "Ayni's stable name"},
        "detail": {"type": "string", "description": "Spanish first, then English"},
        "errors": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}
