"""Central's sessions: signing in for a Bearer token, reading the current
session, signing out, and ending someone else's session or an app user's
token; every refusal with Central's problem code and nothing stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.db.models import ApiSession, AppUser, AuditLog
from tests.api.accounts.conftest import actions, is_iso
from tests.api.conftest import PASSWORD
from tests.support import ADMIN_PASSWORD

TOKEN = re.compile(r"^[A-Za-z0-9!$]{64}$")
FAILED = "Could not authenticate with the provided credentials."


def sign_in(client, email: str, password: object):  # type: ignore[no-untyped-def]
    return client.post("/v1/sessions", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- POST /v1/sessions ------------------------------------------------------------


def test_signing_in_gives_centrals_session_valid_for_a_day(client, runtime, seeded):
    response = client.post(
        "/v1/sessions",
        json={"email": "admin@localhost", "password": ADMIN_PASSWORD},
        headers={"User-Agent": "pyodk/1.0"},
    )

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"token", "createdAt", "expiresAt"}
    assert TOKEN.match(body["token"])
    assert is_iso(body["createdAt"]) and is_iso(body["expiresAt"])
    assert stamp(body["expiresAt"]) - stamp(body["createdAt"]) == timedelta(hours=24)
    current = client.get("/v1/users/current", headers=bearer(body["token"]))
    assert current.status_code == 200
    assert current.get_json()["email"] == "admin@localhost"
    with runtime.db.read() as session:
        [entry] = session.scalars(
            sa.select(AuditLog).where(
                AuditLog.action == "user.session.create",
                AuditLog.details["userAgent"].as_string() == "pyodk/1.0",
            )
        ).all()
        assert entry.actor_user_id == seeded.admin_id


@pytest.mark.parametrize("login", ["ADMIN@LocalHost", "admin"])
def test_signing_in_ignores_the_emails_case_and_takes_the_username(
    client, seeded, login
):
    response = sign_in(client, login, ADMIN_PASSWORD)

    assert response.status_code == 200
    assert TOKEN.match(response.get_json()["token"])


def test_each_sign_in_is_a_new_session(client, runtime, seeded):
    first = sign_in(client, "admin@localhost", ADMIN_PASSWORD).get_json()["token"]
    second = sign_in(client, "admin@localhost", ADMIN_PASSWORD).get_json()["token"]

    assert first != second
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ApiSession)) == 2


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("admin@localhost", "letmein-not-this"),
        ("nadie@cdp.example", ADMIN_PASSWORD),
        ("admin@localhost", 123),
        ("admin@localhost", []),
        ("admin@localhost", {}),
    ],
    ids=["wrong-password", "unknown-email", "number", "array", "object"],
)
def test_wrong_credentials_are_401_2_and_open_no_session(
    client, seeded, stored, email, password
):
    before = stored()

    response = sign_in(client, email, password)

    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == 401.2
    assert body["message"] == FAILED
    assert "details" not in body
    assert stored() == before


@pytest.mark.parametrize(
    ("body", "got"),
    [
        ({"email": "admin@localhost"}, {"email": "admin@localhost"}),
        (
            {"email": "admin@localhost", "password": None},
            {"email": "admin@localhost", "password": None},
        ),
        (
            {"email": "admin@localhost", "password": ""},
            {"email": "admin@localhost", "password": ""},
        ),
        ({"password": "n/a"}, {"password": "***"}),
        ({"email": None, "password": "n/a"}, {"email": None, "password": "***"}),
        ({"email": "", "password": "n/a"}, {"email": "", "password": "***"}),
        ({}, {}),
    ],
    ids=[
        "no-password",
        "null-password",
        "blank-password",
        "no-email",
        "null-email",
        "blank-email",
        "empty-object",
    ],
)
def test_missing_email_or_password_is_400_3_never_echoing_the_password(
    client, seeded, stored, body, got
):
    before = stored()

    response = client.post("/v1/sessions", json=body)

    assert response.status_code == 400
    problem = response.get_json()
    assert problem["code"] == 400.3
    assert problem["details"] == {"expected": ["email", "password"], "got": got}
    assert stored() == before


def test_no_body_at_all_is_400_3_as_an_empty_object(client, seeded, stored):
    before = stored()

    response = client.post("/v1/sessions")

    assert response.status_code == 400
    assert response.get_json()["code"] == 400.3
    assert response.get_json()["details"] == {
        "expected": ["email", "password"],
        "got": {},
    }
    assert stored() == before


@pytest.mark.parametrize("email", [123, [], {}], ids=["number", "array", "object"])
def test_an_email_that_is_not_a_string_is_400_11(client, seeded, stored, email):
    before = stored()

    response = sign_in(client, email, "n/a")

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400.11
    assert body["message"] == "Invalid input data type: expected (email) to be (string)"
    assert stored() == before


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[1, 2]", b'"texto"'], ids=["broken", "array", "string"]
)
def test_a_body_that_is_not_a_json_object_is_400_1(client, seeded, stored, raw):
    before = stored()

    response = client.post(
        "/v1/sessions", data=raw, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400.1
    assert body["details"] == {"format": "json", "rawLength": len(raw)}
    assert stored() == before


def test_a_deleted_user_cannot_sign_in_and_their_session_ends_at_once(
    client, seeded, person, admin_headers, user_id, stored
):
    ana = person("ana", "manager")
    assert client.get("/v1/users/current", headers=ana).status_code == 200

    deleted = client.delete(f"/v1/users/{user_id('ana')}", headers=admin_headers)

    assert deleted.status_code == 200
    refused = client.get("/v1/users/current", headers=ana)
    assert refused.status_code == 401
    assert refused.get_json()["code"] == 401.2
    assert client.get("/v1/projects", headers=ana).status_code == 401
    before = stored()
    again = sign_in(client, "ana@cdp.example", PASSWORD)
    assert again.status_code == 401
    assert again.get_json()["code"] == 401.2
    assert stored() == before


def test_an_expired_session_is_refused(client, runtime, seeded, person):
    ana = person("ana", None)
    with runtime.db.transaction() as session:
        session.execute(
            sa.update(ApiSession).values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
        )

    response = client.get("/v1/users/current", headers=ana)

    assert response.status_code == 401
    assert response.get_json()["code"] == 401.2


def test_a_malformed_bearer_token_is_401_2(client, seeded):
    response = client.get("/v1/users/current", headers=bearer("x" * 200))

    assert response.status_code == 401
    assert response.get_json()["code"] == 401.2


# --- GET /v1/sessions/restore -------------------------------------------------------


def test_restore_gives_the_current_sessions_dates_never_its_token(client, seeded):
    created = sign_in(client, "admin@localhost", ADMIN_PASSWORD).get_json()

    response = client.get("/v1/sessions/restore", headers=bearer(created["token"]))

    assert response.status_code == 200
    assert response.get_json() == {
        "createdAt": created["createdAt"],
        "expiresAt": created["expiresAt"],
    }


def test_restore_without_a_session_is_404_1(client, seeded):
    response = client.get("/v1/sessions/restore")

    assert response.status_code == 404
    assert response.get_json()["code"] == 404.1


def test_restore_with_a_bad_token_is_401_2(client, seeded):
    response = client.get("/v1/sessions/restore", headers=bearer("a" * 64))

    assert response.status_code == 401
    assert response.get_json()["code"] == 401.2


def test_an_app_user_has_no_session_to_restore(client, seeded):
    response = client.get(f"/v1/key/{seeded.token}/sessions/restore")

    assert response.status_code == 403
    assert response.get_json()["code"] == 403.1


# --- DELETE /v1/sessions/current ----------------------------------------------------


def test_signing_out_ends_only_the_current_session(client, seeded):
    first = sign_in(client, "admin@localhost", ADMIN_PASSWORD).get_json()["token"]
    second = sign_in(client, "admin@localhost", ADMIN_PASSWORD).get_json()["token"]

    response = client.delete("/v1/sessions/current", headers=bearer(first))

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert client.get("/v1/users/current", headers=bearer(first)).status_code == 401
    assert client.get("/v1/users/current", headers=bearer(second)).status_code == 200


def test_signing_out_is_not_audited(client, runtime, seeded):
    token = sign_in(client, "admin@localhost", ADMIN_PASSWORD).get_json()["token"]
    before = actions(runtime)

    client.delete("/v1/sessions/current", headers=bearer(token))

    assert actions(runtime) == before


def test_signing_out_without_a_session_is_404_1(client, seeded, stored):
    before = stored()

    response = client.delete("/v1/sessions/current")

    assert response.status_code == 404
    assert response.get_json()["code"] == 404.1
    assert stored() == before


def test_an_app_user_cannot_sign_itself_out(client, seeded, stored):
    before = stored()

    response = client.delete(f"/v1/key/{seeded.token}/sessions/current")

    assert response.status_code == 403
    assert response.get_json()["code"] == 403.1
    assert stored() == before


# --- DELETE /v1/sessions/<token> ----------------------------------------------------


def test_a_user_may_end_their_own_session_by_its_token(client, seeded, person):
    ana = person("ana", None)
    token = ana["Authorization"].split()[1]

    response = client.delete(f"/v1/sessions/{token}", headers=ana)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert client.get("/v1/users/current", headers=ana).status_code == 401


def test_the_administrator_may_end_anyones_session(
    client, seeded, person, admin_headers
):
    ana = person("ana", None)
    token = ana["Authorization"].split()[1]

    response = client.delete(f"/v1/sessions/{token}", headers=admin_headers)

    assert response.status_code == 200
    assert client.get("/v1/users/current", headers=ana).status_code == 401


@pytest.mark.parametrize("role", [None, "manager", "analyst"])
def test_nobody_else_may_end_a_users_session(
    client, seeded, person, admin_headers, stored, role
):
    victim = admin_headers["Authorization"].split()[1]
    other = person("otro", role)
    before = stored()

    response = client.delete(f"/v1/sessions/{victim}", headers=other)

    assert response.status_code == 403
    assert response.get_json()["code"] == 403.1
    assert stored() == before
    assert client.get("/v1/users/current", headers=admin_headers).status_code == 200


def test_an_unknown_token_is_refused_like_one_the_caller_may_not_end(
    client, seeded, admin_headers, stored
):
    before = stored()

    for token in ("a" * 64, "corto", "b" * 65):
        response = client.delete(f"/v1/sessions/{token}", headers=admin_headers)
        assert response.status_code == 403
        assert response.get_json()["code"] == 403.1
    anonymous = client.delete(f"/v1/sessions/{'a' * 64}")
    assert anonymous.status_code == 403
    assert anonymous.get_json()["code"] == 403.1
    assert stored() == before


def test_a_manager_revokes_an_app_user_by_its_token(
    client, runtime, seeded, person, app_user_id
):
    manager = person("gestora", "manager")

    response = client.delete(f"/v1/sessions/{seeded.token}", headers=manager)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert client.get(f"/v1/key/{seeded.token}/users/current").status_code == 403
    with runtime.db.read() as session:
        assert session.get(AppUser, app_user_id).revoked_at is not None
    assert actions(runtime, "field_key.delete") == ["field_key.delete"]


@pytest.mark.parametrize("role", [None, "analyst", "data_collector"])
def test_who_may_not_manage_the_project_cannot_revoke_its_app_users(
    client, runtime, seeded, person, stored, app_user_id, role
):
    other = person("otro", role)
    before = stored()

    response = client.delete(f"/v1/sessions/{seeded.token}", headers=other)

    assert response.status_code == 403
    assert response.get_json()["code"] == 403.1
    assert stored() == before
    with runtime.db.read() as session:
        assert session.get(AppUser, app_user_id).revoked_at is None


def test_an_app_user_cannot_end_its_own_token(client, runtime, seeded, stored):
    before = stored()

    response = client.delete(f"/v1/key/{seeded.token}/sessions/{seeded.token}")

    assert response.status_code == 403
    assert response.get_json()["code"] == 403.1
    assert stored() == before
    assert client.get(f"/v1/key/{seeded.token}/projects").status_code == 200


def test_repeated_failures_lock_the_client_out_even_with_the_right_password(
    client, seeded, stored
):
    for _ in range(10):
        assert sign_in(client, "admin@localhost", "no-es-la-clave").status_code == 401
    before = stored()

    response = sign_in(client, "admin@localhost", ADMIN_PASSWORD)

    assert response.status_code == 429
    assert response.get_json()["code"] == 429.1
    assert stored() == before


@pytest.mark.parametrize(
    "authorization", ["Bearer invalid", "Basic invalid", f"Bearer {'a' * 64}"]
)
def test_signing_in_ignores_stale_credentials_in_the_request(
    client, seeded, authorization
):
    response = client.post(
        "/v1/sessions",
        json={"email": "admin@localhost", "password": ADMIN_PASSWORD},
        headers={"Authorization": authorization},
    )

    assert response.status_code == 200
    assert TOKEN.match(response.get_json()["token"])
