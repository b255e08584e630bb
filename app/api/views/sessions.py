"""`POST /v1/sessions`, `DELETE /v1/sessions/<token>`, `GET /v1/users/current`:
ODK Central's session API, which pyODK and scripts sign in with."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError

from app.api.schemas import SessionCreateSchema, SessionSchema, UserSchema
from app.auth import service as auth_service
from app.errors import AuthenticationError, UnprocessableError
from app.openrosa.auth import TooManyAttemptsError, client_key
from app.runtime import current_runtime

bp = Blueprint("api_sessions", __name__)


def _load(schema: SessionCreateSchema) -> dict:
    try:
        return schema.load(request.get_json(silent=True) or {})  # type: ignore[no-any-return]
    except ValidationError as exc:
        error = UnprocessableError(
            "Faltan datos o no son válidos.", "Missing or invalid data."
        )
        error.extra["errors"] = exc.messages
        raise error from exc


@bp.post("/v1/sessions")
def session_create() -> Response:
    data = _load(SessionCreateSchema())
    runtime = current_runtime()
    key = client_key()
    with runtime.db.read() as session:
        if (wait := auth_service.login_delay(session, key)) > 0:
            error = TooManyAttemptsError()
            error.extra["retry_after"] = int(wait) + 1
            raise error
    with runtime.db.transaction() as session:
        user = auth_service.authenticate(session, data["email"], data["password"])
        if user is None:
            auth_service.record_login_failure(
                session, key, limit=runtime.settings.login_attempts_per_minute
            )
        else:
            api_session = auth_service.create_api_session(session, user)
            body = SessionSchema().dump(api_session)
    if user is None:
        raise AuthenticationError(
            "Usuario o contraseña incorrectos.", "Wrong e-mail or password."
        )
    return jsonify(body)


@bp.delete("/v1/sessions/<token>")
def session_delete(token: str) -> Response:
    with current_runtime().db.transaction() as session:
        auth_service.end_api_session(session, token)
    return jsonify(success=True)


@bp.get("/v1/users/current")
def user_current() -> Response:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        raise AuthenticationError()
    with current_runtime().db.read() as session:
        user = auth_service.user_for_bearer(session, header[7:].strip())
        if user is None:
            raise AuthenticationError()
        return jsonify(UserSchema().dump(user))
