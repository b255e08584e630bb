"""The audit log: who did what, when, written and read through one helper.

Every service that must leave a trace calls `record(...)`; nothing else builds
`AuditLog` rows. Actions are dotted names in ODK Central's style
(`submission.update.review_state`, `role.assign`, `consent.withdraw`), so the
log page can filter by prefix. Details name things (ids, instanceIDs, element
paths) and never carry submission content: sacred or restricted knowledge must
not reach the log (domain.md §4).

Services flush, never commit; no Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.db.models import AppUser, AuditLog, User


class Who(Protocol):
    """Whoever acts (`app.auth.actors.Actor`): a web user or an app user."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def app_user_id(self) -> int | None: ...


MAX_PAGE = 200


def record(
    session: Session,
    action: str,
    *,
    by: Who | None = None,
    by_user_id: int | None = None,
    target_type: str | None = None,
    target_id: object = None,
    **details: Any,
) -> AuditLog:
    """Append one entry. `by` (a user or an app user) or `by_user_id` says
    who; neither means the server itself (setup, the command line)."""
    entry = AuditLog(
        action=action,
        actor_user_id=by.user_id if by is not None else by_user_id,
        actor_app_user_id=by.app_user_id if by is not None else None,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditEntry:
    id: int
    action: str
    actor_name: str | None
    actor_kind: str | None  # "user", "field_key" or None (the server)
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def entries(
    session: Session,
    *,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """The log, newest first. `action` matches the whole name or a dotted
    prefix (`submission` finds `submission.update.access_level`)."""
    per_page = max(1, min(per_page, MAX_PAGE))
    page = max(1, page)
    query = sa.select(AuditLog)
    if action:
        query = query.where(
            sa.or_(
                AuditLog.action == action,
                AuditLog.action.startswith(f"{action}.", autoescape=True),
            )
        )
    if since is not None:
        query = query.where(AuditLog.created_at >= since)
    if until is not None:
        query = query.where(AuditLog.created_at < until)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    user, app_user = aliased(User), aliased(AppUser)
    rows = session.execute(
        query.add_columns(user.display_name, app_user.display_name)
        .outerjoin(user, user.id == AuditLog.actor_user_id)
        .outerjoin(app_user, app_user.id == AuditLog.actor_app_user_id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    found = [
        AuditEntry(
            id=log.id,
            action=log.action,
            actor_name=user_name or app_user_name,
            actor_kind="user"
            if log.actor_user_id
            else ("field_key" if log.actor_app_user_id else None),
            target_type=log.target_type,
            target_id=log.target_id,
            details=dict(log.details or {}),
            created_at=log.created_at,
        )
        for log, user_name, app_user_name in rows
    ]
    return AuditPage(found, int(total or 0), page, per_page)


def actions(session: Session) -> list[str]:
    """Every action name in the log, for the filter."""
    return list(
        session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action))
    )
