"""One app-level error handler that picks the renderer by path.

Routing 404/405s never reach blueprint handlers (Flask), so the choice is made
here for every error: OpenRosa paths answer OpenRosa XML (Collect shows its
`<message>`), other `/v1/` paths answer problem JSON, everything else an HTML
page. Unexpected exceptions are logged with their traceback (app-user tokens
masked, `app.logredact`) and rendered as a generic 500 in the same three
shapes.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from app.api.problems import problem_response
from app.errors import AppError
from app.logredact import redact
from app.web.errors import error_page

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: ("La solicitud no es válida.", "Bad request."),
    401: ("Se requiere autenticación.", "Authentication is required."),
    403: ("No tiene permiso.", "Forbidden."),
    404: ("No se encontró la dirección solicitada.", "Not found."),
    405: ("Método no permitido en esta dirección.", "Method not allowed."),
    408: (
        "La solicitud dejó de llegar; vuelva a enviarla.",
        "The request stopped arriving; send it again.",
    ),
    413: ("El envío es demasiado grande.", "The upload is too large."),
}


def request_language() -> str:
    best = request.accept_languages.best_match(["es", "en"], default="es")
    return best or "es"


def _is_openrosa_path(path: str) -> bool:
    from app.openrosa import is_openrosa_path

    return is_openrosa_path(path)


def render_error(error: AppError) -> Response:
    lang = request_language()
    path = request.path
    if _is_openrosa_path(path):
        from app.openrosa.responses import openrosa_error

        return openrosa_error(error, lang)
    if path.startswith("/v1/") or path == "/healthz":
        response = problem_response(error, lang)
        if error.status == 401:
            from app.httpauth import api_challenge_headers

            for name, value in api_challenge_headers():
                response.headers.add(name, value)
        return response
    return error_page(error.status, error.detail(lang), lang)


def _from_http_exception(exc: HTTPException) -> AppError:
    status = exc.code or 500
    es, en = _HTTP_MESSAGES.get(status, (exc.name, exc.name))
    # Ayni's own HTTP exceptions (app.httpbody) say more than the status.
    es, en = getattr(exc, "es", es), getattr(exc, "en", en)
    error = AppError(es, en)
    error.status = status
    # Central answers routing and framing failures with the status's first
    # problem code (404.1 for an unknown path).
    error.problem = status + 0.1
    error.code = (exc.name or "error").lower().replace(" ", "_")
    return error


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(error: AppError) -> Response:
        return render_error(error)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException) -> Response:
        response = render_error(_from_http_exception(exc))
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        # Masked here and again by the handlers' RedactingFilter, which also
        # masks the traceback (an exception's text may quote the URL).
        log.exception("unexpected error on %s %s", request.method, redact(request.path))
        return render_error(AppError())
