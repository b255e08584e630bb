"""App users: ODK Central's "field keys", one per tablet, holding a URL token.

An app user belongs to one project and holds the app-user role there (narrowed
to some forms by further grants, if wanted); revoking it ends its token for
good. Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions, roles
from app.auth.errors import AppUserNotFoundError
from app.auth.sessions import TOKEN_LENGTH, new_token
from app.db.models import AppUser, Project
from app.db.types import utcnow
from app.errors import NotFoundError


def create_app_user(
    session: Session,
    *,
    project_id: int,
    display_name: str,
    created_by_id: int | None = None,
) -> AppUser:
    """Create an app user of the project, with a fresh token and its role.

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
        "app_user.create",
        by_user_id=created_by_id,
        target_type="field_key",
        target_id=app_user.id,
        project_id=project_id,
    )
    roles.assign_role(
        session,
        role=permissions.APP_USER,
        app_user_id=app_user.id,
        project_id=project_id,
        by_user_id=created_by_id,
    )
    return app_user


def get_app_user(session: Session, project_id: int, app_user_id: int) -> AppUser:
    """Raises: AppUserNotFoundError (also for one of another project)."""
    app_user = session.get(AppUser, app_user_id)
    if app_user is None or app_user.project_id != project_id:
        raise AppUserNotFoundError()
    return app_user


def revoke_app_user(
    session: Session, app_user_id: int, *, by_user_id: int | None = None
) -> None:
    """Revoke the app user's token for good; revoking twice changes nothing.

    Raises:
        AppUserNotFoundError: no such app user.
    """
    app_user = session.get(AppUser, app_user_id)
    if app_user is None:
        raise AppUserNotFoundError()
    if app_user.revoked_at is not None:
        return
    app_user.revoked_at = utcnow()
    audit.record(
        session,
        "app_user.revoke",
        by_user_id=by_user_id,
        target_type="field_key",
        target_id=app_user.id,
        project_id=app_user.project_id,
    )
    session.flush()


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
    session: Session, project_id: int, *, include_revoked: bool = True
) -> list[AppUser]:
    """The project's app users, oldest first (revoked ones too, as Central lists)."""
    query = sa.select(AppUser).where(AppUser.project_id == project_id)
    if not include_revoked:
        query = query.where(AppUser.revoked_at.is_(None))
    return list(session.scalars(query.order_by(AppUser.id)))
