"""Digest replay protection: each `(nonce, nc)` is accepted once, by any worker.

`app.auth.digest` proves a header was made by someone knowing the password;
this module remembers which headers were already used, in the database so that
every gunicorn worker on every machine agrees. Collect reuses a nonce
pre-emptively with a growing `nc` (openrosa.md §5), so each of its requests is
new here; a header captured on the plain-HTTP Wi-Fi and sent again, with
another body or not, finds its `(nonce, nc)` taken and is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.digest import NONCE_MAX_AGE
from app.db import dialect_insert
from app.db.models import DigestNonceUse
from app.db.types import utcnow

# Rows are kept while their nonce could still be accepted (plus clock skew).
KEEP = timedelta(seconds=NONCE_MAX_AGE + 600)


def claim(
    session: Session, nonce: str, nc: int, *, now: datetime | None = None
) -> bool:
    """Record this use of the nonce; False if it was used with this `nc` before.

    One INSERT … ON CONFLICT DO NOTHING: two workers racing with the same
    header both try to insert the same primary key, and exactly one wins.
    """
    now = now or utcnow()
    if nc == 1:
        # A nonce's first use is once per challenge: a cheap moment to forget
        # uses whose nonces can no longer be accepted anyway.
        session.execute(
            sa.delete(DigestNonceUse).where(DigestNonceUse.seen_at < now - KEEP)
        )
    statement = (
        dialect_insert(session)(DigestNonceUse)
        .values(nonce=nonce, nc=nc, seen_at=now)
        .on_conflict_do_nothing(index_elements=["nonce", "nc"])
        .returning(DigestNonceUse.nc)
    )
    claimed = session.execute(statement).first() is not None
    session.flush()
    return claimed
