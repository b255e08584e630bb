"""The accounts service on the real database: app users, API sessions, the
Collect login, the shared login throttle, roles and who may list and submit."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.auth import accounts, app_users, permissions, roles, sessions, throttle
from app.auth.actors import Actor, actor_for_app_user, actor_for_user, is_live
from app.auth.errors import (
    AppUserNotFoundError,
    InvalidRoleError,
    UserNotFoundError,
)
from app.auth.passwords import digest_ha1
from app.auth.permissions import Form as FormTarget
from app.auth.permissions import Grant
from app.auth.permissions import Project as Target
from app.db.models import (
    ApiSession,
    AppUser,
    AuditLog,
    Form,
    LoginThrottle,
    Project,
    RoleAssignment,
    User,
)
from app.errors import NotFoundError

TOKEN_RE = re.compile(r"[A-Za-z0-9!$]{64}")
PASSWORD = "clave-de-prueba-123"
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    p1: int
    p2: int
    forms: dict[str, int]  # f1, f2 in p1; f3 in p2


@pytest.fixture
def world(runtime) -> World:
    with runtime.db.transaction() as session:
        p1, p2 = Project(name="CdP Chipaya"), Project(name="Otra")
        session.add_all([p1, p2])
        session.flush()
        forms = {
            "f1": Form(project_id=p1.id, xml_form_id="encuesta", title="Encuesta"),
            "f2": Form(project_id=p1.id, xml_form_id="practicas", title="Prácticas"),
            "f3": Form(project_id=p2.id, xml_form_id="encuesta", title="Encuesta"),
        }
        session.add_all(forms.values())
        session.flush()
        return World(p1.id, p2.id, {name: f.id for name, f in forms.items()})


def new_user(runtime, name: str, *, collect: bool = False, **kwargs) -> int:
    with runtime.db.transaction() as session:
        new = accounts.create_user(
            session,
            username=name,
            email=f"{name}@example.org",
            password=PASSWORD,
            collect_enabled=collect,
            **kwargs,
        )
        return new.user.id


def audit_actions(session) -> list[str]:
    return list(session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)))


# --- app users ------------------------------------------------------------


def test_a_new_app_user_has_a_64_char_url_safe_token_role_and_audit(runtime, world):
    admin_id = new_user(runtime, "admin")
    with runtime.db.transaction() as session:
        app_user = app_users.create_app_user(
            session,
            project_id=world.p1,
            display_name="Tableta 1",
            created_by_id=admin_id,
        )
        app_user_id, token = app_user.id, app_user.token
    assert TOKEN_RE.fullmatch(token)
    with runtime.db.read() as session:
        role = session.scalars(
            sa.select(RoleAssignment).where(RoleAssignment.app_user_id == app_user_id)
        ).one()
        assert (role.role, role.project_id, role.form_id) == (
            "app_user",
            world.p1,
            None,
        )
        audit = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "field_key.create")
        ).one()
        assert (audit.actor_user_id, audit.target_id) == (admin_id, str(app_user_id))
        assert app_users.app_user_for_token(session, token).id == app_user_id


def test_app_user_tokens_differ(runtime, world):
    with runtime.db.transaction() as session:
        tokens = {
            app_users.create_app_user(
                session, project_id=world.p1, display_name=f"T{i}"
            ).token
            for i in range(20)
        }
    assert len(tokens) == 20


def test_an_app_user_needs_a_live_project(runtime, world):
    with pytest.raises(NotFoundError), runtime.db.transaction() as session:
        app_users.create_app_user(session, project_id=999, display_name="T")


def test_a_revoked_token_is_not_found_and_revoking_is_audited_once(runtime, world):
    with runtime.db.transaction() as session:
        app_user = app_users.create_app_user(
            session, project_id=world.p1, display_name="Tableta"
        )
        app_user_id, token = app_user.id, app_user.token
    with runtime.db.transaction() as session:
        app_users.revoke_app_user(session, app_user_id)
    with runtime.db.transaction() as session:
        app_users.revoke_app_user(session, app_user_id)
    with runtime.db.read() as session:
        assert app_users.app_user_for_token(session, token) is None
        assert session.get(AppUser, app_user_id).revoked_at is not None
        assert audit_actions(session).count("field_key.delete") == 1


def test_revoking_an_unknown_app_user_raises(runtime, world):
    with pytest.raises(AppUserNotFoundError), runtime.db.transaction() as session:
        app_users.revoke_app_user(session, 12345)


@pytest.mark.parametrize("token", ["", "x" * 64, "x" * 65, "abc"])
def test_unknown_tokens_find_no_app_user(runtime, world, token):
    with runtime.db.transaction() as session:
        app_users.create_app_user(session, project_id=world.p1, display_name="T")
    with runtime.db.read() as session:
        assert app_users.app_user_for_token(session, token) is None


def test_app_users_are_listed_per_project_with_or_without_revoked(runtime, world):
    with runtime.db.transaction() as session:
        a = app_users.create_app_user(session, project_id=world.p1, display_name="A")
        b = app_users.create_app_user(session, project_id=world.p1, display_name="B")
        app_users.create_app_user(session, project_id=world.p2, display_name="C")
        app_users.revoke_app_user(session, b.id)
    with runtime.db.read() as session:
        names = [u.display_name for u in app_users.list_app_users(session, world.p1)]
        live = app_users.list_app_users(session, world.p1, include_revoked=False)
        assert [u.id for u in live] == [a.id]
    assert names == ["A", "B"]


# --- API sessions ---------------------------------------------------------


def test_a_bearer_token_finds_its_user_until_it_expires(runtime, world):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        api_session = sessions.create_session(
            session, session.get(User, user_id), now=T0
        )
        token = api_session.token
    assert TOKEN_RE.fullmatch(token)
    assert api_session.expires_at == T0 + timedelta(hours=24)
    with runtime.db.read() as session:
        found = sessions.user_for_token(session, token, now=T0 + timedelta(hours=23))
        assert found is not None and found.id == user_id
        assert (
            sessions.user_for_token(session, token, now=T0 + timedelta(hours=24))
            is None
        )


def test_a_bearer_token_with_the_default_ttl_works_now(runtime, world):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        token = sessions.create_session(session, session.get(User, user_id)).token
    with runtime.db.read() as session:
        assert sessions.user_for_token(session, token).id == user_id
        assert sessions.user_for_token(session, "nope") is None
        assert sessions.user_for_token(session, "") is None


def test_a_deleted_user_has_no_bearer_session(runtime, world):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        token = sessions.create_session(session, session.get(User, user_id)).token
        session.get(User, user_id).deleted_at = T0
    with runtime.db.read() as session:
        assert sessions.user_for_token(session, token) is None


def test_ending_an_api_session_removes_it_once(runtime, world):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        token = sessions.create_session(session, session.get(User, user_id)).token
    with runtime.db.transaction() as session:
        assert sessions.end_session(session, token) is True
    with runtime.db.transaction() as session:
        assert sessions.end_session(session, token) is False
    with runtime.db.read() as session:
        assert sessions.user_for_token(session, token) is None
        assert session.scalar(sa.select(sa.func.count()).select_from(ApiSession)) == 0


# --- Collect login --------------------------------------------------------


def test_digest_ha1_is_found_by_username(runtime, world):
    user_id = new_user(runtime, "juana", collect=True)
    with runtime.db.read() as session:
        user, ha1 = accounts.digest_ha1_for(session, "juana")
        assert user.id == user_id
    assert ha1 == digest_ha1("juana", PASSWORD)


def test_digest_ha1_is_found_by_email_with_the_email_hash(runtime, world):
    user_id = new_user(runtime, "juana", collect=True)
    with runtime.db.read() as session:
        user, ha1 = accounts.digest_ha1_for(session, "juana@example.org")
        assert user.id == user_id
    assert ha1 == digest_ha1("juana@example.org", PASSWORD)


def test_digest_ha1_is_none_for_a_user_not_enabled_for_collect(runtime, world):
    new_user(runtime, "pedro", collect=False)
    with runtime.db.read() as session:
        assert accounts.digest_ha1_for(session, "pedro") is None
        assert accounts.digest_ha1_for(session, "pedro@example.org") is None
        assert accounts.digest_ha1_for(session, "nadie") is None


def test_digest_ha1_is_none_for_a_deleted_user(runtime, world):
    user_id = new_user(runtime, "juana", collect=True)
    with runtime.db.transaction() as session:
        session.get(User, user_id).deleted_at = T0
    with runtime.db.read() as session:
        assert accounts.digest_ha1_for(session, "juana") is None


# --- login throttle -------------------------------------------------------


def fail(runtime, key: str, now: datetime, **kwargs) -> None:
    # One transaction per failure, as each request is: counts must add up
    # across sessions, as they do across workers.
    with runtime.db.transaction() as session:
        throttle.record_login_failure(session, key, now=now, **kwargs)


def delay(runtime, key: str, now: datetime) -> float:
    with runtime.db.read() as session:
        return throttle.login_delay(session, key, now=now)


def test_an_unknown_client_need_not_wait(runtime):
    assert delay(runtime, "ip:10.0.0.9", T0) == 0


def test_the_client_is_locked_after_the_limit_and_freed_after_the_lock(runtime):
    key = "ip:10.0.0.5"
    for i in range(9):
        fail(runtime, key, T0 + timedelta(seconds=i))
        assert delay(runtime, key, T0 + timedelta(seconds=i)) == 0
    fail(runtime, key, T0 + timedelta(seconds=9))
    assert delay(runtime, key, T0 + timedelta(seconds=9)) == 60
    assert delay(runtime, key, T0 + timedelta(seconds=30)) == 39
    assert delay(runtime, key, T0 + timedelta(seconds=69)) == 0
    assert delay(runtime, "ip:10.0.0.6", T0 + timedelta(seconds=9)) == 0


def test_failures_spread_over_more_than_the_window_never_lock(runtime):
    key = "ip:10.0.0.5"
    for i in range(30):
        fail(runtime, key, T0 + timedelta(seconds=7 * i))
    assert delay(runtime, key, T0 + timedelta(seconds=7 * 29)) == 0


def test_failures_while_locked_are_not_counted(runtime):
    key = "ip:10.0.0.5"
    for _ in range(3):
        fail(runtime, key, T0, limit=3)
    for i in range(10):
        fail(runtime, key, T0 + timedelta(seconds=i), limit=3)
    with runtime.db.read() as session:
        row = session.get(LoginThrottle, key)
        assert row.failures == 3
    assert delay(runtime, key, T0) == 60


def test_each_further_lock_doubles_up_to_the_maximum(runtime):
    key = "ip:10.0.0.5"
    now = T0
    locks = []
    for _ in range(7):
        for _ in range(3):
            fail(runtime, key, now, limit=3)
        wait = delay(runtime, key, now)
        locks.append(wait)
        now += timedelta(seconds=wait)  # retry the moment the lock ends
    assert locks == [60, 120, 240, 480, 900, 900, 900]


def test_a_client_quiet_for_a_window_after_its_lock_starts_afresh(runtime):
    key = "ip:10.0.0.5"
    for _ in range(3):
        fail(runtime, key, T0, limit=3)
    later = T0 + timedelta(seconds=60 + 61)
    for _ in range(3):
        fail(runtime, key, later, limit=3)
    assert delay(runtime, key, later) == 60


def test_a_success_forgets_failures_but_not_a_running_lock(runtime):
    key = "ip:10.0.0.5"
    for _ in range(2):
        fail(runtime, key, T0, limit=3)
    with runtime.db.transaction() as session:
        throttle.record_login_success(session, key, now=T0)
    fail(runtime, key, T0, limit=3)
    fail(runtime, key, T0, limit=3)
    assert delay(runtime, key, T0) == 0
    fail(runtime, key, T0, limit=3)
    with runtime.db.transaction() as session:
        throttle.record_login_success(session, key, now=T0)
    assert delay(runtime, key, T0) == 60


def test_concurrent_failures_from_many_workers_are_all_counted(runtime):
    key = "ip:10.0.0.7"
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            fail(runtime, key, T0, limit=1000)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with runtime.db.read() as session:
        assert session.get(LoginThrottle, key).failures == 8


# --- roles ----------------------------------------------------------------


def test_assigning_a_role_twice_returns_the_same_row(runtime, world):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        first = roles.assign_role(
            session,
            role="guardian",
            user_id=user_id,
            project_id=world.p1,
            ayllu="aransaya",
        )
        again = roles.assign_role(
            session,
            role="guardian",
            user_id=user_id,
            project_id=world.p1,
            ayllu="aransaya",
        )
        other = roles.assign_role(
            session,
            role="guardian",
            user_id=user_id,
            project_id=world.p1,
            ayllu="manasaya",
        )
    assert first.id == again.id != other.id
    with runtime.db.read() as session:
        actor = actor_for_user(session, session.get(User, user_id))
        guarded = permissions.ayllus_where(actor, "knowledge.guard", world.p1)
        assert (guarded.every, guarded.ayllus) == (False, {"aransaya", "manasaya"})
        assert not permissions.ayllus_where(actor, "knowledge.guard", world.p2)
        assert audit_actions(session).count("role.assign") == 2


def test_revoking_a_role_removes_exactly_that_scope(runtime, world):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        roles.assign_role(session, role="manager", user_id=user_id, project_id=world.p1)
        roles.assign_role(session, role="manager", user_id=user_id, project_id=world.p2)
    with runtime.db.transaction() as session:
        assert roles.revoke_role(
            session, role="manager", user_id=user_id, project_id=world.p1
        )
        assert not roles.revoke_role(
            session, role="manager", user_id=user_id, project_id=world.p1
        )
    with runtime.db.read() as session:
        actor = actor_for_user(session, session.get(User, user_id))
        assert not permissions.can(actor, "form.update", Target(world.p1))
        assert permissions.can(actor, "form.update", Target(world.p2))
        assert "role.revoke" in audit_actions(session)


def test_an_app_user_can_be_narrowed_to_forms_of_its_project(runtime, world):
    with runtime.db.transaction() as session:
        app_user = app_users.create_app_user(
            session, project_id=world.p1, display_name="T"
        )
        row = roles.assign_role(
            session, role="app_user", app_user_id=app_user.id, form_id=world.forms["f1"]
        )
    assert (row.project_id, row.form_id) == (world.p1, world.forms["f1"])


@pytest.mark.parametrize(
    ("grant", "error"),
    [
        ({"role": "jefe", "project_id": "p1"}, InvalidRoleError),
        ({"role": "guardian", "project_id": "p1"}, InvalidRoleError),
        ({"role": "guardian", "ayllu": "aransaya"}, InvalidRoleError),
        ({"role": "manager"}, InvalidRoleError),
        (
            {"role": "manager", "project_id": "p1", "ayllu": "aransaya"},
            InvalidRoleError,
        ),
        ({"role": "manager", "project_id": "p1", "form_id": "f1"}, InvalidRoleError),
        ({"role": "site_admin", "project_id": "p1"}, InvalidRoleError),
        ({"role": "app_user", "project_id": "p1"}, InvalidRoleError),
        ({"role": "manager", "project_id": 999}, NotFoundError),
        ({"role": "manager", "project_id": "p1", "user_id": 999}, UserNotFoundError),
        ({"role": "manager", "project_id": "p1", "app": True}, InvalidRoleError),
        ({"role": "app_user", "app": True, "project_id": "p2"}, InvalidRoleError),
        ({"role": "app_user", "app": True, "form_id": "f3"}, InvalidRoleError),
        ({"role": "site_admin", "app": True}, InvalidRoleError),
        ({"role": "app_user", "app_user_id": 999}, AppUserNotFoundError),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else value.__name__,
)
def test_invalid_role_assignments_are_refused(runtime, world, grant, error):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        app_user_id = app_users.create_app_user(
            session, project_id=world.p1, display_name="T"
        ).id
    kwargs = dict(grant)
    grantee = {"app_user_id": app_user_id} if kwargs.pop("app", False) else {}
    if "user_id" not in kwargs and "app_user_id" not in kwargs and not grantee:
        grantee = {"user_id": user_id} if kwargs["role"] != "app_user" else {}
    if kwargs.get("project_id") in ("p1", "p2"):
        kwargs["project_id"] = getattr(world, kwargs["project_id"])
    if "form_id" in kwargs:
        kwargs["form_id"] = world.forms[kwargs["form_id"]]
    with pytest.raises(error), runtime.db.transaction() as session:
        roles.assign_role(session, **kwargs, **grantee)


def test_the_user_and_app_user_grantees_are_exclusive(runtime, world):
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        app_user_id = app_users.create_app_user(
            session, project_id=world.p1, display_name="T"
        ).id
    with pytest.raises(InvalidRoleError), runtime.db.transaction() as session:
        roles.assign_role(
            session, role="app_user", user_id=user_id, app_user_id=app_user_id
        )
    with pytest.raises(InvalidRoleError), runtime.db.transaction() as session:
        roles.assign_role(session, role="manager", project_id=world.p1)


def test_invalid_role_error_is_bilingual_and_400(runtime, world):
    error = InvalidRoleError()
    assert error.status == 400
    assert error.code == "invalid_role"
    assert " / " in error.detail()


# --- actors ---------------------------------------------------------------


def test_a_users_actor_carries_its_grants(runtime, world):
    admin_id = new_user(runtime, "admin", admin=True)
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        roles.assign_role(session, role="analyst", user_id=user_id, project_id=world.p1)
    with runtime.db.read() as session:
        admin = actor_for_user(session, session.get(User, admin_id))
        ana = actor_for_user(session, session.get(User, user_id))
    assert (admin.kind, admin.project_id, admin.is_app_user) == ("user", None, False)
    assert admin.grants == (Grant(permissions.ADMIN),)
    assert permissions.can(admin, "user.create", permissions.SITE)
    assert ana.display_name == "ana"
    assert ana.grants == (Grant(permissions.ANALYST, world.p1),)
    assert permissions.can(ana, "submission.read", Target(world.p1))
    assert not permissions.can(ana, "submission.update", Target(world.p1))
    assert not permissions.can(ana, "submission.read", Target(world.p2))
    assert not permissions.can(ana, "user.create", permissions.SITE)


def test_an_app_users_actor_is_scoped_to_its_project(runtime, world):
    with runtime.db.transaction() as session:
        app_user = app_users.create_app_user(
            session, project_id=world.p1, display_name="Tableta 1"
        )
        roles.assign_role(
            session, role="app_user", app_user_id=app_user.id, form_id=world.forms["f1"]
        )
        # A row no service writes: an app user made administrator by hand.
        session.add(RoleAssignment(role=permissions.ADMIN, app_user_id=app_user.id))
        actor = actor_for_app_user(session, app_user)
    assert (actor.kind, actor.project_id, actor.is_app_user) == (
        "field_key",
        world.p1,
        True,
    )
    assert actor.display_name == "Tableta 1"
    assert actor.grants == (
        Grant(permissions.APP_USER, world.p1),
        Grant(permissions.APP_USER, world.p1, world.forms["f1"]),
    )
    assert not permissions.can(actor, "user.create", permissions.SITE)


# --- who may list and submit ----------------------------------------------

# (grants, revoked or deleted, project, form, expected). A grant is
# (role, project) for users; "app" is an app user of p1, "app:f1" one narrowed
# to form f1. The target is the form in its own project: a form id never names
# a form of another project (services look forms up in the URL's project).
RULES = [
    ("site_admin", [("site_admin", None)], "f1", True),
    ("site_admin other project", [("site_admin", None)], "f3", True),
    ("manager", [("manager", "p1")], "f2", True),
    ("manager elsewhere", [("manager", "p2")], "f1", False),
    ("data_collector", [("data_collector", "p1")], "f1", True),
    ("analyst is read-only", [("analyst", "p1")], "f1", False),
    ("guardian alone", [("guardian", "p1")], "f1", False),
    ("no role", [], "f1", False),
    ("app user, own project", "app", "f2", True),
    ("app user, other project", "app", "f3", False),
    ("app user narrowed, that form", "app:f1", "f1", True),
    ("app user narrowed, other form", "app:f1", "f2", False),
]


def _actor_for_rule(runtime, world: World, grants) -> Actor:
    if isinstance(grants, str):
        with runtime.db.transaction() as session:
            app_user = app_users.create_app_user(
                session, project_id=world.p1, display_name="T"
            )
            if ":" in grants:
                form = world.forms[grants.split(":")[1]]
                roles.assign_role(
                    session, role="app_user", app_user_id=app_user.id, form_id=form
                )
            return actor_for_app_user(session, app_user)
    user_id = new_user(runtime, "ana")
    with runtime.db.transaction() as session:
        for role, project in grants:
            pid = getattr(world, project) if project else None
            ayllu = "aransaya" if role == "guardian" else None
            roles.assign_role(
                session, role=role, user_id=user_id, project_id=pid, ayllu=ayllu
            )
        return actor_for_user(session, session.get(User, user_id))


@pytest.mark.parametrize(
    ("grants", "form", "expected"),
    [rule[1:] for rule in RULES],
    ids=[rule[0] for rule in RULES],
)
def test_who_may_list_and_submit(runtime, world, grants, form, expected):
    actor = _actor_for_rule(runtime, world, grants)
    with runtime.db.read() as session:
        target = FormTarget(
            session.get(Form, world.forms[form]).project_id, world.forms[form]
        )
    assert permissions.can(actor, "submission.create", target) is expected


@pytest.mark.parametrize("kind", ["app", "user"])
def test_an_actor_revoked_or_deleted_since_the_request_began_is_not_live(
    runtime, world, kind
):
    # An upload may take minutes on a weak link: the write checks again.
    actor = _actor_for_rule(runtime, world, "app" if kind == "app" else [])
    with runtime.db.read() as session:
        assert is_live(session, actor)
    with runtime.db.transaction() as session:
        if kind == "app":
            app_users.revoke_app_user(session, actor.id)
        else:
            session.get(User, actor.id).deleted_at = T0
    with runtime.db.read() as session:
        assert not is_live(session, actor)
