"""The login throttle shared by every worker: failed sign-ins per client.

Counted in the database (`login_throttle`), so every gunicorn worker on every
machine slows the same client down; used by the console's sign-in, the API's
`POST /v1/sessions` and Collect's Digest/Basic logins alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.db.models import LoginThrottle
from app.db.types import UTCDateTime, utcnow

LOGIN_FAILURE_LIMIT = 10
LOGIN_WINDOW = timedelta(seconds=60)
LOGIN_LOCK = timedelta(seconds=60)
LOGIN_MAX_LOCK = timedelta(minutes=15)


def login_delay(
    session: Session, client_key: str, now: datetime | None = None
) -> float:
    """Seconds the client must still wait before trying to log in; 0 when free."""
    locked_until = session.scalar(
        sa.select(LoginThrottle.locked_until).where(
            LoginThrottle.client_key == client_key
        )
    )
    if locked_until is None:
        return 0.0
    return max(0.0, (locked_until - (now or utcnow())).total_seconds())


def record_login_failure(
    session: Session,
    client_key: str,
    *,
    limit: int = LOGIN_FAILURE_LIMIT,
    window: timedelta = LOGIN_WINDOW,
    lock: timedelta = LOGIN_LOCK,
    max_lock: timedelta = LOGIN_MAX_LOCK,
    now: datetime | None = None,
) -> None:
    """Count a failed login; after `limit` failures within `window`, lock.

    The n-th lock lasts `lock * 2**(n-1)`, at most `max_lock`. Failures keep
    counting across locks while the client keeps failing; a client quiet for a
    whole `window` after its lock (or its last failure) starts afresh. Failures
    reported while locked are not counted: the edge refuses before checking.
    """
    now = now or utcnow()
    limit = max(1, limit)
    now_value = sa.literal(now, UTCDateTime())
    table = LoginThrottle.__table__
    locked = sa.and_(
        table.c.locked_until.is_not(None), table.c.locked_until > now_value
    )
    expired = table.c.window_start < sa.literal(now - window, UTCDateTime())
    # One INSERT … ON CONFLICT DO UPDATE: the increment is done by the database
    # on the row it holds locked, so concurrent workers never lose a count
    # (PostgreSQL row lock; SQLite's single writer). Column references in SET
    # mean the row already stored.
    statement = (
        dialect_insert(session)(LoginThrottle)
        .values(client_key=client_key, failures=1, window_start=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=["client_key"],
            set_={
                "failures": sa.case(
                    (locked, table.c.failures),
                    (expired, 1),
                    else_=table.c.failures + 1,
                ),
                "window_start": sa.case(
                    (locked, table.c.window_start),
                    (expired, now_value),
                    else_=table.c.window_start,
                ),
            },
        )
        .returning(table.c.failures, table.c.locked_until)
    )
    failures, locked_until = session.execute(statement).one()
    if locked_until is not None and locked_until > now:
        return
    if failures % limit == 0:
        nth_lock = failures // limit
        duration = min(lock * 2 ** min(nth_lock - 1, 20), max_lock)
        # The next window opens when the lock ends, so failing again right
        # after it keeps counting towards a longer lock.
        session.execute(
            sa.update(LoginThrottle)
            .where(LoginThrottle.client_key == client_key)
            .values(locked_until=now + duration, window_start=now + duration)
        )
    session.flush()


def record_login_success(
    session: Session, client_key: str, now: datetime | None = None
) -> None:
    """Forget the client's failures, unless it is locked (a lock always runs out)."""
    now_value = sa.literal(now or utcnow(), UTCDateTime())
    session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.client_key == client_key,
            sa.or_(
                LoginThrottle.locked_until.is_(None),
                LoginThrottle.locked_until <= now_value,
            ),
        )
    )
    session.flush()
