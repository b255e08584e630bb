"""Health of a running Ayni and what the first start must create.

`check_health` answers `/healthz`: the database answers, its schema is at the
migrations' head, and the blob store can be written. `bootstrap` is idempotent:
the default project, and a first site admin when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.auth import accounts
from app.blobs import BlobStore
from app.db.migrate import head_revision
from app.projects import service as projects_service


def check_health(session: Session, store: BlobStore) -> list[str]:
    """Every reason this server cannot serve now; empty when healthy."""
    problems: list[str] = []
    try:
        session.execute(sa.text("SELECT 1"))
        current = MigrationContext.configure(
            session.connection()
        ).get_current_revision()
    except SQLAlchemyError as exc:
        problems.append(f"database unreachable: {type(exc.orig or exc).__name__}")
    else:
        head = head_revision()
        if current != head:
            problems.append(f"database at migration {current}, code expects {head}")
    if (problem := store.check_writable()) is not None:
        problems.append(problem)
    return problems


@dataclass(frozen=True)
class BootstrapReport:
    project_id: int
    project_created: bool
    admin_username: str | None = None
    admin_password: str | None = None  # set only when generated: print it once


def bootstrap(
    session: Session,
    *,
    project_name: str,
    admin_user: str,
    admin_email: str,
    admin_password: str | None,
    admin_collect_enabled: bool,
) -> BootstrapReport:
    """Create what a first start needs; a second call changes nothing."""
    project, created = projects_service.ensure_default_project(session, project_name)
    if accounts.has_admin(session):
        return BootstrapReport(project.id, created)
    new = accounts.create_user(
        session,
        username=admin_user,
        email=admin_email,
        password=admin_password,
        display_name="Administrador/a",
        collect_enabled=admin_collect_enabled,
        admin=True,
    )
    return BootstrapReport(
        project.id,
        created,
        admin_username=new.user.username,
        admin_password=new.password if new.generated else None,
    )
