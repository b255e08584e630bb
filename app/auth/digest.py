"""HTTP Digest authentication (RFC 2617 / RFC 7616) as ODK Collect speaks it.

Pure: no database and no Flask. It owns the signed nonces, the challenge
header, parsing of the `Authorization: Digest …` header and the response check;
looking up a user's HA1 (`app.auth.accounts`), refusing a replayed `nc`
(`app.auth.nonces`) and counting failed logins (`app.auth.throttle`) need the
database.

Collect's client is okhttp-digest (openrosa.md §5): MD5 or MD5-sess, `qop="auth"`
only (given `auth-int` it hashes an empty body), one challenge per header, and
it reuses a nonce pre-emptively with a growing `nc`. Flask-HTTPAuth's
`HTTPDigestAuth` (design.md's first choice) keeps nonces in the Flask session
cookie, which Collect never sends back, and in one process; several gunicorn
workers need nonces any of them can check, so they are signed: a timestamp,
random bytes that make each challenge's nonce its own, and an HMAC of both.
What a signature cannot tell is whether a request was seen before: that is the
`(nonce, nc)` record in the database (RFC 7616 §3.4: the client increments `nc`
for each request with the same nonce; a repeated one is a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from app.auth.passwords import DIGEST_REALM

# Collect holds on to a nonce while the app runs, so nonces live for hours; an
# older one is answered with `stale=true`, which Collect retries silently.
NONCE_MAX_AGE = 6 * 3600
# Workers on several machines may disagree on the clock by a little.
_CLOCK_SKEW = 300
_MAC_HEX_CHARS = 32  # 128 bits of HMAC-SHA256 are plenty for a nonce tag
_NONCE_RE = re.compile(r"(\d{1,12})\.([0-9a-f]{16})\.([0-9a-f]{32})")
_NC_RE = re.compile(r"[0-9a-fA-F]{8}")

NonceState = Literal["ok", "stale", "invalid"]


@dataclass(frozen=True)
class DigestCredentials:
    """The auth-params of one `Authorization: Digest` header, as sent."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    qop: str
    nc: str
    cnonce: str
    algorithm: str
    opaque: str | None


def _mac(secret: str, purpose: str, message: str) -> str:
    # The purpose prefix keeps these tags from being valid anywhere else the
    # application secret signs something.
    data = f"ayni-digest-{purpose}:{message}".encode()
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def _md5(text: str) -> str:
    # MD5 is what RFC 2617 and okhttp-digest speak; it is not used for storage.
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def make_nonce(secret: str, now: float | None = None) -> str:
    """A nonce any worker sharing `secret` can check:
    `<unix time>.<16 random hex>.<hmac>`. The random part keeps two tablets
    challenged in the same second from sharing a nonce (and its `nc` record)."""
    stamp = f"{int(time.time() if now is None else now)}.{secrets.token_hex(8)}"
    return f"{stamp}.{_mac(secret, 'nonce', stamp)[:_MAC_HEX_CHARS]}"


def check_nonce(
    secret: str,
    nonce: str,
    now: float | None = None,
    max_age: float = NONCE_MAX_AGE,
) -> NonceState:
    """`ok` if we issued it and it is young, `stale` if ours but old, else `invalid`."""
    match = _NONCE_RE.fullmatch(nonce)
    if match is None:
        return "invalid"
    seconds, salt, tag = match.groups()
    expected = _mac(secret, "nonce", f"{seconds}.{salt}")[:_MAC_HEX_CHARS]
    if not hmac.compare_digest(tag, expected):
        return "invalid"
    age = (time.time() if now is None else now) - int(seconds)
    if age < -_CLOCK_SKEW:
        # Signed by us yet from the future: only a wrong clock does that, and a
        # stale answer would make Collect loop, so refuse it outright.
        return "invalid"
    return "ok" if age <= max_age else "stale"


def opaque_for(secret: str) -> str:
    """A fixed opaque value; Collect echoes it, nothing depends on it."""
    return _mac(secret, "opaque", DIGEST_REALM)[:_MAC_HEX_CHARS]


def challenge(secret: str, *, stale: bool = False, now: float | None = None) -> str:
    """The value of one `WWW-Authenticate: Digest …` header.

    Only `qop="auth"` is offered: given `auth-int`, Collect picks it for bodies
    but hashes an empty one, so every POST would fail (openrosa.md §5).
    """
    value = (
        f'Digest realm="{DIGEST_REALM}", qop="auth", algorithm=MD5, '
        f'nonce="{make_nonce(secret, now)}", opaque="{opaque_for(secret)}"'
    )
    return value + ", stale=true" if stale else value


_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM_RE = re.compile(
    rf'\s*({_TCHARS})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_TCHARS}))\s*(,|$)', re.DOTALL
)
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_REQUIRED = ("username", "realm", "nonce", "uri", "response")


def _parse_params(text: str) -> dict[str, str] | None:
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        if text[pos] in " \t,":
            # Empty list elements ("a=1, , b=2") are allowed by RFC 9110 §5.6.1.
            pos += 1
            continue
        match = _PARAM_RE.match(text, pos)
        if match is None:
            return None
        name, quoted, token, _sep = match.groups()
        value = _QUOTED_PAIR_RE.sub(r"\1", quoted) if quoted is not None else token
        name = name.lower()
        if name in params:
            # RFC 7616 §3.4: each parameter at most once; a repeat is an attack
            # or a broken client, and either way ambiguous.
            return None
        params[name] = value
        pos = match.end()
    return params


def parse_authorization(header: str) -> DigestCredentials | None:
    """The credentials of an `Authorization: Digest …` value; None if malformed."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params = _parse_params(rest)
    if params is None or any(not params.get(name) for name in _REQUIRED):
        return None
    qop = params.get("qop") or None
    # Only `qop=auth` is offered, and without qop there is no `nc` to refuse a
    # replay by (RFC 2069's legacy form): a header without both is malformed.
    if qop is None or not (params.get("nc") and params.get("cnonce")):
        return None
    if not _NC_RE.fullmatch(params["nc"]):
        return None  # RFC 7616 §3.4: nc is 8 hexadecimal digits
    return DigestCredentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"].lower(),
        qop=qop,
        nc=params["nc"],
        cnonce=params["cnonce"],
        algorithm=params.get("algorithm") or "MD5",
        opaque=params.get("opaque"),
    )


def response_for(ha1: str, method: str, creds: DigestCredentials) -> str:
    """The `response` a client knowing `ha1` must send for these credentials.

    Raises:
        ValueError: an algorithm or qop we never offer (SHA-256, auth-int).
    """
    algorithm = creds.algorithm.upper()
    if algorithm == "MD5-SESS":
        # RFC 2617 §3.2.2.2: the session key is derived once per nonce/cnonce.
        ha1 = _md5(f"{ha1}:{creds.nonce}:{creds.cnonce}")
    elif algorithm != "MD5":
        raise ValueError(f"unsupported Digest algorithm {creds.algorithm!r}")
    ha2 = _md5(f"{method.upper()}:{creds.uri}")
    if creds.qop != "auth":
        raise ValueError(f"unsupported Digest qop {creds.qop!r}")
    return _md5(f"{ha1}:{creds.nonce}:{creds.nc}:{creds.cnonce}:{creds.qop}:{ha2}")


def _path_of(uri: str) -> str:
    # RFC 7616 allows an absolute URI too; only its path part names the resource.
    return urlsplit(uri).path


def uri_matches(creds_uri: str, request_path: str) -> bool:
    """Whether the `uri` the client signed names the path being requested.

    `request_path` may carry a query (Flask's `full_path` always ends in `?`);
    only paths are compared, both percent-decoded, because the query (Collect's
    `deviceID`) is already covered by the signed `uri` itself.
    """
    signed = unquote(_path_of(creds_uri))
    requested = request_path.split("?", 1)[0]
    # Werkzeug hands over an already decoded path; decoding again is harmless
    # for ours (no `%` in routes or tokens) and covers a raw path as well.
    return signed in (requested, unquote(requested))


def verify(creds: DigestCredentials, ha1: str, method: str, request_path: str) -> bool:
    """Whether the credentials prove knowledge of `ha1` for this request.

    The nonce must be checked separately (`check_nonce`), and so must the
    `nc`: a verified header is recorded once (`app.auth.nonces`), so the same
    header sent again, with any body, is a replay.
    """
    if creds.realm != DIGEST_REALM or not uri_matches(creds.uri, request_path):
        return False
    try:
        expected = response_for(ha1, method, creds)
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode(), creds.response.lower().encode())


def nonce_count(creds: DigestCredentials) -> int:
    """The request counter the client sent (`nc`, hexadecimal)."""
    return int(creds.nc, 16)
