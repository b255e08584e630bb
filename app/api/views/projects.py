"""Projects and their app users: `/v1/projects[/<id>]`, `/v1/projects/<id>/key`
and `/v1/projects/<id>/app-users[/<id>]` (Central's Projects and App Users).

Each route also answers under the app-user prefix `/v1/key/<token>/…`, as
every Central route does; an app user reaches only its own project there and
holds none of these verbs, so it is refused (403.1) and nothing is stored.

Checks run in Central's order: the project exists (404.1), the actor may
(403.1), then the body (400.x). Central answers a value of the wrong type with
400.11 naming the field, so bodies are read as raw values and checked here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from app.api.common import central_routes, extended, json_body, query_flag, success
from app.api.openapi import operation
from app.api.schemas.common import SuccessSchema
from app.api.schemas.projects import (
    AppUserInputSchema,
    AppUserSchema,
    ExtendedAppUserSchema,
    ExtendedProjectWithVerbsSchema,
    KeyInputSchema,
    ProjectInputSchema,
    ProjectListEntrySchema,
    ProjectSchema,
    app_user_row,
    extended_figures,
    project_row,
)
from app.auth import app_users, permissions
from app.auth.actors import Actor
from app.auth.errors import AppUserNotFoundError
from app.errors import InvalidDataTypeError, UnexpectedValueError, ValueTooLongError
from app.forms import service as forms_service
from app.governance.visibility import Viewer
from app.httpauth import InvalidTokenError, resolve_actor
from app.projects import service as projects_service
from app.projects.errors import (
    MissingParameterError,
    NotImplementedFeatureError,
)
from app.runtime import read_session, write_transaction
from app.submissions import reading

bp = Blueprint("api_projects", __name__)

DISPLAY_NAME_MAX = 255  # app_users.display_name is a VARCHAR(255)
EXTENDED = {"X-Extended-Metadata": "`true`: Central's extended metadata"}


_route = central_routes(bp)


def _actor(token: str | None, project_id: int | None = None) -> Actor:
    """The caller; an app user only within its own project (Central binds an
    app user's token to its project)."""
    actor = resolve_actor(token)
    if project_id is not None and actor.is_app_user and actor.project_id != project_id:
        raise InvalidTokenError()
    return actor


def _project_and_actor(
    project_id: int, token: str | None, verb: str
) -> tuple[Any, Actor]:
    """The live project and the caller, who must hold `verb` on it.

    Raises: AuthenticationError (401), ProjectNotFoundError (404.1),
    PermissionDeniedError (403.1).
    """
    resolve_actor(token)  # no credentials: 401 before anything else
    project = projects_service.get_project(read_session(), project_id)
    actor = _actor(token, project_id)
    permissions.require(actor, verb, permissions.Project(project_id))
    return project, actor


# --- Body values ----------------------------------------------------------------


def _text(data: dict[str, Any], field: str) -> str | None:
    """A string or null; a value of another type is 400.11."""
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        raise InvalidDataTypeError(field, "string", value)
    return value


def _flag(data: dict[str, Any], field: str) -> bool | None:
    value = data.get(field)
    if value is not None and not isinstance(value, bool):
        raise InvalidDataTypeError(field, "boolean", value)
    return value


def _project_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The project fields present in the body, type-checked."""
    checks = {"name": _text, "description": _text, "archived": _flag}
    return {
        field: check(data, field) for field, check in checks.items() if field in data
    }


def _form_changes(forms: list[Any]) -> list[projects_service.FormChange]:
    changes = []
    for given in forms:
        if not isinstance(given, dict):
            raise InvalidDataTypeError("forms", "object", given)
        if isinstance(given.get("assignments"), list):
            # Form assignments have their own routes; taking some back by
            # omission here is not offered.
            raise NotImplementedFeatureError(
                "form assignments in a deep project update",
                "Ayni no cambia asignaciones de formularios con PUT del proyecto; "
                "use /v1/projects/<id>/forms/<xmlFormId>/assignments.",
                "Use /v1/projects/<id>/forms/<xmlFormId>/assignments instead.",
            )
        xml_form_id = given.get("xmlFormId")
        changes.append(
            projects_service.FormChange(
                # A missing or non-string id names no form of the project:
                # Central's 501.2, as for an unknown form.
                xml_form_id=xml_form_id if isinstance(xml_form_id, str) else "",
                state=_text(given, "state"),
            )
        )
    return changes


def _display_name(data: dict[str, Any]) -> str:
    value = data.get("displayName")
    if value is None:
        raise MissingParameterError("displayName")
    if not isinstance(value, str):
        raise InvalidDataTypeError("displayName", "string", value)
    cleaned = value.strip()
    if not cleaned:
        raise UnexpectedValueError(
            "displayName", value, "no puede estar vacío.", "it must not be empty."
        )
    if len(cleaned) > DISPLAY_NAME_MAX:
        raise ValueTooLongError("displayName", DISPLAY_NAME_MAX)
    return cleaned


# --- Projects ---------------------------------------------------------------------


def _verbs(actor: Actor, project_id: int) -> list[str]:
    return sorted(permissions.verbs_on(actor, permissions.Project(project_id)))


def _summaries(actor: Actor, project_id: int) -> list[reading.FormSummary]:
    """The project's forms with what this actor may know of their
    submissions: the last submission's date is governed like the console's."""
    viewer = Viewer(actor=actor, project_id=project_id)
    return reading.form_summaries(read_session(), project_id, viewer)


def _extended(actor: Actor, project_id: int, app_user_count: int) -> dict[str, Any]:
    dates = [
        s.last_submission_at
        for s in _summaries(actor, project_id)
        if s.last_submission_at
    ]
    return extended_figures(
        app_users=app_user_count,
        forms=len(projects_service.project_forms(read_session(), project_id)),
        last_submission=max(dates, default=None),
    )


def _form_list(actor: Actor, project_id: int) -> dict[str, Any]:
    """`?forms=true`: the forms this actor may list, and the project's
    `forms` and `lastSubmission` computed from them, as Central does."""
    session = read_session()
    listed = [
        form
        for form, _version in forms_service.list_forms(session, project_id)
        if permissions.can(actor, "form.list", permissions.Form(project_id, form.id))
    ]
    last = {s.form_id: s.last_submission_at for s in _summaries(actor, project_id)}
    dates = [last[f.id] for f in listed if last.get(f.id) is not None]
    return {
        "form_list": listed,
        "forms": len(listed),
        "last_submission": max(dates, default=None),
    }


@_route("/projects", methods=["GET"])
@operation(
    "Projects the caller may see",
    tag="Projects",
    response=ProjectListEntrySchema,
    many=True,
    query={
        "forms": "`true`: each project's forms, as `formList`",
        "datasets": "`true`: each project's entity lists, as `datasetList`",
    },
    headers=EXTENDED,
)
def project_list(token: str | None = None) -> Response:
    actor = _actor(token)
    session = read_session()
    projects = projects_service.readable_projects(session, actor)
    with_forms, with_datasets = query_flag("forms"), query_flag("datasets")
    counts = (
        app_users.count_live_app_users(session, [p.id for p in projects])
        if extended()
        else {}
    )
    rows = []
    for project in projects:
        extra: dict[str, Any] = {"verbs": _verbs(actor, project.id)}
        if extended():
            extra |= _extended(actor, project.id, counts[project.id])
        if with_forms:
            extra |= _form_list(actor, project.id)
        if with_datasets:
            extra |= {"dataset_list": [], "datasets": 0, "last_entity": None}
        rows.append(project_row(project, **extra))
    return jsonify(ProjectListEntrySchema(many=True).dump(rows))


@_route("/projects", methods=["POST"])
@operation(
    "Create a project", tag="Projects", body=ProjectInputSchema, response=ProjectSchema
)
def project_create(token: str | None = None) -> Response:
    actor = _actor(token)
    permissions.require(actor, "project.create", permissions.SITE)
    fields = _project_fields(json_body(ProjectInputSchema()))
    with write_transaction() as session:
        project = projects_service.create_project(
            session,
            name=fields.get("name"),
            description=fields.get("description"),
            archived=fields.get("archived"),
            by=actor,
        )
        body = ProjectSchema().dump(project_row(project))
    return jsonify(body)


@_route("/projects/<int:project_id>", methods=["GET"])
@operation(
    "A project; extended: counts, last submission and the caller's verbs",
    tag="Projects",
    response=ExtendedProjectWithVerbsSchema,
    headers=EXTENDED,
)
def project_show(project_id: int, token: str | None = None) -> Response:
    project, actor = _project_and_actor(project_id, token, "project.read")
    if not extended():
        return jsonify(ProjectSchema().dump(project_row(project)))
    count = app_users.count_live_app_users(read_session(), [project_id])[project_id]
    row = project_row(
        project,
        **_extended(actor, project_id, count),
        verbs=_verbs(actor, project_id),
    )
    return jsonify(ExtendedProjectWithVerbsSchema().dump(row))


@_route("/projects/<int:project_id>", methods=["PATCH"])
@operation(
    "Change a project's name, description or archived flag",
    tag="Projects",
    body=ProjectInputSchema,
    response=ProjectSchema,
)
def project_update(project_id: int, token: str | None = None) -> Response:
    _project, actor = _project_and_actor(project_id, token, "project.update")
    changes = _project_fields(json_body(ProjectInputSchema()))
    with write_transaction() as session:
        project = projects_service.update_project(
            session, project_id, changes, by=actor
        )
        body = ProjectSchema().dump(project_row(project))
    return jsonify(body)


@_route("/projects/<int:project_id>", methods=["PUT"])
@operation(
    "Deep update: every project field, and the state of each of its forms",
    tag="Projects",
    body=ProjectInputSchema,
    response=ProjectSchema,
)
def project_replace(project_id: int, token: str | None = None) -> Response:
    """True PUT semantics, as Central: an omitted field is set to null. With
    `forms`, the list must name exactly the project's forms (else 501.2);
    only their `state` changes. Form assignments are not changed here."""
    _project, actor = _project_and_actor(project_id, token, "project.update")
    data = json_body(ProjectInputSchema())
    fields = _project_fields(data)
    forms = None
    if isinstance(data.get("forms"), list):
        permissions.require(actor, "form.update", permissions.Project(project_id))
        forms = _form_changes(data["forms"])
    with write_transaction() as session:
        project = projects_service.replace_project(
            session,
            project_id,
            name=fields.get("name"),
            description=fields.get("description"),
            archived=fields.get("archived"),
            forms=forms,
            by=actor,
        )
        for change in forms or ():
            if change.state is not None:
                forms_service.set_form_state(
                    session, project_id, change.xml_form_id, change.state, actor=actor
                )
        body = ProjectSchema().dump(project_row(project))
    return jsonify(body)


@_route("/projects/<int:project_id>", methods=["DELETE"])
@operation("Delete a project", tag="Projects", response=SuccessSchema)
def project_delete(project_id: int, token: str | None = None) -> Response:
    """The default project, which Collect's root aliases serve, is refused
    (409) rather than deleted."""
    _project, actor = _project_and_actor(project_id, token, "project.delete")
    with write_transaction() as session:
        projects_service.delete_project(session, project_id, by=actor)
    return success()


@_route("/projects/<int:project_id>/key", methods=["POST"])
@operation(
    "Managed encryption: not offered by Ayni (501.1)",
    tag="Projects",
    body=KeyInputSchema,
    response=ProjectSchema,
)
def project_key(project_id: int, token: str | None = None) -> Response:
    _project_and_actor(project_id, token, "project.update")
    raise NotImplementedFeatureError(
        "managed encryption",
        "Ayni no ofrece el cifrado gestionado de proyectos: la clave privada "
        "viviría en el mismo servidor que los datos. Para cifrar, publique "
        "formularios con su propia clave pública (submission_url/public_key).",
        "Forms may still carry their own public key.",
    )


# --- App users --------------------------------------------------------------------


@_route("/projects/<int:project_id>/app-users", methods=["GET"])
@operation(
    "The project's app users, newest first",
    tag="App Users",
    response=ExtendedAppUserSchema,
    many=True,
    headers=EXTENDED,
)
def app_user_list(project_id: int, token: str | None = None) -> Response:
    _project_and_actor(project_id, token, "field_key.list")
    session = read_session()
    found = app_users.list_app_users(
        session, project_id, include_revoked=False, newest_first=True
    )
    if not extended():
        return jsonify(AppUserSchema(many=True).dump([app_user_row(a) for a in found]))
    creators = app_users.creators(session, found)
    used = app_users.last_used(session, [a.id for a in found])
    rows = [
        app_user_row(
            a,
            created_by=creators.get(a.created_by_id) if a.created_by_id else None,
            last_used=used.get(a.id),
        )
        for a in found
    ]
    return jsonify(ExtendedAppUserSchema(many=True).dump(rows))


@_route("/projects/<int:project_id>/app-users", methods=["POST"])
@operation(
    "Create an app user: its token, and no role until forms are assigned",
    tag="App Users",
    body=AppUserInputSchema,
    response=AppUserSchema,
)
def app_user_create(project_id: int, token: str | None = None) -> Response:
    """As in Central, the new app user may not list or fill any form until
    it is assigned some (`…/forms/<xmlFormId>/assignments/app-user/<id>`)."""
    _project, actor = _project_and_actor(project_id, token, "field_key.create")
    display_name = _display_name(json_body(AppUserInputSchema()))
    with write_transaction() as session:
        app_user = app_users.create_app_user(
            session,
            project_id=project_id,
            display_name=display_name,
            created_by_id=actor.user_id,
            grant_project_role=False,
        )
        body = AppUserSchema().dump(app_user_row(app_user))
    return jsonify(body)


@_route("/projects/<int:project_id>/app-users/<int:app_user_id>", methods=["GET"])
@operation(
    "One app user", tag="App Users", response=ExtendedAppUserSchema, headers=EXTENDED
)
def app_user_show(
    project_id: int, app_user_id: int, token: str | None = None
) -> Response:
    _project_and_actor(project_id, token, "field_key.list")
    session = read_session()
    app_user = app_users.get_live_app_user(session, project_id, app_user_id)
    if not extended():
        return jsonify(AppUserSchema().dump(app_user_row(app_user)))
    creator = app_users.creators(session, [app_user]).get(app_user.created_by_id or 0)
    used = app_users.last_used(session, [app_user.id]).get(app_user.id)
    row = app_user_row(app_user, created_by=creator, last_used=used)
    return jsonify(ExtendedAppUserSchema().dump(row))


@_route("/projects/<int:project_id>/app-users/<int:app_user_id>", methods=["DELETE"])
@operation(
    "Revoke an app user: its token is cleared and its grants taken back",
    tag="App Users",
    response=SuccessSchema,
)
def app_user_delete(
    project_id: int, app_user_id: int, token: str | None = None
) -> Response:
    _project, actor = _project_and_actor(project_id, token, "field_key.delete")
    with write_transaction() as session:
        app_users.get_live_app_user(session, project_id, app_user_id)
        if not app_users.revoke_app_user(
            session, app_user_id, by_user_id=actor.user_id
        ):
            # Revoked meanwhile by another request: gone, as for Central.
            raise AppUserNotFoundError()
    return success()
