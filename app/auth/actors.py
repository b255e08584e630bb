"""Who is acting: a frozen snapshot of a user or an app user and their grants.

Edges resolve the caller once per request (`actor_for_user`,
`actor_for_app_user`, from a live account: deleted users and revoked app users
never get this far) and hand the `Actor` to services, which ask
`app.auth.permissions.can(actor, verb, target)`. Only reads here, no writes.

The actor types are ODK Central's: `user` (a person with a password) and
`field_key` (an app user: a tablet holding a URL token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.permissions import ROLES, Grant
from app.db.models import AppUser, RoleAssignment, User

ActorKind = Literal["user", "field_key"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int
    display_name: str
    project_id: int | None  # the project of an app user; None for users
    grants: tuple[Grant, ...]

    @property
    def is_app_user(self) -> bool:
        return self.kind == "field_key"

    @property
    def user_id(self) -> int | None:
        """The web user's id, for `*_user_id` columns (None for app users)."""
        return None if self.is_app_user else self.id

    @property
    def app_user_id(self) -> int | None:
        return self.id if self.is_app_user else None


def _grants(session: Session, condition: sa.ColumnElement[bool]) -> tuple[Grant, ...]:
    rows = session.execute(
        sa.select(
            RoleAssignment.role,
            RoleAssignment.project_id,
            RoleAssignment.form_id,
            RoleAssignment.ayllu,
        )
        .where(condition)
        .order_by(RoleAssignment.id)
    )
    # Two concurrent grants of the same scope may both be stored (no portable
    # unique constraint covers nullable columns); one copy is enough here.
    return tuple(dict.fromkeys(Grant(*row) for row in rows))


def actor_for_user(session: Session, user: User) -> Actor:
    return Actor(
        kind="user",
        id=user.id,
        display_name=user.display_name,
        project_id=None,
        grants=_grants(session, RoleAssignment.user_id == user.id),
    )


def actor_for_app_user(session: Session, app_user: AppUser) -> Actor:
    # An app user is a tablet of one project: only app-user grants in that
    # project count, whatever other rows someone put in role_assignments (the
    # role service never writes them), so a tablet is never an administrator.
    grants = tuple(
        grant
        for grant in _grants(session, RoleAssignment.app_user_id == app_user.id)
        if grant.project_id == app_user.project_id
        and grant.role in ROLES
        and ROLES[grant.role].scope == "app"
    )
    return Actor(
        kind="field_key",
        id=app_user.id,
        display_name=app_user.display_name,
        project_id=app_user.project_id,
        grants=grants,
    )


def is_live(session: Session, actor: Actor) -> bool:
    """Whether the account behind the actor still exists and is not revoked.

    An actor is resolved when a request starts; a tablet's upload may take
    minutes on a weak link. A write checks again, inside its transaction, so
    a tablet revoked (or a user deleted) meanwhile stores nothing.
    """
    if actor.is_app_user:
        revoked = session.execute(
            sa.select(AppUser.revoked_at).where(AppUser.id == actor.id)
        ).first()
        return revoked is not None and revoked.revoked_at is None
    deleted = session.execute(
        sa.select(User.deleted_at).where(User.id == actor.id)
    ).first()
    return deleted is not None and deleted.deleted_at is None
