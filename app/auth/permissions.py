"""Who may do what: Ayni's one permission table.

Every check in the code is `can(actor, verb, target)` or `require(...)` against
this table; no other module names a role. Verbs are ODK Central's
(`project.read`, `form.update`, `submission.create`, …; Central's
`lib/model/migrations/*roles*` and `auth.canOrReject`) plus Ayni's own:

- `knowledge.guard`: custody of one ayllu's restricted knowledge (domain.md §4);
- `consent.record`: recording and lifting consent withdrawals;
- `export.create`: taking data out of the server (every export is audited).

A role is a set of verbs. A grant (`role_assignments` row) gives one role to
one user or app user, site-wide or in one project; `guardian` grants also name
an ayllu and app-user grants may name one form. How far a grant reaches:

- site-wide (no project): every target;
- per project: the project, its forms and its ayllus;
- per ayllu (guardian): like a project grant, except that the *ayllu verbs*
  (`knowledge.guard`, `consent.record`) reach only that ayllu's records. Asked
  of a whole project, an ayllu verb means "for every ayllu", which only an
  unscoped grant gives; `ayllus_where` says which ayllus a scoped grant covers;
- per form (app users narrowed to some forms): that form only. An app user
  holding any form grant in a project is narrowed to those forms, whatever its
  project-wide grant says (a tablet is given a project, then maybe narrowed).

A web user's account (`Account`) is reached by site-wide grants only, and its
own user always holds `user.read`, `user.update` and `session.end` on it.
Granting a role takes the role's verbs besides `assignment.create`
(`can_assign`), as in Central.

The site administrator holds every verb but `knowledge.guard`: "Administrator
rights do not include this permission" (domain.md §4). Only a guardian of the
record's ayllu opens restricted knowledge, and only a guardian may open a
record up (`app.governance.intake`).

Pure: no session, no Flask. The `Actor` (who is acting, with their grants) is
built once per request by `app.auth.actors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from app.errors import PermissionDeniedError

# --- Verbs ------------------------------------------------------------------------

# Verb -> what it allows, for people reading the roles page and /v1/roles.
VERBS: dict[str, str] = {
    "config.read": "read the server's settings",
    "audit.read": "read the audit log",
    "user.create": "create web users",
    "user.list": "list web users",
    "user.read": "read a web user",
    "user.update": "change a web user",
    "user.delete": "delete a web user",
    "user.password.invalidate": "reset a user's password",
    "session.end": "end other people's sessions",
    "assignment.list": "list role assignments",
    "assignment.create": "grant roles",
    "assignment.delete": "take roles back",
    "project.create": "create projects",
    "project.read": "see the project",
    "project.update": "change the project",
    "project.delete": "delete the project",
    "form.create": "publish new forms",
    "form.list": "list forms",
    "form.read": "read and download forms",
    "form.update": "publish versions, media and state of forms",
    "form.delete": "delete forms",
    "form.restore": "restore deleted forms",
    "field_key.create": "create app users (tablets)",
    "field_key.list": "list app users (tablets)",
    "field_key.delete": "revoke app users (tablets)",
    "submission.create": "send submissions",
    "submission.read": "read submissions",
    "submission.list": "list and count submissions",
    "submission.update": "review and comment on submissions",
    "submission.delete": "delete submissions",
    "submission.restore": "restore deleted submissions",
    "export.create": "export submissions and planning figures",
    "consent.record": "record and lift consent withdrawals",
    "knowledge.guard": "see and open up one ayllu's restricted knowledge",
}

# Verbs whose reach an ayllu-scoped grant narrows to its ayllu.
AYLLU_VERBS = frozenset({"knowledge.guard", "consent.record"})

_READ = frozenset(
    {"project.read", "form.list", "form.read", "submission.read", "submission.list"}
)
_MANAGE = frozenset(
    {
        *_READ,
        "project.update",
        "project.delete",
        "form.create",
        "form.update",
        "form.delete",
        "form.restore",
        "field_key.create",
        "field_key.list",
        "field_key.delete",
        "submission.create",
        "submission.update",
        "submission.delete",
        "submission.restore",
        "assignment.list",
        "assignment.create",
        "assignment.delete",
        "session.end",
        "export.create",
        "consent.record",
    }
)
_SITE = frozenset(
    {
        "config.read",
        "audit.read",
        "user.create",
        "user.list",
        "user.read",
        "user.update",
        "user.delete",
        "user.password.invalidate",
        "project.create",
    }
)

# --- Roles -------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """A set of verbs, and the shape a grant of it must have.

    `name` is what `role_assignments.role` stores; `system` is ODK Central's
    system name for the nearest Central role (served by `/v1/roles`), or Ayni's
    own for roles Central does not have; `central_id` is the numeric id Central
    gives that role on every server (its seed migrations: `admin` 1, `app-user`
    2, `manager` 5, `viewer` 6, `formfill` 8), which clients put in assignment
    URLs (pyODK assigns forms to app users with `assignments/2/{id}`); Ayni's
    own roles take ids from 101 up, clear of Central's. `scope`: "site" (no
    project), "project", "ayllu" (project and ayllu) or "app" (app users;
    project, maybe a form).
    """

    name: str
    system: str
    title: str
    scope: str
    verbs: frozenset[str]
    central_id: int


ADMIN = "site_admin"
MANAGER = "manager"
ANALYST = "analyst"
DATA_COLLECTOR = "data_collector"
GUARDIAN = "guardian"
APP_USER = "app_user"

ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            ADMIN,
            "admin",
            "Administrator",
            "site",
            (_SITE | _MANAGE) - {"knowledge.guard"},
            1,
        ),
        Role(MANAGER, "manager", "Project Manager", "project", _MANAGE, 5),
        Role(
            ANALYST,
            "viewer",
            "Project Viewer",
            "project",
            _READ | {"export.create"},
            6,
        ),
        Role(
            DATA_COLLECTOR,
            "formfill",
            "Data Collector",
            "project",
            frozenset({"project.read", "form.list", "form.read", "submission.create"}),
            8,
        ),
        Role(
            GUARDIAN,
            "guardian",
            "Knowledge Guardian",
            "ayllu",
            _READ | {"export.create", "consent.record", "knowledge.guard"},
            101,
        ),
        Role(
            APP_USER,
            "app-user",
            "App User",
            "app",
            frozenset({"form.list", "form.read", "submission.create"}),
            2,
        ),
    )
}
# Roles a web user can be given in the console, in the order it lists them.
USER_ROLES = (ADMIN, MANAGER, ANALYST, DATA_COLLECTOR, GUARDIAN)
for _role in ROLES.values():
    assert _role.verbs <= VERBS.keys(), _role.name  # noqa: S101 - table sanity
assert len({r.central_id for r in ROLES.values()}) == len(ROLES)  # noqa: S101


def role_for_reference(reference: str | int) -> Role | None:
    """The role a client names in a URL: Central's numeric id (`2`) or its
    system name (`app-user`), as Central's assignment routes accept both."""
    text = str(reference)
    for role in ROLES.values():
        if text in (str(role.central_id), role.system):
            return role
    return None


# --- Targets -----------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """The whole server (users, the audit log, creating projects)."""


@dataclass(frozen=True)
class Project:
    id: int


@dataclass(frozen=True)
class Form:
    project_id: int
    form_id: int


@dataclass(frozen=True)
class Account:
    """One web user's account (`/v1/users/<id>`, their sessions). Only
    site-wide grants reach it, and its own user always holds `user.read`,
    `user.update` and `session.end` on it: Central's special privileges of an
    actor over itself (`Auth.can`), so anyone may read and change their own
    profile and sign themselves out."""

    user_id: int


@dataclass(frozen=True)
class Ayllu:
    """One ayllu's records in a project; `name=None` is a record with no ayllu,
    which only unscoped grants reach."""

    project_id: int
    name: str | None


SITE = Site()
Target = Site | Project | Form | Ayllu | Account
# What a user may always do to their own account (see `Account`).
SELF_VERBS = frozenset({"user.read", "user.update", "session.end"})


@dataclass(frozen=True)
class Grant:
    role: str
    project_id: int | None = None
    form_id: int | None = None
    ayllu: str | None = None


class Actor(Protocol):
    """Whoever acts, as far as the table goes: their grants
    (`app.auth.actors.Actor` is the one the edges build)."""

    @property
    def grants(self) -> tuple[Grant, ...]: ...


def _project_of(target: Target) -> int | None:
    if isinstance(target, Project):
        return target.id
    if isinstance(target, Site | Account):
        return None
    return target.project_id


def _narrowed(grants: Iterable[Grant], role: str, project_id: int) -> bool:
    return any(
        g.role == role and g.project_id == project_id and g.form_id for g in grants
    )


def _reaches(
    grant: Grant, verb: str, target: Target, grants: tuple[Grant, ...]
) -> bool:
    if grant.project_id is None:
        return True  # site-wide
    if _project_of(target) != grant.project_id:
        return False
    if grant.form_id is not None:
        return isinstance(target, Form) and target.form_id == grant.form_id
    if isinstance(target, Form) and _narrowed(grants, grant.role, grant.project_id):
        return False
    if grant.ayllu is not None and verb in AYLLU_VERBS:
        return isinstance(target, Ayllu) and target.name == grant.ayllu
    return True


def can(actor: Actor | None, verb: str, target: Target) -> bool:
    """Whether the actor holds `verb` on `target` through any of its grants."""
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")
    if actor is None:
        return False
    if (
        isinstance(target, Account)
        and verb in SELF_VERBS
        # Only a web user is an account; an app user's `user_id` is None.
        and getattr(actor, "user_id", None) == target.user_id
    ):
        return True
    grants = actor.grants
    for grant in grants:
        role = ROLES.get(grant.role)
        if (
            role is not None
            and verb in role.verbs
            and _reaches(grant, verb, target, grants)
        ):
            return True
    return False


# Messages for refusals people meet often; others get the generic one.
_REFUSALS: dict[str, tuple[str, str]] = {
    "submission.create": (
        "No tiene permiso para enviar datos a este formulario.",
        "You are not allowed to submit to this form.",
    ),
    "submission.list": (
        "No tiene permiso para ver los envíos de este proyecto.",
        "You are not allowed to see this project's submissions.",
    ),
    "submission.read": (
        "No tiene permiso para ver los envíos de este proyecto.",
        "You are not allowed to see this project's submissions.",
    ),
    "submission.update": (
        "No tiene permiso para revisar envíos de este proyecto.",
        "You are not allowed to review this project's submissions.",
    ),
    "export.create": (
        "No tiene permiso para exportar los datos de este proyecto.",
        "You are not allowed to export this project's data.",
    ),
    "consent.record": (
        "Solo la administración del sitio, quien gestiona el proyecto o quien "
        "custodia ese ayllu puede registrar o levantar un retiro de consentimiento.",
        "Only a site admin, a project manager or the guardian of that ayllu may "
        "record or lift a consent withdrawal.",
    ),
    "knowledge.guard": (
        "Solo quien custodia los saberes de este ayllu puede hacerlo.",
        "Only the guardian of this ayllu's knowledge may do this.",
    ),
}


class PermissionRefusedError(PermissionDeniedError):
    code = "permission_denied"


def require(actor: Actor | None, verb: str, target: Target) -> None:
    """Raises: PermissionDeniedError when `can` says no."""
    if not can(actor, verb, target):
        es, en = _REFUSALS.get(verb, (None, None))
        raise PermissionRefusedError(es, en, verb=verb)


def can_assign(actor: Actor | None, role: Role, target: Target) -> bool:
    """Whether the actor may grant `role` on `target`.

    Central's rule (`Auth.canAssignRole`): `assignment.create` there, and
    every verb the role confers, so nobody hands out more than they hold. The
    ayllu verbs are the exception: custody is never held by whoever names the
    guardians (not even the site administrator, domain.md §4), so naming a
    guardian takes `assignment.create` on the whole site instead, as the
    console's role page does.
    """
    if not can(actor, "assignment.create", target):
        return False
    if role.scope == "ayllu":
        return can(actor, "assignment.create", SITE)
    return all(can(actor, verb, target) for verb in role.verbs)


def require_assign(actor: Actor | None, role: Role, target: Target) -> None:
    """Raises: PermissionDeniedError when `can_assign` says no."""
    if not can_assign(actor, role, target):
        raise PermissionRefusedError(
            "No puede otorgar un rol con permisos que usted no tiene aquí.",
            "You cannot grant a role with rights you do not hold here.",
            verb="assignment.create",
        )


def verbs_on(actor: Actor | None, target: Target) -> frozenset[str]:
    """Every verb the actor holds on the target (the console's buttons, the
    API's `verbs`)."""
    return frozenset(verb for verb in VERBS if can(actor, verb, target))


@dataclass(frozen=True)
class AylluReach:
    """Which ayllus of a project an actor holds an ayllu verb for."""

    every: bool  # an unscoped grant: every ayllu, records without one too
    ayllus: frozenset[str]

    def __contains__(self, ayllu: object) -> bool:
        return self.every or (isinstance(ayllu, str) and ayllu in self.ayllus)

    def __bool__(self) -> bool:
        return self.every or bool(self.ayllus)


def ayllus_where(actor: Actor | None, verb: str, project_id: int) -> AylluReach:
    """The ayllus of the project for which the actor holds `verb`."""
    if verb not in AYLLU_VERBS:
        raise ValueError(f"{verb!r} is not scoped by ayllu")
    if actor is None:
        return AylluReach(False, frozenset())
    if can(actor, verb, Project(project_id)):
        return AylluReach(True, frozenset())
    found = {
        grant.ayllu
        for grant in actor.grants
        if grant.ayllu is not None
        and grant.project_id == project_id
        and grant.role in ROLES
        and verb in ROLES[grant.role].verbs
    }
    return AylluReach(False, frozenset(found))
