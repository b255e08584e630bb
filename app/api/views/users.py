"""Users, roles and assignments: `/v1/users`, `/v1/roles`, `/v1/assignments`,
`/v1/projects/<id>/assignments[/forms]` and
`/v1/projects/<id>/forms/<xmlFormId>/assignments` (Central's Accounts and
Assignments).

Checks run in Central's order: the things named in the URL exist (404.1),
the caller may (403.1), then the body (400.x). Every route needs credentials
(401.2 without), as Central's do, and also answers under the app-user prefix
`/v1/key/<token>/…`.

Ayni's choices where Central's model and Ayni's differ:

- Users: a user always holds `user.read` and `user.update` on their own
  account (Central's self-privileges). `POST /v1/users` without a password
  makes an account nobody can sign in to until an administrator sets one
  (Central mails an invitation; the embedded server has no mail).
- Actor ids: one id space in Central, two tables in Ayni; see
  `app.auth.roles.grantee_for`: for the app-user role an id names an app
  user, for every other role a web user.
- Role scopes come from the permission table (`Role.scope`): site-wide roles
  only at `/v1/assignments`, project roles on projects, the app-user role on
  forms (and projects). Central would store, say, a manager on one form;
  Ayni refuses a grant its permission table cannot mean (400.8).
- The guardian of an ayllu's knowledge (Ayni's role, id 101) needs an ayllu,
  which Central's URL has no place for: `?ayllu=` or `{"ayllu": "…"}` in the
  body; without it a grant is 400.2 and a `DELETE` takes back every ayllu of
  the project. Its rows carry `ayllu` besides Central's keys.
- A granter must hold every verb of the role granted (Central's
  `canAssignRole`); naming a guardian takes `assignment.create` site-wide
  (`permissions.can_assign`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api.common import central_routes, extended, json_body, success
from app.api.openapi import operation
from app.api.schemas.accounts import (
    AssignmentSchema,
    CentralActorSchema,
    ExtendedAssignmentSchema,
    ExtendedFormAssignmentSchema,
    ExtendedUserSchema,
    FormAssignmentSchema,
    PasswordChangeSchema,
    RoleSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
    user_row,
)
from app.api.schemas.common import SuccessSchema
from app.auth import accounts, permissions, roles
from app.auth.actors import Actor
from app.auth.errors import (
    AssignmentNotFoundError,
    AylluRequiredError,
    InvalidRoleError,
    UserNotFoundError,
    WrongPasswordError,
)
from app.errors import InvalidDataTypeError, MissingParametersError, ValueTooLongError
from app.forms import service as forms_service
from app.httpauth import (
    bearer_token,
    check_login_delay,
    record_login_failure,
    resolve_actor,
)
from app.projects import service as projects_service
from app.runtime import read_session, write_transaction

bp = Blueprint("api_users", __name__)

EXTENDED = {"X-Extended-Metadata": "`true`: Central's extended metadata"}
AYLLU = {"ayllu": "the ayllu of a guardian's grant (Ayni's; or `ayllu` in a JSON body)"}
PREFERENCES: dict[str, dict[str, Any]] = {"site": {}, "projects": {}}


_route = central_routes(bp)


# --- Body values ----------------------------------------------------------------


def _text(
    data: dict[str, Any], field: str, limit: int, *, required: bool = False
) -> str | None:
    """A string or null (absent); another type is 400.11, a blank required
    one 400.3, one longer than its column 400.13."""
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise MissingParametersError(
                f"Falta el dato obligatorio: {field}.",
                f"Required parameters missing. Expected ({field}).",
                details={"expected": [field], "got": {field: value}},
            )
        return None
    if not isinstance(value, str):
        raise InvalidDataTypeError(field, "string")
    if len(value) > limit:
        raise ValueTooLongError(field, limit)
    return value


def _user_json(users: Iterable[Any]) -> list[dict[str, Any]]:
    users = list(users)
    logins = accounts.last_logins(read_session(), (u.id for u in users))
    return [UserSchema().dump(user_row(u, logins.get(u.id))) for u in users]


# --- Users ----------------------------------------------------------------------


@_route("/users", methods=["GET"])
@operation(
    "List users",
    tag="Users",
    response=UserSchema,
    many=True,
    query={"q": "search e-mails and display names; an exact e-mail always matches"},
)
def user_list(token: str | None = None) -> Response:
    """Every user, by e-mail, for whoever holds `user.list`; `q` narrows to
    e-mails and display names containing its words. A `q` that is exactly a
    user's e-mail gives that user to anyone signed in (to grant them a role);
    others get `[]`."""
    actor = resolve_actor(token)
    q = (request.args.get("q") or "").strip()
    session = read_session()
    exact = accounts.find_by_email(session, q) if q else None
    if exact is not None:
        found = [exact]
    elif permissions.can(actor, "user.list", permissions.SITE):
        found = accounts.search_users(session, q)
    else:
        found = []
    return jsonify(_user_json(found))


@_route("/users", methods=["POST"])
@operation(
    "Create a user",
    tag="Users",
    body=UserCreateSchema,
    response=UserSchema,
)
def user_create(token: str | None = None) -> Response:
    """`{email, password?, displayName?}`. Without a password (or a blank
    one) the account gets a generated one nobody is shown: Central mails an
    invitation, the embedded server has no mail, so an administrator sets a
    password from the console (Usuarios) or with `flask reset-password`."""
    actor = resolve_actor(token)
    permissions.require(actor, "user.create", permissions.SITE)
    data = json_body(UserCreateSchema())
    email = _text(data, "email", accounts.EMAIL_MAX, required=True)
    password = data.get("password")
    if not _blank_password(password) and not isinstance(password, str):
        raise InvalidDataTypeError("password", "string")
    display_name = _text(data, "displayName", accounts.DISPLAY_NAME_MAX)
    assert email is not None  # noqa: S101 - required
    with write_transaction() as session:
        created = accounts.create_api_user(
            session,
            email=email,
            password=None if _blank_password(password) else password,
            display_name=display_name,
            by_user_id=actor.user_id,
        )
        body = UserSchema().dump(user_row(created.user))
    return jsonify(body)


def _blank_password(value: object) -> bool:
    # Central treats a blank password as none given.
    return value is None or value == ""


def _current_user(token: str | None) -> tuple[Actor, Any]:
    actor = resolve_actor(token)
    if actor.is_app_user:
        raise UserNotFoundError()  # Central: an app user is no user (404.1)
    return actor, accounts.get_user_by_id(read_session(), actor.id)


@_route("/users/current", methods=["GET"])
@operation(
    "The signed-in user",
    tag="Users",
    response=UserSchema,
    headers=EXTENDED,
)
def user_current(token: str | None = None) -> Response:
    """With `X-Extended-Metadata: true` also the `verbs` the user holds
    site-wide and their `preferences` (Ayni keeps none). An app user is not
    a user: 404.1."""
    actor, user = _current_user(token)
    last = accounts.last_logins(read_session(), [user.id]).get(user.id)
    if not extended():
        return jsonify(UserSchema().dump(user_row(user, last)))
    verbs = sorted(permissions.verbs_on(actor, permissions.SITE))
    row = user_row(user, last, verbs=verbs, preferences=PREFERENCES)
    return jsonify(ExtendedUserSchema().dump(row))


def _user_for(actor: Actor, user_id: int, verb: str, session: Any) -> Any:
    """The live user, if the actor holds `verb` on their account.

    Raises: UserNotFoundError (404.1), PermissionDeniedError (403.1).
    """
    user = accounts.get_user_by_id(session, user_id)
    permissions.require(actor, verb, permissions.Account(user.id))
    return user


@_route("/users/<int:user_id>", methods=["GET"])
@operation("A user", tag="Users", response=UserSchema)
def user_show(user_id: int, token: str | None = None) -> Response:
    """Needs `user.read` (every user on themselves)."""
    actor = resolve_actor(token)
    user = _user_for(actor, user_id, "user.read", read_session())
    return jsonify(_user_json([user])[0])


@_route("/users/<int:user_id>", methods=["PATCH"])
@operation("Change a user", tag="Users", body=UserUpdateSchema, response=UserSchema)
def user_update(user_id: int, token: str | None = None) -> Response:
    """`displayName` and `email`; other keys are ignored. Needs `user.update`
    (every user on themselves). A taken e-mail is 409.3."""
    actor = resolve_actor(token)
    with write_transaction() as session:
        user = _user_for(actor, user_id, "user.update", session)
        data = json_body(UserUpdateSchema())
        display_name = _text(data, "displayName", accounts.DISPLAY_NAME_MAX)
        email = _text(data, "email", accounts.EMAIL_MAX)
        accounts.update_user(
            session,
            user,
            display_name=display_name,
            email=email,
            by_user_id=actor.user_id,
        )
        last = accounts.last_logins(session, [user.id]).get(user.id)
        body = UserSchema().dump(user_row(user, last))
    return jsonify(body)


@_route("/users/<int:user_id>/password", methods=["PUT"])
@operation(
    "Change a user's password",
    tag="Users",
    body=PasswordChangeSchema,
    response=SuccessSchema,
)
def user_password_change(user_id: int, token: str | None = None) -> Response:
    """`{old, new}`, checked in Central's order: the current password proves
    the intent (missing, not a string or wrong: 401.2, counted like a failed
    sign-in), then the new one must be a string (400.11) and strong (400.21,
    400.38, 400.44). Every other session of the user ends; the one making
    the change stays."""
    actor = resolve_actor(token)
    check_login_delay()
    try:
        with write_transaction() as session:
            user = _user_for(actor, user_id, "user.update", session)
            data = json_body(PasswordChangeSchema())
            old, new = data.get("old"), data.get("new")
            if not isinstance(old, str) or old == "":
                raise WrongPasswordError()
            accounts.change_password(
                session,
                user,
                old,
                new,
                keep_token=bearer_token(),
                by_user_id=actor.user_id,
            )
    except WrongPasswordError:
        record_login_failure()
        raise
    return success()


@_route("/users/<int:user_id>", methods=["DELETE"])
@operation("Delete a user", tag="Users", response=SuccessSchema)
def user_delete(user_id: int, token: str | None = None) -> Response:
    """Needs `user.delete`. The account is kept for the history, marked
    deleted; its sessions and roles end and its e-mail is free again."""
    actor = resolve_actor(token)
    with write_transaction() as session:
        user = _user_for(actor, user_id, "user.delete", session)
        accounts.delete_user(session, user, by_user_id=actor.user_id)
    return success()


# --- Roles ----------------------------------------------------------------------


@_route("/roles", methods=["GET"])
@operation("List roles", tag="Roles", response=RoleSchema, many=True)
def role_list(token: str | None = None) -> Response:
    """Central's roles and Ayni's guardian, from the permission table."""
    resolve_actor(token)
    ordered = sorted(permissions.ROLES.values(), key=lambda role: role.central_id)
    return jsonify(RoleSchema(many=True).dump(ordered))


@_route("/roles/<role_ref>", methods=["GET"])
@operation("A role, by numeric id or system name", tag="Roles", response=RoleSchema)
def role_show(role_ref: str, token: str | None = None) -> Response:
    resolve_actor(token)
    return jsonify(RoleSchema().dump(roles.role_named(role_ref)))


# --- Assignments: shared steps ----------------------------------------------------


def _ayllu() -> str | None:
    """A guardian's ayllu: `?ayllu=` or `ayllu` in a JSON body (Ayni's
    extension; Central ignores assignment bodies)."""
    value: object = request.args.get("ayllu")
    if value is None:
        body = request.get_json(silent=True)
        value = body.get("ayllu") if isinstance(body, dict) else None
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidDataTypeError("ayllu", "string")
    if len(value) > roles.AYLLU_MAX:
        raise ValueTooLongError("ayllu", roles.AYLLU_MAX)
    return value.strip() or None


def _check_place(role: permissions.Role, project_id: int | None) -> None:
    """An app user belongs to one project: the app-user role is granted in
    it or on its forms, never site-wide (the service would otherwise take
    the app user's own project for the missing one). Raises: InvalidRoleError
    (400.8)."""
    if role.scope == "app" and project_id is None:
        raise InvalidRoleError(
            "El rol de los usuarios de aplicación se otorga en un proyecto o "
            "formulario, no en todo el sitio.",
            "The app user role is granted on a project or form, not site-wide.",
        )


def _listing(found: list[roles.Assignment], *, per_form: bool) -> Response:
    if per_form:
        schema = ExtendedFormAssignmentSchema if extended() else FormAssignmentSchema
    else:
        schema = ExtendedAssignmentSchema if extended() else AssignmentSchema
    return jsonify(schema(many=True).dump(found))


def _actors(found: list[roles.Assignment]) -> Response:
    """`GET …/assignments/<role>`: the actors, each once."""
    seen: dict[tuple[str, int], Any] = {}
    for assignment in found:
        kind = "user" if assignment.is_user else "field_key"
        seen.setdefault((kind, assignment.actor_id), assignment.actor)
    return jsonify(CentralActorSchema(many=True).dump(list(seen.values())))


def _grant(
    actor: Actor,
    role_ref: str,
    actor_id: int,
    target: permissions.Target,
    *,
    project_id: int | None = None,
    form_id: int | None = None,
) -> Response:
    """Grant `role` to the actor named by `actor_id` on `target`: the role
    and grantee exist (404.1), the caller may grant it there (403.1), the
    role fits the place (400), it is not held yet (409.3)."""
    with write_transaction() as session:
        role = roles.role_named(role_ref)
        grantee = roles.grantee_for(session, role, actor_id)
        permissions.require(actor, "assignment.create", target)
        permissions.require_assign(actor, role, target)
        _check_place(role, project_id)
        ayllu = _ayllu()
        if (
            role.scope == "ayllu"
            and ayllu is None
            and project_id is not None
            and form_id is None
        ):
            raise AylluRequiredError()
        roles.grant_role(
            session,
            role=role.name,
            user_id=grantee.user_id,
            app_user_id=grantee.app_user_id,
            project_id=project_id,
            form_id=form_id,
            ayllu=ayllu,
            by_user_id=actor.user_id,
        )
    return success()


def _revoke(
    actor: Actor,
    role_ref: str,
    actor_id: int,
    target: permissions.Target,
    *,
    project_id: int | None = None,
    form_id: int | None = None,
) -> Response:
    """Take a role back; 404.1 when it was not held there."""
    with write_transaction() as session:
        role = roles.role_named(role_ref)
        grantee = roles.grantee_for(session, role, actor_id)
        permissions.require(actor, "assignment.delete", target)
        _check_place(role, project_id)
        ayllu = _ayllu()
        if (
            role.scope == "ayllu"
            and ayllu is None
            and project_id is not None
            and form_id is None
        ):
            assert grantee.user_id is not None  # noqa: S101 - not an app role
            revoked = roles.revoke_every_ayllu(
                session,
                role=role.name,
                user_id=grantee.user_id,
                project_id=project_id,
                by_user_id=actor.user_id,
            )
        else:
            revoked = roles.revoke_role(
                session,
                role=role.name,
                user_id=grantee.user_id,
                app_user_id=grantee.app_user_id,
                project_id=project_id,
                form_id=form_id,
                ayllu=ayllu,
                by_user_id=actor.user_id,
            )
        if not revoked:
            raise AssignmentNotFoundError()
    return success()


# --- Site-wide assignments --------------------------------------------------------


@_route("/assignments", methods=["GET"])
@operation(
    "List site-wide assignments",
    tag="Assignments",
    response=AssignmentSchema,
    many=True,
    headers=EXTENDED,
)
def site_assignment_list(token: str | None = None) -> Response:
    """`{actorId, roleId}` of every site-wide grant; extended: with `actor`."""
    actor = resolve_actor(token)
    permissions.require(actor, "assignment.list", permissions.SITE)
    return _listing(roles.site_assignments(read_session()), per_form=False)


@_route("/assignments/<role_ref>", methods=["GET"])
@operation(
    "The actors holding a role site-wide",
    tag="Assignments",
    response=CentralActorSchema,
    many=True,
)
def site_assignment_actors(role_ref: str, token: str | None = None) -> Response:
    actor = resolve_actor(token)
    role = roles.role_named(role_ref)
    permissions.require(actor, "assignment.list", permissions.SITE)
    return _actors(roles.site_assignments(read_session(), role))


@_route("/assignments/<role_ref>/<int:actor_id>", methods=["POST"])
@operation("Grant a role site-wide", tag="Assignments", response=SuccessSchema)
def site_assignment_create(
    role_ref: str, actor_id: int, token: str | None = None
) -> Response:
    return _grant(resolve_actor(token), role_ref, actor_id, permissions.SITE)


@_route("/assignments/<role_ref>/<int:actor_id>", methods=["DELETE"])
@operation("Take back a site-wide role", tag="Assignments", response=SuccessSchema)
def site_assignment_delete(
    role_ref: str, actor_id: int, token: str | None = None
) -> Response:
    return _revoke(resolve_actor(token), role_ref, actor_id, permissions.SITE)


# --- Project assignments ----------------------------------------------------------


def _project(project_id: int, token: str | None) -> tuple[Actor, permissions.Project]:
    """The caller and the live project (401, then 404.1)."""
    actor = resolve_actor(token)
    projects_service.get_project(read_session(), project_id)
    return actor, permissions.Project(project_id)


@_route("/projects/<int:project_id>/assignments", methods=["GET"])
@operation(
    "List a project's assignments",
    tag="Assignments",
    response=AssignmentSchema,
    many=True,
    headers=EXTENDED,
)
def project_assignment_list(project_id: int, token: str | None = None) -> Response:
    """Web users' grants over the whole project (an app user's project is
    not a Central assignment; its form grants are listed per form)."""
    actor, target = _project(project_id, token)
    permissions.require(actor, "assignment.list", target)
    found = roles.project_assignments(read_session(), project_id)
    return _listing(found, per_form=False)


@_route("/projects/<int:project_id>/assignments/forms", methods=["GET"])
@operation(
    "List the assignments on every form of a project",
    tag="Assignments",
    response=FormAssignmentSchema,
    many=True,
    headers=EXTENDED,
)
def project_form_assignment_list(project_id: int, token: str | None = None) -> Response:
    """`{actorId, xmlFormId, roleId}` of every grant on a live form."""
    actor, target = _project(project_id, token)
    permissions.require(actor, "assignment.list", target)
    found = roles.form_assignments(read_session(), project_id)
    return _listing(found, per_form=True)


@_route("/projects/<int:project_id>/assignments/forms/<role_ref>", methods=["GET"])
@operation(
    "List one role's assignments on every form of a project",
    tag="Assignments",
    response=FormAssignmentSchema,
    many=True,
    headers=EXTENDED,
)
def project_form_assignment_role_list(
    project_id: int, role_ref: str, token: str | None = None
) -> Response:
    actor, target = _project(project_id, token)
    role = roles.role_named(role_ref)
    permissions.require(actor, "assignment.list", target)
    found = roles.form_assignments(read_session(), project_id, role=role)
    return _listing(found, per_form=True)


@_route("/projects/<int:project_id>/assignments/<role_ref>", methods=["GET"])
@operation(
    "The actors holding a role in a project",
    tag="Assignments",
    response=CentralActorSchema,
    many=True,
)
def project_assignment_actors(
    project_id: int, role_ref: str, token: str | None = None
) -> Response:
    actor, target = _project(project_id, token)
    role = roles.role_named(role_ref)
    permissions.require(actor, "assignment.list", target)
    return _actors(roles.project_assignments(read_session(), project_id, role))


@_route(
    "/projects/<int:project_id>/assignments/<role_ref>/<int:actor_id>",
    methods=["POST"],
)
@operation(
    "Grant a role in a project",
    tag="Assignments",
    response=SuccessSchema,
    query=AYLLU,
)
def project_assignment_create(
    project_id: int, role_ref: str, actor_id: int, token: str | None = None
) -> Response:
    """A guardian's grant names its ayllu (`?ayllu=` or in the body)."""
    actor, target = _project(project_id, token)
    return _grant(actor, role_ref, actor_id, target, project_id=project_id)


@_route(
    "/projects/<int:project_id>/assignments/<role_ref>/<int:actor_id>",
    methods=["DELETE"],
)
@operation(
    "Take back a role in a project",
    tag="Assignments",
    response=SuccessSchema,
    query=AYLLU,
)
def project_assignment_delete(
    project_id: int, role_ref: str, actor_id: int, token: str | None = None
) -> Response:
    """A guardian's role is taken back in the ayllu named, or in all."""
    actor, target = _project(project_id, token)
    return _revoke(actor, role_ref, actor_id, target, project_id=project_id)


# --- Form assignments -------------------------------------------------------------


def _form(
    project_id: int, xml_form_id: str, token: str | None
) -> tuple[Actor, permissions.Form]:
    """The caller and the live form of the live project (401, then 404.1)."""
    actor, _ = _project(project_id, token)
    form = forms_service.get_form(read_session(), project_id, xml_form_id)
    return actor, permissions.Form(project_id, form.id)


_FORM = "/projects/<int:project_id>/forms/<xml_form_id>/assignments"


@_route(_FORM, methods=["GET"])
@operation(
    "List a form's assignments",
    tag="Assignments",
    response=AssignmentSchema,
    many=True,
    headers=EXTENDED,
)
def form_assignment_list(
    project_id: int, xml_form_id: str, token: str | None = None
) -> Response:
    actor, target = _form(project_id, xml_form_id, token)
    permissions.require(actor, "assignment.list", target)
    found = roles.form_assignments(read_session(), project_id, form_id=target.form_id)
    return _listing(found, per_form=False)


@_route(f"{_FORM}/<role_ref>", methods=["GET"])
@operation(
    "The actors holding a role on a form",
    tag="Assignments",
    response=CentralActorSchema,
    many=True,
)
def form_assignment_actors(
    project_id: int, xml_form_id: str, role_ref: str, token: str | None = None
) -> Response:
    actor, target = _form(project_id, xml_form_id, token)
    role = roles.role_named(role_ref)
    permissions.require(actor, "assignment.list", target)
    found = roles.form_assignments(
        read_session(), project_id, form_id=target.form_id, role=role
    )
    return _actors(found)


@_route(f"{_FORM}/<role_ref>/<int:actor_id>", methods=["POST"])
@operation("Grant a role on a form", tag="Assignments", response=SuccessSchema)
def form_assignment_create(
    project_id: int,
    xml_form_id: str,
    role_ref: str,
    actor_id: int,
    token: str | None = None,
) -> Response:
    """pyODK's `…/assignments/2/<appUserId>`: the app user then sees only
    the forms it is assigned (the permission table's narrowing)."""
    actor, target = _form(project_id, xml_form_id, token)
    return _grant(
        actor, role_ref, actor_id, target, project_id=project_id, form_id=target.form_id
    )


@_route(f"{_FORM}/<role_ref>/<int:actor_id>", methods=["DELETE"])
@operation("Take back a role on a form", tag="Assignments", response=SuccessSchema)
def form_assignment_delete(
    project_id: int,
    xml_form_id: str,
    role_ref: str,
    actor_id: int,
    token: str | None = None,
) -> Response:
    actor, target = _form(project_id, xml_form_id, token)
    return _revoke(
        actor, role_ref, actor_id, target, project_id=project_id, form_id=target.form_id
    )
