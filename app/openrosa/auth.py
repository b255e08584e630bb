"""Who is calling an OpenRosa endpoint, decided the way Collect can answer.

- App users (tablets) carry their token in the URL (`/v1/key/<token>/…` or
  `?st=`); a bad or revoked token is 403, never 401, so Collect shows an error
  instead of asking for a password it does not have (openrosa.md §5).
- Web users enabled for Collect answer a Digest challenge (`qop="auth"`) over
  plain HTTP; Basic is offered and accepted only over HTTPS, because Collect
  never answers a Basic challenge on an `http://` URL.
- Scripts may use a Bearer token from `POST /v1/sessions`.

Failed logins are counted per client in the database, so every worker process
slows down the same client.
"""

from __future__ import annotations

import base64
import binascii

from flask import request

from app.auth import digest
from app.auth import service as auth_service
from app.auth.actors import Actor, actor_for_app_user, actor_for_user
from app.errors import AppError, AuthenticationError, PermissionDeniedError
from app.runtime import Runtime, current_runtime


class TooManyAttemptsError(AppError):
    status, code = 429, "too_many_attempts"
    default_es = "Demasiados intentos fallidos. Espere un momento e intente de nuevo."
    default_en = "Too many failed attempts. Wait a moment and try again."


class InvalidTokenError(PermissionDeniedError):
    code = "invalid_token"
    default_es = (
        "El código de acceso de esta tableta no es válido o fue revocado. "
        "Pida a la coordinación un nuevo código QR."
    )
    default_en = (
        "This tablet's access code is invalid or was revoked. "
        "Ask the coordination for a new QR code."
    )


def is_secure_request(runtime: Runtime) -> bool:
    if request.scheme == "https":
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return runtime.settings.trusted_proxy and forwarded.lower() == "https"


def client_key() -> str:
    # Behind a trusted proxy the client is the first X-Forwarded-For hop.
    runtime = current_runtime()
    if runtime.settings.trusted_proxy and request.access_route:
        return f"ip:{request.access_route[0]}"
    return f"ip:{request.remote_addr}"


def authentication_error(*, stale: bool = False) -> AuthenticationError:
    error = AuthenticationError(
        "Usuario o contraseña incorrectos, o se requiere iniciar sesión.",
        "Wrong username or password, or sign-in required.",
    )
    error.extra["stale"] = stale
    return error


def challenge_headers(error: AppError) -> list[tuple[str, str]]:
    """WWW-Authenticate headers for a 401: one challenge per header."""
    runtime = current_runtime()
    stale = bool(error.extra.get("stale"))
    headers = []
    if is_secure_request(runtime):
        headers.append(("WWW-Authenticate", 'Basic realm="Ayni", charset="UTF-8"'))
    headers.append(
        ("WWW-Authenticate", digest.challenge(runtime.settings.secret_key, stale=stale))
    )
    return headers


def _fail(runtime: Runtime, key: str) -> AuthenticationError:
    with runtime.db.transaction() as session:
        auth_service.record_login_failure(
            session, key, limit=runtime.settings.login_attempts_per_minute
        )
    return authentication_error()


def actor_from_token(token: str) -> Actor:
    runtime = current_runtime()
    with runtime.db.read() as session:
        app_user = auth_service.app_user_for_token(session, token)
        if app_user is None:
            raise InvalidTokenError()
        return actor_for_app_user(session, app_user)


def _digest_actor(runtime: Runtime, header: str, key: str) -> Actor:
    creds = digest.parse_authorization(header)
    if creds is None:
        raise _fail(runtime, key)
    nonce_state = digest.check_nonce(runtime.settings.secret_key, creds.nonce)
    if nonce_state == "stale":
        # A well-formed old nonce: ask again with stale=true, so Collect retries
        # with the same credentials instead of prompting (openrosa.md §5).
        raise authentication_error(stale=True)
    with runtime.db.read() as session:
        found = auth_service.digest_ha1_for(session, creds.username)
        ok = (
            nonce_state == "ok"
            and found is not None
            and digest.verify(creds, found[1], request.method, request.full_path)
        )
        actor = actor_for_user(session, found[0]) if ok and found else None
    if actor is None:
        raise _fail(runtime, key)
    return actor


def _basic_actor(runtime: Runtime, header: str, key: str) -> Actor:
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        login, password = decoded.split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _fail(runtime, key) from None
    with runtime.db.read() as session:
        user = auth_service.authenticate(session, login, password)
        actor = actor_for_user(session, user) if user is not None else None
    if actor is None:
        raise _fail(runtime, key)
    return actor


def _bearer_actor(runtime: Runtime, header: str) -> Actor:
    with runtime.db.read() as session:
        user = auth_service.user_for_bearer(session, header[7:].strip())
        if user is None:
            raise AuthenticationError(
                "La sesión expiró o no es válida.", "The session expired or is invalid."
            )
        return actor_for_user(session, user)


def resolve_actor(token: str | None = None) -> Actor:
    """The caller of this request. Raises AuthenticationError (401) or 403/429."""
    token = token or request.args.get("st")
    if token:
        return actor_from_token(token)
    runtime = current_runtime()
    header = request.headers.get("Authorization", "")
    scheme = header.split(" ", 1)[0].lower()
    if scheme == "bearer":
        return _bearer_actor(runtime, header)
    if scheme not in ("digest", "basic"):
        raise authentication_error()
    key = client_key()
    with runtime.db.read() as session:
        wait = auth_service.login_delay(session, key)
    if wait > 0:
        error = TooManyAttemptsError()
        error.extra["retry_after"] = int(wait) + 1
        raise error
    if scheme == "digest":
        actor = _digest_actor(runtime, header, key)
    elif is_secure_request(runtime):
        actor = _basic_actor(runtime, header, key)
    else:
        # Basic over plain HTTP would send the password in clear: refuse it and
        # offer Digest, which Collect answers.
        raise authentication_error()
    # A success does not clear the failure count: that would be a write on every
    # request; failures simply age out of their window.
    return actor
