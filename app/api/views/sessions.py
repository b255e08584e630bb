"""`POST /v1/sessions`, `DELETE /v1/sessions/<token>`, `GET /v1/users/current`:
ODK Central's session API, which pyODK and scripts sign in with."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.api.common import json_body
from app.api.openapi import operation
from app.api.schemas.common import SuccessSchema
from app.api.schemas.sessions import SessionCreateSchema, SessionSchema, UserSchema
from app.auth import accounts, sessions, throttle
from app.errors import AuthenticationError
from app.httpauth import bearer_token, check_login_delay, client_key
from app.runtime import current_runtime, read_session, write_transaction

bp = Blueprint("api_sessions", __name__)


@bp.post("/v1/sessions")
@operation(
    "Sign in: a Bearer session token",
    tag="Sessions",
    body=SessionCreateSchema,
    response=SessionSchema,
)
def session_create() -> Response:
    data = json_body(SessionCreateSchema())
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
@operation("Sign out: end the session", tag="Sessions", response=SuccessSchema)
def session_delete(token: str) -> Response:
    # Knowing a token is holding it: whoever sends it may end it (signing out).
    with write_transaction() as session:
        sessions.end_session(session, token)
    return jsonify(success=True)


@bp.get("/v1/users/current")
@operation("The signed-in user", tag="Users", response=UserSchema)
def user_current() -> Response:
    token = bearer_token()
    user = sessions.user_for_token(read_session(), token) if token else None
    if user is None:
        raise AuthenticationError()
    return jsonify(UserSchema().dump(user))
