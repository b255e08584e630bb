"""App users: ODK Central's "field keys", one per tablet, holding a URL token.

An app user belongs to one project. The console and the command line make
tablets ready to use: the app-user role in the whole project (narrowed to some
forms by further grants, if wanted). Made through the API, as in Central, an
app user holds no role until its forms are assigned to it.

Revoking is Central's `DELETE /v1/projects/<id>/app-users/<id>`: the token is
cleared (overwritten with random bytes nobody was given), every grant is taken
back, and the app user leaves every list but the console's history of tablets.
Audited as `field_key.create` and `field_key.delete`, Central's names.

Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions, roles
from app.auth.errors import AppUserNotFoundError
from app.auth.sessions import TOKEN_LENGTH, new_token
from app.db.models import AppUser, AuditLog, Project, RoleAssignment, User
from app.db.types import utcnow
from app.errors import NotFoundError


def create_app_user(
    session: Session,
    *,
    project_id: int,
    display_name: str,
    created_by_id: int | None = None,
    grant_project_role: bool = True,
) -> AppUser:
    """Create an app user of the project with a fresh token; with
    `grant_project_role`, it may at once list and fill every form of the
    project (a tablet ready to scan), else it holds no role (Central's API).

    Raises:
        NotFoundError: no such (live) project.
    """
    project = session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("No existe ese proyecto.", "No such project.")
    app_user = AppUser(
        project_id=project_id,
        display_name=display_name.strip() or "Tableta",
        token=new_token(),
        created_by_id=created_by_id,
    )
    session.add(app_user)
    session.flush()
    audit.record(
        session,
        "field_key.create",
        by_user_id=created_by_id,
        target_type="field_key",
        target_id=app_user.id,
        project_id=project_id,
        display_name=app_user.display_name,
    )
    if grant_project_role:
        roles.assign_role(
            session,
            role=permissions.APP_USER,
            app_user_id=app_user.id,
            project_id=project_id,
            by_user_id=created_by_id,
        )
    return app_user


def get_app_user(session: Session, project_id: int, app_user_id: int) -> AppUser:
    """The app user, revoked or not. Raises: AppUserNotFoundError (also for
    one of another project)."""
    app_user = session.get(AppUser, app_user_id)
    if app_user is None or app_user.project_id != project_id:
        raise AppUserNotFoundError()
    return app_user


def get_live_app_user(session: Session, project_id: int, app_user_id: int) -> AppUser:
    """The app user unless revoked, as Central finds only undeleted ones.

    Raises: AppUserNotFoundError (unknown, of another project, or revoked).
    """
    app_user = get_app_user(session, project_id, app_user_id)
    if app_user.revoked_at is not None:
        raise AppUserNotFoundError()
    return app_user


def revoke_app_user(
    session: Session, app_user_id: int, *, by_user_id: int | None = None
) -> bool:
    """Revoke the app user for good: its token cleared, its grants taken
    back. False when it was already revoked (nothing changes then).

    Raises:
        AppUserNotFoundError: no such app user.
    """
    app_user = session.get(AppUser, app_user_id)
    if app_user is None:
        raise AppUserNotFoundError()
    # One conditional UPDATE, so two revocations racing store (and audit) one.
    revoked = session.execute(
        sa.update(AppUser)
        .where(AppUser.id == app_user_id, AppUser.revoked_at.is_(None))
        .values(revoked_at=utcnow(), updated_at=utcnow(), token=new_token())
        .execution_options(synchronize_session=False)
    )
    session.refresh(app_user)
    if revoked.rowcount == 0:  # type: ignore[attr-defined]
        return False
    # Central deletes the actor's assignments with it (`Actors.del`).
    session.execute(
        sa.delete(RoleAssignment).where(RoleAssignment.app_user_id == app_user_id)
    )
    audit.record(
        session,
        "field_key.delete",
        by_user_id=by_user_id,
        target_type="field_key",
        target_id=app_user.id,
        project_id=app_user.project_id,
    )
    session.flush()
    return True


def app_user_for_token(session: Session, token: str) -> AppUser | None:
    """The live app user holding `token`, or None."""
    # The token is looked up through its unique index rather than compared in
    # Python: timing of an index probe reveals nothing usable about 384 bits.
    if not token or len(token) > TOKEN_LENGTH:
        return None
    return session.scalars(
        sa.select(AppUser).where(AppUser.token == token, AppUser.revoked_at.is_(None))
    ).first()


def list_app_users(
    session: Session,
    project_id: int,
    *,
    include_revoked: bool = True,
    newest_first: bool = False,
) -> list[AppUser]:
    """The project's app users, oldest first (revoked ones too, for the
    console's history), or as Central lists them: live ones, newest first."""
    query = sa.select(AppUser).where(AppUser.project_id == project_id)
    if not include_revoked:
        query = query.where(AppUser.revoked_at.is_(None))
    if newest_first:
        query = query.order_by(AppUser.created_at.desc(), AppUser.id.desc())
    else:
        query = query.order_by(AppUser.id)
    return list(session.scalars(query))


def count_live_app_users(
    session: Session, project_ids: Iterable[int]
) -> dict[int, int]:
    """How many unrevoked app users each project has (Central's `appUsers`)."""
    ids = list(project_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(AppUser.project_id, sa.func.count(AppUser.id))
        .where(AppUser.project_id.in_(ids), AppUser.revoked_at.is_(None))
        .group_by(AppUser.project_id)
    ).all()
    counts = {int(project_id): int(count) for project_id, count in rows}
    return {project_id: counts.get(project_id, 0) for project_id in ids}


def last_used(session: Session, app_user_ids: Iterable[int]) -> dict[int, datetime]:
    """When each app user last sent a submission: Central's `lastUsed`, its
    latest `submission.create` audit entry."""
    ids = list(app_user_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(AuditLog.actor_app_user_id, sa.func.max(AuditLog.created_at))
        .where(
            AuditLog.action == "submission.create",
            AuditLog.actor_app_user_id.in_(ids),
        )
        .group_by(AuditLog.actor_app_user_id)
    ).all()
    return {int(app_user_id): stamp for app_user_id, stamp in rows}


def creators(session: Session, app_users: Iterable[AppUser]) -> dict[int, User]:
    """The web users who created the given app users, by user id (Central's
    `createdBy`); app users made by the server itself have none."""
    ids = {a.created_by_id for a in app_users if a.created_by_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_(ids)))}
