"""Granting and taking back roles (rows of `role_assignments`).

Which roles exist and what shape a grant of each must have is the permission
table's (`app.auth.permissions.ROLES`, `Role.scope`); this module checks a
grant against it, stores it and writes the audit entry, so granting someone
the guardian role always leaves a trace the console's audit log shows.
Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.auth.errors import AppUserNotFoundError, InvalidRoleError, UserNotFoundError
from app.auth.permissions import ROLES
from app.db.models import AppUser, Form, Project, RoleAssignment, User
from app.errors import NotFoundError


@dataclass(frozen=True)
class _Grant:
    role: str
    user_id: int | None
    app_user_id: int | None
    project_id: int | None
    form_id: int | None
    ayllu: str | None

    def matches(self) -> sa.ColumnElement[bool]:
        # `column == None` renders IS NULL, so an absent scope matches only
        # rows without that scope.
        return sa.and_(
            RoleAssignment.role == self.role,
            RoleAssignment.user_id == self.user_id,
            RoleAssignment.app_user_id == self.app_user_id,
            RoleAssignment.project_id == self.project_id,
            RoleAssignment.form_id == self.form_id,
            RoleAssignment.ayllu == self.ayllu,
        )

    def details(self) -> dict[str, object]:
        return {
            "role": self.role,
            "user_id": self.user_id,
            "app_user_id": self.app_user_id,
            "project_id": self.project_id,
            "form_id": self.form_id,
            "ayllu": self.ayllu,
        }


def _invalid(es: str, en: str) -> InvalidRoleError:
    return InvalidRoleError(es, en)


def _check_shape(grant: _Grant) -> None:
    """The scope each role allows (`Role.scope` in the permission table)."""
    role = ROLES.get(grant.role)
    if role is None:
        raise _invalid(
            f"Rol desconocido: «{grant.role}».", f"Unknown role '{grant.role}'."
        )
    if (grant.user_id is None) == (grant.app_user_id is None):
        raise _invalid(
            "Indique un usuario o un usuario de aplicación, no ambos.",
            "Give either a user or an app user, not both.",
        )
    if role.scope == "app":
        if grant.app_user_id is None or grant.ayllu is not None:
            raise _invalid(
                f"El rol {role.name} es solo para usuarios de aplicación, sin ayllu.",
                f"The {role.name} role is for app users only, without an ayllu.",
            )
        return
    if grant.app_user_id is not None:
        raise _invalid(
            "Un usuario de aplicación solo puede tener su propio rol.",
            "An app user can only hold the app user role.",
        )
    if grant.form_id is not None:
        raise _invalid(
            "Solo el rol de los usuarios de aplicación puede limitarse a un "
            "formulario.",
            "Only the app user role can be narrowed to a form.",
        )
    if role.scope == "site":
        if grant.project_id is not None or grant.ayllu is not None:
            raise _invalid(
                f"El rol {role.name} vale para todo el sitio, sin proyecto ni ayllu.",
                f"The {role.name} role is site-wide, without project or ayllu.",
            )
        return
    if grant.project_id is None:
        raise _invalid(
            f"El rol {role.name} necesita un proyecto.",
            f"The {role.name} role needs a project.",
        )
    if (role.scope == "ayllu") != (grant.ayllu is not None):
        raise _invalid(
            "La custodia necesita un ayllu, y solo ella lo lleva.",
            "Guardianship needs an ayllu, and only it carries one.",
        )


def _grant(
    session: Session,
    *,
    role: str,
    user_id: int | None,
    app_user_id: int | None,
    project_id: int | None,
    form_id: int | None,
    ayllu: str | None,
) -> _Grant:
    ayllu = (ayllu or "").strip() or None
    known = ROLES.get(role)
    is_app = known is not None and known.scope == "app"
    if is_app and app_user_id is not None and project_id is None:
        # An app user belongs to exactly one project: default to it.
        project_id = session.scalar(
            sa.select(AppUser.project_id).where(AppUser.id == app_user_id)
        )
    return _Grant(role, user_id, app_user_id, project_id, form_id, ayllu)


def _check_targets(session: Session, grant: _Grant) -> None:
    """The grantee, project and form exist and fit together."""
    if grant.user_id is not None:
        user = session.get(User, grant.user_id)
        if user is None or user.deleted_at is not None:
            raise UserNotFoundError()
    if grant.app_user_id is not None:
        app_user = session.get(AppUser, grant.app_user_id)
        if app_user is None or app_user.revoked_at is not None:
            raise AppUserNotFoundError()
        if grant.project_id != app_user.project_id:
            raise _invalid(
                "Un usuario de aplicación solo tiene roles en su propio proyecto.",
                "An app user only holds roles in its own project.",
            )
    if grant.project_id is not None:
        project = session.get(Project, grant.project_id)
        if project is None or project.deleted_at is not None:
            raise NotFoundError("No existe ese proyecto.", "No such project.")
    if grant.form_id is not None:
        form_project = session.scalar(
            sa.select(Form.project_id).where(Form.id == grant.form_id)
        )
        if form_project is None or form_project != grant.project_id:
            raise _invalid(
                "Ese formulario no pertenece al proyecto.",
                "That form does not belong to the project.",
            )


def assign_role(
    session: Session,
    *,
    role: str,
    user_id: int | None = None,
    app_user_id: int | None = None,
    project_id: int | None = None,
    form_id: int | None = None,
    ayllu: str | None = None,
    by_user_id: int | None = None,
) -> RoleAssignment:
    """Grant a role; granting one already held returns the existing row.

    Raises:
        InvalidRoleError: unknown role, or a scope the role does not allow.
        UserNotFoundError, AppUserNotFoundError: no such (live) grantee.
        NotFoundError: no such project.
    """
    grant = _grant(
        session,
        role=role,
        user_id=user_id,
        app_user_id=app_user_id,
        project_id=project_id,
        form_id=form_id,
        ayllu=ayllu,
    )
    _check_shape(grant)
    _check_targets(session, grant)
    # No unique constraint covers nullable scopes portably, so two concurrent
    # grants could both insert; a duplicate row grants nothing more and
    # revoke_role removes all copies.
    existing = session.scalars(
        sa.select(RoleAssignment).where(grant.matches()).order_by(RoleAssignment.id)
    ).first()
    if existing is not None:
        return existing
    assignment = RoleAssignment(
        role=grant.role,
        user_id=grant.user_id,
        app_user_id=grant.app_user_id,
        project_id=grant.project_id,
        form_id=grant.form_id,
        ayllu=grant.ayllu,
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        "role.assign",
        by_user_id=by_user_id,
        target_type="role_assignment",
        target_id=assignment.id,
        **grant.details(),
    )
    session.flush()
    return assignment


def revoke_role(
    session: Session,
    *,
    role: str,
    user_id: int | None = None,
    app_user_id: int | None = None,
    project_id: int | None = None,
    form_id: int | None = None,
    ayllu: str | None = None,
    by_user_id: int | None = None,
) -> bool:
    """Take back a role with exactly this scope; False if it was not held.

    Raises:
        InvalidRoleError: unknown role, or a scope the role does not allow.
    """
    grant = _grant(
        session,
        role=role,
        user_id=user_id,
        app_user_id=app_user_id,
        project_id=project_id,
        form_id=form_id,
        ayllu=ayllu,
    )
    _check_shape(grant)
    ids = list(session.scalars(sa.select(RoleAssignment.id).where(grant.matches())))
    if not ids:
        return False
    session.execute(sa.delete(RoleAssignment).where(RoleAssignment.id.in_(ids)))
    audit.record(
        session,
        "role.revoke",
        by_user_id=by_user_id,
        target_type="role_assignment",
        target_id=ids[0],
        **grant.details(),
    )
    session.flush()
    return True
