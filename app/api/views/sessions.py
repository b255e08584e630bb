"""Central's sessions: `POST /v1/sessions` (sign in for a Bearer token),
`GET /v1/sessions/restore`, `DELETE /v1/sessions/current` and
`DELETE /v1/sessions/<token>` (signing out, or revoking an app user).

Central's rules: wrong credentials are 401.2 with no detail; a missing or
blank e-mail or password is 400.3; ending a session takes `session.end` on
its actor, which every user holds on their own account and an administrator
on everyone's (`permissions.Account`), and a project manager on the app users
of the project. A token that does not exist is refused like one the caller
may not end (403.1), so nobody learns which tokens exist. App users' tokens
are their sessions in Central; ending one revokes the app user (and, as in
Ayni's `DELETE …/app-users/<id>`, takes it out of the lists). Signing out is
not audited, as in Central; revoking an app user is. A request with no
credentials at all finds no session to restore or end (404.1) and may end
no token (403.1), as in Central; bad credentials stay 401.2.

Authenticated routes answer under the app-user prefix `/v1/key/<token>/…`
too, as Central's do; an app user may end no session.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api.common import central_routes, json_body, success
from app.api.openapi import operation
from app.api.schemas.common import SuccessSchema
from app.api.schemas.sessions import (
    SessionCreateSchema,
    SessionRestoreSchema,
    SessionSchema,
)
from app.auth import accounts, app_users, permissions, sessions, throttle
from app.auth.errors import SessionRefusedError
from app.errors import (
    AuthenticationError,
    InvalidDataTypeError,
    MissingParametersError,
    NotFoundError,
)
from app.httpauth import bearer_token, check_login_delay, client_key, resolve_actor
from app.runtime import current_runtime, read_session, write_transaction

bp = Blueprint("api_sessions", __name__)

_EXPECTED = ["email", "password"]


_route = central_routes(bp)


def _blank(value: object) -> bool:
    # Central's `isBlank`: absent, null or the empty string.
    return value is None or value == ""


def _credentials() -> tuple[str, object]:
    """The e-mail and password of the body, as Central checks them.

    Raises: UnparseableError (400.1), MissingParametersError (400.3),
    InvalidDataTypeError (400.11, an e-mail that is not a string).
    """
    # No body at all is Central's empty object: parameters missing (400.3).
    data = json_body(SessionCreateSchema()) if request.get_data(cache=True) else {}
    email, password = data.get("email"), data.get("password")
    missing = [
        name
        for name, value in (("email", email), ("password", password))
        if _blank(value)
    ]
    if missing:
        # Central echoes the keys given, absent ones left out; a password is
        # never echoed, only whether it came.
        got = {
            name: value if name == "email" or _blank(value) else "***"
            for name, value in (("email", email), ("password", password))
            if name in data
        }
        raise MissingParametersError(
            f"Faltan datos obligatorios: {', '.join(missing)}.",
            f"Required parameters missing. Expected ({', '.join(_EXPECTED)}).",
            details={"expected": _EXPECTED, "got": got},
        )
    if not isinstance(email, str):
        raise InvalidDataTypeError("email", "string")
    return email, password


@bp.post("/v1/sessions")
@operation(
    "Sign in: a Bearer session token",
    tag="Sessions",
    body=SessionCreateSchema,
    response=SessionSchema,
)
def session_create() -> Response:
    """A session for a user's e-mail (or Ayni username) and password, valid
    24 hours. Failed attempts are counted per client and slow it down."""
    email, password = _credentials()
    check_login_delay()
    limit = current_runtime().settings.login_attempts_per_minute
    with write_transaction() as session:
        # A password that is not a string matches nobody's (Central: 401).
        user = (
            accounts.authenticate(session, email, password)
            if isinstance(password, str)
            else None
        )
        if user is None:
            throttle.record_login_failure(session, client_key(), limit=limit)
        else:
            created = sessions.create_session(
                session, user, user_agent=request.headers.get("User-Agent")
            )
            body = SessionSchema().dump(created)
    if user is None:
        raise AuthenticationError(
            "Usuario o contraseña incorrectos.",
            "Could not authenticate with the provided credentials.",
        )
    return jsonify(body)


def _anonymous(token: str | None) -> bool:
    """Whether the request carries no credentials at all."""
    return not (token or request.args.get("st") or request.headers.get("Authorization"))


def _no_session() -> NotFoundError:
    return NotFoundError(
        "Esta solicitud no usa una sesión (Bearer).",
        "Could not find the resource you were looking for.",
    )


def _bearer_session(token: str | None) -> Any:
    """The session the request authenticated with. Raises: NotFoundError
    (404.1: no credentials, as in Central, or signed in some other way),
    AuthenticationError (401.2: bad credentials), SessionRefusedError
    (403.1: an app user)."""
    if _anonymous(token):
        raise _no_session()
    actor = resolve_actor(token)
    if actor.is_app_user:
        raise SessionRefusedError()
    bearer = bearer_token()
    found = sessions.live_session(read_session(), bearer) if bearer else None
    if found is None:
        raise _no_session()
    return found


@_route("/sessions/restore", methods=["GET"])
@operation("The current session's dates", tag="Sessions", response=SessionRestoreSchema)
def session_restore(token: str | None = None) -> Response:
    """The `createdAt` and `expiresAt` of the Bearer session this request
    uses (never its token); 404.1 when it uses none (no credentials too)."""
    return jsonify(SessionRestoreSchema().dump(_bearer_session(token)))


@_route("/sessions/current", methods=["DELETE"])
@operation("Sign out the current session", tag="Sessions", response=SuccessSchema)
def session_delete_current(token: str | None = None) -> Response:
    """Ends the Bearer session this request uses; the user's other sessions
    stay. 404.1 when the request uses none (no credentials, Basic, Digest)."""
    current = _bearer_session(token)
    actor = resolve_actor(token)
    if not permissions.can(actor, "session.end", permissions.Account(current.user_id)):
        raise SessionRefusedError()
    with write_transaction() as session:
        sessions.end_session(session, current.token)
    return success()


@_route("/sessions/<session_token>", methods=["DELETE"])
@operation(
    "Sign out a session, or revoke an app user", tag="Sessions", response=SuccessSchema
)
def session_delete(session_token: str, token: str | None = None) -> Response:
    """Ends a user's session (their own, or anyone's for an administrator),
    or revokes an app user by its token (`session.end` in its project).
    Without credentials 403.1, as for a token the caller may not end."""
    if _anonymous(token):
        raise SessionRefusedError()
    actor = resolve_actor(token)
    with write_transaction() as session:
        owner = sessions.session_owner(session, session_token)
        if owner is None:
            raise SessionRefusedError()
        if owner.api_session is not None:
            target: permissions.Target = permissions.Account(owner.api_session.user_id)
        else:
            assert owner.app_user is not None  # noqa: S101 - one of the two
            target = permissions.Project(owner.app_user.project_id)
        if not permissions.can(actor, "session.end", target):
            raise SessionRefusedError()
        if owner.api_session is not None:
            sessions.end_session(session, session_token)
        else:
            assert owner.app_user is not None  # noqa: S101
            app_users.revoke_app_user(
                session, owner.app_user.id, by_user_id=actor.user_id
            )
    return success()
