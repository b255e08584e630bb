"""Sessions: the Bearer tokens of `POST /v1/sessions` and the console's sign-ins.

Both are rows of one table, as in ODK Central (its frontend signs in through
`/v1/sessions` too): a random 64-character token, its user and when it
expires. The console keeps the token in its signed cookie, so signing out, a
password change or an expiry ends the session on the server, whatever copy of
the cookie someone kept.

App users' tokens are sessions too in Central (`DELETE /v1/sessions/<token>`
revokes one); in Ayni they live on the app user (`app.auth.app_users`), and
`session_owner` says whose a token is.

Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.db.models import ApiSession, AppUser, User
from app.db.types import utcnow

SESSION_TTL = timedelta(hours=24)  # Central's
TOKEN_LENGTH = 64


def new_token() -> str:
    """64 characters of [A-Za-z0-9!$]: 48 random bytes in base64.

    ODK Central's token shape (openrosa.md §5): `/` and `+` are swapped for `!`
    and `$` so the token can sit in a URL path segment unescaped. 48 bytes give
    no `=` padding.
    """
    raw = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
    return raw.replace("/", "!").replace("+", "$")


def create_session(
    session: Session,
    user: User,
    *,
    ttl: timedelta = SESSION_TTL,
    now: datetime | None = None,
    user_agent: str | None = None,
) -> ApiSession:
    """A session token for `user`, valid for `ttl` (Central: 24 hours).
    Audited as `user.session.create`, with the client's `User-Agent` when
    given, as Central logs it."""
    now = now or utcnow()
    row = ApiSession(
        token=new_token(), user_id=user.id, created_at=now, expires_at=now + ttl
    )
    session.add(row)
    session.flush()
    details = {"userAgent": user_agent[:255]} if user_agent else {}
    audit.record(
        session, "user.session.create", by_user_id=user.id, target_type="user",
        target_id=user.id, **details,
    )  # fmt: skip
    session.flush()
    return row


def user_for_token(
    session: Session, token: str, *, now: datetime | None = None
) -> User | None:
    """The live user of an unexpired session, or None."""
    if not token or len(token) > TOKEN_LENGTH:
        return None
    return session.scalars(
        sa.select(User)
        .join(ApiSession, ApiSession.user_id == User.id)
        .where(
            ApiSession.token == token,
            ApiSession.expires_at > (now or utcnow()),
            User.deleted_at.is_(None),
        )
    ).first()


def end_session(session: Session, token: str) -> bool:
    """End one session; False if there was none with that token."""
    if not token or len(token) > TOKEN_LENGTH:
        return False
    result = session.execute(sa.delete(ApiSession).where(ApiSession.token == token))
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_sessions_of(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of the user (a password change), but `keep` (the one
    making the change); how many ended."""
    query = sa.delete(ApiSession).where(ApiSession.user_id == user_id)
    if keep:
        query = query.where(ApiSession.token != keep)
    result = session.execute(query)
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_session(
    session: Session, token: str, *, now: datetime | None = None
) -> ApiSession | None:
    """The unexpired session of a live user holding `token`, or None."""
    if not token or len(token) > TOKEN_LENGTH:
        return None
    return session.scalars(
        sa.select(ApiSession)
        .join(User, User.id == ApiSession.user_id)
        .where(
            ApiSession.token == token,
            ApiSession.expires_at > (now or utcnow()),
            User.deleted_at.is_(None),
        )
    ).first()


@dataclass(frozen=True)
class SessionOwner:
    """Whose a token is: a user's session or a (live) app user's token."""

    api_session: ApiSession | None = None
    app_user: AppUser | None = None


def session_owner(session: Session, token: str) -> SessionOwner | None:
    """The session or app user a token belongs to; None when it is neither."""
    found = live_session(session, token)
    if found is not None:
        return SessionOwner(api_session=found)
    if not token or len(token) > TOKEN_LENGTH:
        return None
    app_user = session.scalars(
        sa.select(AppUser).where(AppUser.token == token, AppUser.revoked_at.is_(None))
    ).first()
    return SessionOwner(app_user=app_user) if app_user is not None else None


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    result = session.execute(
        sa.delete(ApiSession).where(ApiSession.expires_at <= (now or utcnow()))
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
