"""Who is calling: request authentication shared by the OpenRosa, API and
console edges.

- App users (tablets) carry their token in the URL (`/v1/key/<token>/…` or
  `?st=`); a bad or revoked token is 403, never 401, so Collect shows an error
  instead of asking for a password it does not have (openrosa.md §5).
- Web users enabled for Collect answer a Digest challenge (`qop="auth"`) over
  plain HTTP. Each verified `(nonce, nc)` is recorded, so a header captured on
  the Wi-Fi cannot be sent again; Collect's pre-emptive reuse of a nonce with a
  growing `nc` keeps working. Basic is offered and accepted only over HTTPS,
  because Collect never answers a Basic challenge on an `http://` URL, and a
  password in clear on the Wi-Fi is anyone's.
- Excel, Power BI and ruODK read the API and OData with Basic only. On a LAN
  without TLS an administrator may allow that with `BASIC_OVER_HTTP=1`
  (openrosa.md §5: "over plain HTTP only if an admin explicitly enables it"):
  then Basic is accepted, and offered in the API's 401s; Collect's (OpenRosa)
  401s keep offering Digest alone on plain HTTP.
- Scripts and pyODK use a Bearer token from `POST /v1/sessions`.

`X-Forwarded-Proto` and `X-Forwarded-For` count only with `TRUSTED_PROXY=1`.
Failed logins are counted per client in the database, so every worker process
slows down the same client. The caller is resolved once per request.
"""

from __future__ import annotations

import base64
import binascii

from flask import g, request

from app.auth import accounts, app_users, digest, nonces, sessions, throttle
from app.auth.actors import Actor, actor_for_app_user, actor_for_user
from app.errors import AppError, AuthenticationError, PermissionDeniedError
from app.runtime import current_runtime, read_session, write_transaction

_ACTOR = "_ayni_actor"
_BASIC_CHALLENGE = 'Basic realm="Ayni", charset="UTF-8"'


class TooManyAttemptsError(AppError):
    status, code, problem = 429, "too_many_attempts", 429.1
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


def is_secure_request() -> bool:
    if request.scheme == "https":
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return current_runtime().settings.trusted_proxy and forwarded.lower() == "https"


def basic_allowed() -> bool:
    """Whether this request may authenticate with Basic."""
    return is_secure_request() or current_runtime().settings.basic_over_http


def client_key() -> str:
    """The throttle key of this client: its address, or behind a trusted proxy
    the first `X-Forwarded-For` hop. One key for every surface, so a client
    failing on the console and on Collect is slowed down once, not twice."""
    if current_runtime().settings.trusted_proxy and request.access_route:
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
    stale = bool(error.extra.get("stale"))
    headers = []
    if is_secure_request():
        headers.append(("WWW-Authenticate", _BASIC_CHALLENGE))
    secret = current_runtime().settings.secret_key
    headers.append(("WWW-Authenticate", digest.challenge(secret, stale=stale)))
    return headers


def api_challenge_headers() -> list[tuple[str, str]]:
    """WWW-Authenticate of an API 401: Basic where it may be used, so Excel
    and Power BI ask for a password; pyODK and scripts use Bearer."""
    return [("WWW-Authenticate", _BASIC_CHALLENGE)] if basic_allowed() else []


def check_login_delay() -> None:
    """Raises TooManyAttemptsError while this client is locked out."""
    wait = throttle.login_delay(read_session(), client_key())
    if wait > 0:
        error = TooManyAttemptsError()
        error.extra["retry_after"] = int(wait) + 1
        raise error


def record_login_failure() -> None:
    settings = current_runtime().settings
    with write_transaction() as session:
        throttle.record_login_failure(
            session, client_key(), limit=settings.login_attempts_per_minute
        )


def _failed() -> AuthenticationError:
    record_login_failure()
    return authentication_error()


def _token_actor(token: str) -> Actor:
    session = read_session()
    app_user = app_users.app_user_for_token(session, token)
    if app_user is None:
        raise InvalidTokenError()
    return actor_for_app_user(session, app_user)


def _digest_actor(header: str) -> Actor:
    creds = digest.parse_authorization(header)
    if creds is None:
        raise _failed()
    secret = current_runtime().settings.secret_key
    nonce_state = digest.check_nonce(secret, creds.nonce)
    if nonce_state == "stale":
        # A well-formed old nonce: ask again with stale=true, so Collect retries
        # with the same credentials instead of prompting (openrosa.md §5).
        raise authentication_error(stale=True)
    session = read_session()
    found = accounts.digest_ha1_for(session, creds.username)
    ok = (
        nonce_state == "ok"
        and found is not None
        and digest.verify(creds, found[1], request.method, request.full_path)
    )
    if not ok or found is None:
        raise _failed()
    with write_transaction() as writer:
        fresh = nonces.claim(writer, creds.nonce, digest.nonce_count(creds))
    if not fresh:
        # This exact header was used before: a replay (or a client resending a
        # request as it was). A new challenge marked stale lets a real client
        # retry at once with a new nonce; a replayer has no password to answer
        # it with. Not counted as a failed login: no password was guessed.
        raise authentication_error(stale=True)
    return actor_for_user(session, found[0])


def _basic_actor(header: str) -> Actor:
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        login, password = decoded.split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _failed() from None
    session = read_session()
    user = accounts.authenticate(session, login, password)
    if user is None:
        raise _failed()
    return actor_for_user(session, user)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, rest = header.partition(" ")
    return rest.strip() if scheme.lower() == "bearer" else None


def _bearer_actor(token: str) -> Actor:
    session = read_session()
    user = sessions.user_for_token(session, token)
    if user is None:
        raise AuthenticationError(
            "La sesión expiró o no es válida.", "The session expired or is invalid."
        )
    return actor_for_user(session, user)


def _resolve(token: str | None) -> Actor:
    token = token or request.args.get("st")
    if token:
        return _token_actor(token)
    bearer = bearer_token()
    if bearer is not None:
        return _bearer_actor(bearer)
    header = request.headers.get("Authorization", "")
    scheme = header.split(" ", 1)[0].lower()
    if scheme not in ("digest", "basic"):
        raise authentication_error()
    check_login_delay()
    if scheme == "digest":
        return _digest_actor(header)
    if basic_allowed():
        return _basic_actor(header)
    # Basic over plain HTTP would send the password in clear: refuse it and
    # offer Digest, which Collect answers.
    raise authentication_error()


def resolve_actor(token: str | None = None) -> Actor:
    """The caller of this request, resolved once per request.

    Raises AuthenticationError (401), InvalidTokenError (403) or
    TooManyAttemptsError (429).
    """
    actor = g.get(_ACTOR)
    if actor is None:
        actor = _resolve(token)
        setattr(g, _ACTOR, actor)
    return actor  # type: ignore[no-any-return]
