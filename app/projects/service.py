"""Projects: find, list and make sure the default project exists."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.db.models import Project
from app.projects.errors import ProjectNotFoundError


def list_projects(session: Session) -> list[Project]:
    return list(
        session.scalars(
            sa.select(Project).where(Project.deleted_at.is_(None)).order_by(Project.id)
        )
    )


def get_project(session: Session, project_id: int) -> Project:
    """Raises: ProjectNotFoundError."""
    project = session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        raise ProjectNotFoundError()
    return project


def default_project(session: Session) -> Project:
    """The project that root aliases (`/formList`, `/submission`) serve.

    Raises: ProjectNotFoundError (the database was never initialised).
    """
    project = session.scalars(
        sa.select(Project)
        .where(Project.is_default.is_(True), Project.deleted_at.is_(None))
        .order_by(Project.id)
        .limit(1)
    ).first()
    if project is None:
        raise ProjectNotFoundError()
    return project


def ensure_default_project(session: Session, name: str) -> tuple[Project, bool]:
    """Return the default project, creating it on the first start."""
    try:
        return default_project(session), False
    except ProjectNotFoundError:
        project = Project(name=name, is_default=True)
        try:
            with session.begin_nested():
                session.add(project)
                session.flush()
        except IntegrityError:
            # Another first start created it meanwhile (uq_projects_one_default).
            return default_project(session), False
        audit.record(
            session, "project.create", target_type="project", target_id=project.id
        )
        return project, True
