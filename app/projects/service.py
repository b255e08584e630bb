"""Projects: find, list, create, change and delete them, and keep the default
project that Collect's root aliases serve.

Shapes and rules are ODK Central's (`lib/model/query/projects.js`,
`lib/resources/projects.js`): a project has a name (required), a description
and an `archived` flag; deleting is a soft delete; every change is audited as
`project.create`, `project.update` or `project.delete` with the data given.
Callers check permissions first (`app.auth.permissions`); this module checks
values.

The default project (`is_default`) is what a tablet set up with the bare server
address reaches through `/formList` and `/submission`. It can be renamed and
archived, as any project (in Central archiving only sorts a project last and
makes the console read-only; tablets keep working), but not deleted: that
would silently cut off every such tablet.

Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.audit import Who
from app.auth import permissions
from app.db.models import Form, Project
from app.db.models.forms import FORM_STATES
from app.db.types import utcnow
from app.errors import UnexpectedValueError, ValueTooLongError
from app.projects.errors import (
    DefaultProjectError,
    MissingParameterError,
    ProjectNotFoundError,
    UnexpectedFormsListError,
)

if TYPE_CHECKING:
    from app.auth.actors import Actor

NAME_MAX = 255  # projects.name is a VARCHAR(255)


def list_projects(session: Session) -> list[Project]:
    return list(
        session.scalars(
            sa.select(Project).where(Project.deleted_at.is_(None)).order_by(Project.id)
        )
    )


def readable_projects(session: Session, actor: permissions.Actor) -> list[Project]:
    """The live projects the actor may see, in Central's order: not archived
    first, then by name.

    Central lists a project to whoever holds both `project.read` and
    `form.list` on it (its `Projects.getAllByAuth`).
    """
    found = [
        project
        for project in list_projects(session)
        if permissions.can(actor, "project.read", permissions.Project(project.id))
        and permissions.can(actor, "form.list", permissions.Project(project.id))
    ]
    return sorted(found, key=lambda p: (bool(p.archived), p.name.casefold(), p.id))


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


# --- Changes -------------------------------------------------------------------


def _checked_name(name: str | None) -> str:
    if name is None:
        raise MissingParameterError("name")
    cleaned = name.strip()
    if not cleaned:
        raise UnexpectedValueError(
            "name", name, "no puede estar vacío.", "it must not be empty."
        )
    if len(cleaned) > NAME_MAX:
        raise ValueTooLongError("name", NAME_MAX)
    return cleaned


def _audit(
    session: Session, action: str, project: Project, by: Who | None, **details: Any
) -> None:
    audit.record(
        session,
        action,
        by=by,
        target_type="project",
        target_id=project.id,
        **details,
    )


def create_project(
    session: Session,
    *,
    name: str | None,
    description: str | None = None,
    archived: bool | None = None,
    by: Who | None = None,
) -> Project:
    """A new, empty project (no forms, app users or assignments).

    Raises: MissingParameterError, UnexpectedValueError, ValueTooLongError.
    """
    project = Project(
        name=_checked_name(name),
        description=description,
        archived=bool(archived),
    )
    session.add(project)
    session.flush()
    data = {"name": project.name, "description": description, "archived": archived}
    _audit(session, "project.create", project, by, data=data)
    session.flush()
    return project


def update_project(
    session: Session,
    project_id: int,
    changes: Mapping[str, Any],
    *,
    by: Who | None = None,
) -> Project:
    """Change the given fields (`name`, `description`, `archived`); fields not
    given keep their value, as Central's PATCH.

    Raises: ProjectNotFoundError, MissingParameterError (a null name),
    UnexpectedValueError, ValueTooLongError.
    """
    project = get_project(session, project_id)
    data: dict[str, Any] = {}
    if "name" in changes:
        data["name"] = _checked_name(changes["name"])
    if "description" in changes:
        data["description"] = changes["description"]
    if "archived" in changes:
        data["archived"] = changes["archived"]
    for key, value in data.items():
        # Central stores a null `archived`, "equivalent to false".
        setattr(project, key, bool(value) if key == "archived" else value)
    project.updated_at = utcnow()
    session.flush()
    _audit(session, "project.update", project, by, data=data)
    session.flush()
    return project


@dataclass(frozen=True)
class FormChange:
    """One form of a deep update: which form and, if given, its new state."""

    xml_form_id: str
    state: str | None


def project_forms(session: Session, project_id: int) -> list[Form]:
    """Every live form of the project, published or not (Central's
    `Form.AnyVersion`), by xmlFormId."""
    return list(
        session.scalars(
            sa.select(Form)
            .where(Form.project_id == project_id, Form.deleted_at.is_(None))
            .order_by(Form.xml_form_id)
        )
    )


def _checked_forms(
    session: Session, project_id: int, forms: list[FormChange]
) -> list[FormChange]:
    """The forms of a deep update, checked in Central's order: the same
    number of forms as the project has, no form twice, every form known."""
    existing = {form.xml_form_id for form in project_forms(session, project_id)}
    if len(forms) != len(existing):
        raise UnexpectedFormsListError()
    seen: set[str] = set()
    for given in forms:
        if given.xml_form_id in seen:
            raise UnexpectedValueError(
                "xmlFormId",
                given.xml_form_id,
                "el formulario aparece dos veces.",
                "duplicate value",
            )
        seen.add(given.xml_form_id)
        if given.xml_form_id not in existing:
            raise UnexpectedFormsListError()
        if given.state is not None and given.state not in FORM_STATES:
            raise UnexpectedValueError(
                "state",
                given.state,
                f"debe ser uno de {', '.join(FORM_STATES)}.",
                f"expected one of {', '.join(FORM_STATES)}",
            )
    return forms


def replace_project(
    session: Session,
    project_id: int,
    *,
    name: str | None,
    description: str | None,
    archived: bool | None,
    forms: list[FormChange] | None = None,
    by: Actor | None = None,
) -> Project:
    """Central's deep update (`PUT /v1/projects/<id>`): every project field is
    set, an omitted one to null; `forms`, when given, must name exactly the
    project's forms (they cannot be added or removed this way) and is checked
    before anything changes. The caller then sets each form's state in the
    same transaction (the forms service owns form states), so the update is
    all or nothing.

    Raises: ProjectNotFoundError, MissingParameterError, UnexpectedValueError,
    ValueTooLongError, UnexpectedFormsListError.
    """
    project = get_project(session, project_id)
    checked_name = _checked_name(name)
    if forms is not None:
        forms = _checked_forms(session, project_id, forms)
    project.name = checked_name
    project.description = description
    project.archived = bool(archived)
    project.updated_at = utcnow()
    session.flush()
    data = {"name": checked_name, "archived": archived, "description": description}
    _audit(session, "project.update", project, by, data=data)
    session.flush()
    return project


def delete_project(session: Session, project_id: int, *, by: Who | None = None) -> None:
    """Soft-delete the project: gone from every list and path, its rows kept.

    Raises: ProjectNotFoundError, DefaultProjectError.
    """
    project = get_project(session, project_id)
    if project.is_default:
        raise DefaultProjectError()
    project.deleted_at = utcnow()
    session.flush()
    _audit(session, "project.delete", project, by)
    session.flush()
