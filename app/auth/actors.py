"""Who is acting: a frozen snapshot of a user or an app user and their roles.

Edges resolve the caller once per request (`actor_for_user`,
`actor_for_app_user`) and hand the `Actor` to services, which decide with it
(`app.auth.service.can_submit`, governance rules). Only reads here, no writes;
the snapshot never replaces a check that must see revocations made meanwhile,
which is why the `can_*` helpers take the session as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import AppUser, RoleAssignment, User

ActorKind = Literal["user", "app_user"]
RoleGrant = tuple[str, int | None, str | None]  # (role, project_id, ayllu)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int
    display_name: str
    project_id: int | None  # the project of an app user; None for users
    site_admin: bool
    roles: tuple[RoleGrant, ...]

    def has_project_role(self, project_id: int, *roles: str) -> bool:
        """Whether the actor holds one of `roles` in that project (not site-wide)."""
        return any(
            role in roles and pid == project_id for role, pid, _ayllu in self.roles
        )

    def guardian_ayllus(self, project_id: int) -> set[str]:
        """The ayllus whose restricted knowledge this actor keeps in the project."""
        return {
            ayllu
            for role, pid, ayllu in self.roles
            if role == "guardian" and pid == project_id and ayllu
        }


def _roles(
    session: Session, condition: sa.ColumnElement[bool]
) -> tuple[RoleGrant, ...]:
    rows = session.execute(
        sa.select(RoleAssignment.role, RoleAssignment.project_id, RoleAssignment.ayllu)
        .where(condition)
        .order_by(RoleAssignment.id)
    )
    # Form-scoped rows narrow an app user to some forms; they repeat the
    # project-wide grant here, so drop duplicates to keep the tuple small.
    return tuple(dict.fromkeys((role, pid, ayllu) for role, pid, ayllu in rows))


def actor_for_user(session: Session, user: User) -> Actor:
    roles = _roles(session, RoleAssignment.user_id == user.id)
    return Actor(
        kind="user",
        id=user.id,
        display_name=user.display_name,
        project_id=None,
        site_admin=any(role == "site_admin" for role, _pid, _ayllu in roles),
        roles=roles,
    )


def actor_for_app_user(session: Session, app_user: AppUser) -> Actor:
    # An app user is a tablet of one project; it can never be a site admin,
    # whatever rows someone put in role_assignments.
    roles = _roles(session, RoleAssignment.app_user_id == app_user.id)
    return Actor(
        kind="app_user",
        id=app_user.id,
        display_name=app_user.display_name,
        project_id=app_user.project_id,
        site_admin=False,
        roles=roles,
    )
