"""Granting, taking back and listing roles (rows of `role_assignments`).

Which roles exist and what shape a grant of each must have is the permission
table's (`app.auth.permissions.ROLES`, `Role.scope`); this module checks a
grant against it, stores it and writes the audit entry, so granting someone
the guardian role always leaves a trace the console's audit log shows.

Central's assignment routes name the grantee by an actor id, in one id space
for users and app users; Ayni keeps them in two tables. `grantee_for` is the
one place that maps between them: an actor id names an app user (its `id`,
as `/v1/projects/<id>/app-users` shows it) when the role is the app-user
role, and a web user (its `id`, as `/v1/users` shows it) for every other
role. That is how Central's clients use them: pyODK assigns forms to app
users with `…/assignments/2/<appUserId>`, and only web users hold the other
roles. Listings give back the same ids with the actor's `type`.

Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.auth.errors import (
    AppUserNotFoundError,
    AssignmentExistsError,
    InvalidRoleError,
    RoleNotFoundError,
    UserNotFoundError,
)
from app.auth.permissions import ROLES, Role, role_for_reference
from app.db.models import AppUser, Form, Project, RoleAssignment, User
from app.errors import NotFoundError

AYLLU_MAX = 64  # role_assignments.ayllu


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
        role = ROLES.get(self.role)
        return {
            "role": self.role,
            # Central's numeric role id, kept with the entry so the audit log
            # answers `roleId` without knowing the permission table.
            "role_id": role.central_id if role is not None else None,
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
    if ayllu is not None and len(ayllu) > AYLLU_MAX:
        raise _invalid(
            f"El nombre del ayllu admite como máximo {AYLLU_MAX} caracteres.",
            f"The ayllu's name may have at most {AYLLU_MAX} characters.",
        )
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
    return _assign(
        session,
        role=role,
        user_id=user_id,
        app_user_id=app_user_id,
        project_id=project_id,
        form_id=form_id,
        ayllu=ayllu,
        by_user_id=by_user_id,
        again_ok=True,
    )


def grant_role(
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
    """Grant a role as Central's `POST …/assignments/<role>/<actor>` does: a
    role already held there is a conflict (Central's assignments are unique).

    Raises:
        AssignmentExistsError: already held (409.3).
        and what `assign_role` raises.
    """
    return _assign(
        session,
        role=role,
        user_id=user_id,
        app_user_id=app_user_id,
        project_id=project_id,
        form_id=form_id,
        ayllu=ayllu,
        by_user_id=by_user_id,
        again_ok=False,
    )


def _assign(
    session: Session,
    *,
    role: str,
    user_id: int | None,
    app_user_id: int | None,
    project_id: int | None,
    form_id: int | None,
    ayllu: str | None,
    by_user_id: int | None,
    again_ok: bool,
) -> RoleAssignment:
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
        if again_ok:
            return existing
        raise AssignmentExistsError(
            details={
                "fields": ["actorId", "roleId"],
                "values": [
                    grant.user_id or grant.app_user_id,
                    ROLES[grant.role].central_id,
                ],
            }
        )
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


# --- Central's assignment resources ----------------------------------------------


def role_named(reference: str) -> Role:
    """The role a URL names by Central's numeric id or system name.

    Raises: RoleNotFoundError (404.1).
    """
    role = role_for_reference(reference)
    if role is None:
        raise RoleNotFoundError()
    return role


@dataclass(frozen=True)
class Grantee:
    """Who a Central actor id names: exactly one of a user or an app user."""

    user: User | None = None
    app_user: AppUser | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def app_user_id(self) -> int | None:
        return self.app_user.id if self.app_user is not None else None


def grantee_for(session: Session, role: Role, actor_id: int) -> Grantee:
    """The live user or app user that Central's `actorId` names for `role`
    (the mapping is explained in the module docstring); `actor_id_of` is its
    inverse.

    Raises: AppUserNotFoundError, UserNotFoundError (404.1; also for a
    deleted user or a revoked app user, as Central finds no deleted actor).
    """
    if role.scope == "app":
        app_user = session.get(AppUser, actor_id)
        if app_user is None or app_user.revoked_at is not None:
            raise AppUserNotFoundError()
        return Grantee(app_user=app_user)
    user = session.get(User, actor_id)
    if user is None or user.deleted_at is not None:
        raise UserNotFoundError()
    return Grantee(user=user)


def actor_id_of(actor: User | AppUser) -> int:
    """Central's `actorId` of a grantee: its own id (see `grantee_for`)."""
    return actor.id


@dataclass(frozen=True)
class Assignment:
    """One grant as Central lists it: who holds which role, and where."""

    role: Role
    actor: User | AppUser
    ayllu: str | None = None
    xml_form_id: str | None = None

    @property
    def actor_id(self) -> int:
        return actor_id_of(self.actor)

    @property
    def is_user(self) -> bool:
        return isinstance(self.actor, User)


def _listed(
    session: Session, where: list[sa.ColumnElement[bool]], role: Role | None
) -> list[Assignment]:
    if role is not None:
        where = [*where, RoleAssignment.role == role.name]
    query = (
        sa.select(RoleAssignment, User, AppUser, Form.xml_form_id)
        .outerjoin(User, User.id == RoleAssignment.user_id)
        .outerjoin(AppUser, AppUser.id == RoleAssignment.app_user_id)
        .outerjoin(Form, Form.id == RoleAssignment.form_id)
        .where(
            *where,
            sa.or_(
                sa.and_(User.id.is_not(None), User.deleted_at.is_(None)),
                sa.and_(AppUser.id.is_not(None), AppUser.revoked_at.is_(None)),
            ),
            sa.or_(RoleAssignment.form_id.is_(None), Form.deleted_at.is_(None)),
        )
        .order_by(RoleAssignment.id)
    )
    found: dict[tuple[object, ...], Assignment] = {}
    for row, user, app_user, xml_form_id in session.execute(query):
        known = ROLES.get(row.role)
        actor = user if user is not None else app_user
        if known is None or actor is None:
            continue
        # Two concurrent grants of one scope may both be stored: list one.
        key = (row.role, row.user_id, row.app_user_id, row.form_id, row.ayllu)
        found.setdefault(key, Assignment(known, actor, row.ayllu, xml_form_id))
    return list(found.values())


def site_assignments(session: Session, role: Role | None = None) -> list[Assignment]:
    """Site-wide grants (`/v1/assignments`)."""
    return _listed(session, [RoleAssignment.project_id.is_(None)], role)


def project_assignments(
    session: Session, project_id: int, role: Role | None = None
) -> list[Assignment]:
    """Web users' grants over the whole project (`/v1/projects/<id>/assignments`).

    An app user made in the console holds the app-user role over its whole
    project, which is how Ayni hands a tablet its project; Central's app users
    hold no project grant (they belong to their project), so those are not
    listed here: an app user's grants show on the forms it is narrowed to.
    """
    where = [
        RoleAssignment.project_id == project_id,
        RoleAssignment.form_id.is_(None),
        RoleAssignment.user_id.is_not(None),
    ]
    return _listed(session, where, role)


def form_assignments(
    session: Session,
    project_id: int,
    *,
    form_id: int | None = None,
    role: Role | None = None,
) -> list[Assignment]:
    """Grants on one form, or on every live form of the project
    (`/v1/projects/<id>/assignments/forms`)."""
    where = [RoleAssignment.project_id == project_id]
    if form_id is not None:
        where.append(RoleAssignment.form_id == form_id)
    else:
        where.append(RoleAssignment.form_id.is_not(None))
    return _listed(session, where, role)


def revoke_every_ayllu(
    session: Session,
    *,
    role: str,
    user_id: int,
    project_id: int,
    by_user_id: int | None = None,
) -> bool:
    """Take back an ayllu-scoped role in every ayllu of the project (a
    guardian's `DELETE` naming no ayllu); False if none was held.

    Raises: InvalidRoleError.
    """
    ayllus = sorted(
        {
            ayllu
            for ayllu in session.scalars(
                sa.select(RoleAssignment.ayllu).where(
                    RoleAssignment.role == role,
                    RoleAssignment.user_id == user_id,
                    RoleAssignment.project_id == project_id,
                    RoleAssignment.form_id.is_(None),
                    RoleAssignment.ayllu.is_not(None),
                )
            )
            if ayllu is not None
        }
    )
    for ayllu in ayllus:
        revoke_role(
            session,
            role=role,
            user_id=user_id,
            project_id=project_id,
            ayllu=ayllu,
            by_user_id=by_user_id,
        )
    return bool(ayllus)
