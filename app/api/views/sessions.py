"""`POST /v1/sessions`, `DELETE /v1/sessions/<token>`, `GET /v1/users/current`:
ODK Central's session API, which pyODK and scripts sign in with."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError

from app.api.schemas import SessionCreateSchema, SessionSchema, UserSchema
from app.auth import accounts, sessions, throttle
from app.errors import AuthenticationError, UnprocessableError
from app.httpauth import bearer_token, check_login_delay, client_key
from app.runtime import current_runtime, read_session, write_transaction

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
    check_login_delay()
    limit = current_runtime().settings.login_attempts_per_minute
    with write_transaction() as session:
        user = accounts.authenticate(session, data["email"], data["password"])
        if user is None:
            throttle.record_login_failure(session, client_key(), limit=limit)
        else:
            body = SessionSchema().dump(sessions.create_session(session, user))
    if user is None:
        raise AuthenticationError(
            "Usuario o contraseña incorrectos.", "Wrong e-mail or password."
        )
    return jsonify(body)


@bp.delete("/v1/sessions/<token>")
def session_delete(token: str) -> Response:
    # Knowing a token is holding it: whoever sends it may end it (signing out).
    with write_transaction() as session:
        sessions.end_session(session, token)
    return jsonify(success=True)


@bp.get("/v1/users/current")
def user_current() -> Response:
    token = bearer_token()
    user = sessions.user_for_token(read_session(), token) if token else None
    if user is None:
        raise AuthenticationError()
    return jsonify(UserSchema().dump(user))
