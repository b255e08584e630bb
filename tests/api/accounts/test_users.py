"""Central's users: list and search, create, the signed-in user (plain and
extended), read, change, change the password and delete; who may do each
(a user always reads and changes themselves) and every bad input with
Central's problem code and nothing stored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.db.models import ApiSession, RoleAssignment, User
from tests.api.accounts.conftest import USER_KEYS, actions, assert_user, is_iso
from tests.api.conftest import PASSWORD
from tests.support import ADMIN_PASSWORD

NEW_PASSWORD = "Otra-Clave-Segura-2026"


def sign_in(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/sessions", json={"email": email, "password": password})


def bearer_of(client, email: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    response = sign_in(client, email, password)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def create(client, headers, **body):  # type: ignore[no-untyped-def]
    return client.post("/v1/users", json=body, headers=headers)


def row(runtime, user_id: int) -> User:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        found = session.get(User, user_id)
        session.expunge(found)
        return found  # type: ignore[no-any-return]


def problem(response, status: float) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == int(status), response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["detail"]
    return body  # type: ignore[no-any-return]


# --- GET /v1/users ------------------------------------------------------------------


def test_listing_users_needs_credentials(client, seeded):
    problem(client.get("/v1/users"), 401.2)


def test_the_administrator_lists_users_by_email_with_their_last_login(
    client, seeded, admin_headers
):
    assert create(client, admin_headers, email="zoila@cdp.example").status_code == 200
    assert create(client, admin_headers, email="beto@cdp.example").status_code == 200

    response = client.get("/v1/users", headers=admin_headers)

    assert response.status_code == 200
    users = response.get_json()
    for user in users:
        assert_user(user)
    assert [u["email"] for u in users] == [
        "admin@localhost",
        "beto@cdp.example",
        "zoila@cdp.example",
    ]
    assert is_iso(users[0]["lastLoginAt"])
    assert [u["lastLoginAt"] for u in users[1:]] == [None, None]
    assert [u["displayName"] for u in users[1:]] == [
        "beto@cdp.example",
        "zoila@cdp.example",
    ]


@pytest.mark.parametrize("role", [None, "manager", "analyst"])
def test_who_cannot_list_users_gets_an_empty_list(client, seeded, person, role):
    headers = person("ana", role)

    response = client.get("/v1/users", headers=headers)

    assert response.status_code == 200
    assert response.get_json() == []


def test_an_exact_email_finds_that_user_for_anyone_signed_in(
    client, seeded, person, user_id
):
    headers = person("ana", None)

    exact = client.get("/v1/users?q=Admin@Localhost", headers=headers)
    partial = client.get("/v1/users?q=admin", headers=headers)

    assert [u["id"] for u in exact.get_json()] == [seeded.admin_id]
    assert partial.get_json() == []
    anonymous = client.get("/v1/users?q=admin@localhost")
    problem(anonymous, 401.2)


def test_searching_matches_words_of_emails_and_display_names_literally(
    client, seeded, admin_headers
):
    create(client, admin_headers, email="ana@cdp.example", displayName="Ana Mamani")
    create(client, admin_headers, email="rosa@cdp.example", displayName="Rosa Choque")
    create(client, admin_headers, email="al_100@cdp.example", displayName="Cien")

    def found(q: str) -> list[str]:
        response = client.get("/v1/users", query_string={"q": q}, headers=admin_headers)
        return [u["email"] for u in response.get_json()]

    assert found("mamani") == ["ana@cdp.example"]
    assert found("rosa") == ["rosa@cdp.example"]
    assert found("choque ana") == ["ana@cdp.example", "rosa@cdp.example"]
    assert found("l_1") == ["al_100@cdp.example"]
    assert found("%") == []


def test_deleted_users_are_not_listed(client, seeded, admin_headers, person, user_id):
    person("ana", None)
    client.delete(f"/v1/users/{user_id('ana')}", headers=admin_headers)

    response = client.get("/v1/users", headers=admin_headers)

    assert [u["email"] for u in response.get_json()] == ["admin@localhost"]


# --- POST /v1/users -----------------------------------------------------------------


def test_creating_a_user_answers_centrals_user_and_the_password_works(
    client, runtime, seeded, admin_headers
):
    response = create(
        client,
        admin_headers,
        email=" David@CDP.example ",
        password=NEW_PASSWORD,
        displayName="David Condori",
    )

    assert response.status_code == 200
    body = response.get_json()
    assert_user(body)
    assert body["email"] == "david@cdp.example"
    assert body["displayName"] == "David Condori"
    assert body["updatedAt"] is None and body["deletedAt"] is None
    assert body["lastLoginAt"] is None
    david = bearer_of(client, "david@cdp.example", NEW_PASSWORD)
    assert client.get("/v1/users/current", headers=david).get_json()["id"] == body["id"]
    assert actions(runtime, "user.create")[-1:] == ["user.create"]


def test_a_user_created_without_a_password_cannot_sign_in(
    client, seeded, admin_headers
):
    for password in (None, ""):
        email = f"sin{'' if password is None else 'blanco'}@cdp.example"
        response = create(client, admin_headers, email=email, password=password)
        assert response.status_code == 200
        assert response.get_json()["displayName"] == email
        blank = sign_in(client, email, "")
        problem(blank, 400.3)


@pytest.mark.parametrize("role", [None, "manager", "analyst", "guardian"])
def test_only_the_administrator_creates_users(client, seeded, person, stored, role):
    headers = person("ana", role, ayllu="Manazaya" if role == "guardian" else None)
    before = stored()

    response = create(client, headers, email="david@cdp.example")

    problem(response, 403.1)
    assert stored() == before


def test_an_app_user_cannot_create_users(client, seeded, stored):
    before = stored()

    response = client.post(
        f"/v1/key/{seeded.token}/users", json={"email": "david@cdp.example"}
    )

    problem(response, 403.1)
    assert stored() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, 400.3),
        ({"email": ""}, 400.3),
        ({"email": None, "displayName": "David"}, 400.3),
        ({"email": 123}, 400.11),
        ({"email": ["a@b.c"]}, 400.11),
        ({"email": "david@cdp.example", "displayName": 7}, 400.11),
        ({"email": "david@cdp.example", "password": 123}, 400.11),
        ({"email": "david@cdp.example", "password": []}, 400.11),
        ({"email": "david@cdp.example", "password": {}}, 400.11),
        ({"email": "david@cdp.example", "password": "short"}, 400.21),
        ({"email": "david@cdp.example", "password": "lo" + "o" * 70 + "ng"}, 400.38),
        ({"email": "david@cdp.example", "password": "hunter2!!!"}, 400.44),
        ({"email": "d" * 250 + "@cdp.example"}, 400.13),
        ({"email": "david@cdp.example", "displayName": "x" * 256}, 400.13),
    ],
    ids=[
        "empty",
        "blank-email",
        "null-email",
        "number-email",
        "array-email",
        "number-name",
        "number-password",
        "array-password",
        "object-password",
        "short-password",
        "long-password",
        "weak-password",
        "long-email",
        "long-name",
    ],
)
def test_bad_new_users_are_refused_and_nothing_is_stored(
    client, seeded, admin_headers, stored, body, code
):
    before = stored()

    response = create(client, admin_headers, **body)

    problem(response, code)
    assert stored() == before


def test_a_weak_password_gets_centrals_400_44_details(client, seeded, admin_headers):
    response = create(
        client, admin_headers, email="david@cdp.example", password="hunter2!!!"
    )

    body = problem(response, 400.44)
    assert body["details"] == {
        "warning": "This is similar to a commonly used password",
        "suggestions": ["Add another word or two. Uncommon words are better."],
    }
    assert body["message"].startswith(
        "The supplied password is too weak: this is similar to a commonly used password"
    )


def test_a_body_that_is_not_json_is_400_1(client, seeded, admin_headers, stored):
    before = stored()

    response = client.post(
        "/v1/users",
        data=b"email=david@cdp.example",
        headers={**admin_headers, "Content-Type": "application/json"},
    )

    problem(response, 400.1)
    assert stored() == before


@pytest.mark.parametrize("email", ["admin@localhost", "ADMIN@localhost", "admin"])
def test_a_taken_email_is_409_3(client, seeded, admin_headers, stored, email):
    before = stored()

    response = create(client, admin_headers, email=email, password=NEW_PASSWORD)

    body = problem(response, 409.3)
    assert body["details"] == {"fields": ["email"], "values": [email.lower()]}
    assert stored() == before


def test_a_deleted_users_email_may_be_taken_again(
    client, seeded, admin_headers, person, user_id
):
    person("ana", None)
    old_id = user_id("ana")
    client.delete(f"/v1/users/{old_id}", headers=admin_headers)

    response = create(client, admin_headers, email="ana@cdp.example")

    assert response.status_code == 200
    assert response.get_json()["id"] != old_id


# --- GET /v1/users/current ----------------------------------------------------------


def test_the_current_user_without_extended_metadata_has_no_verbs(
    client, seeded, admin_headers
):
    response = client.get("/v1/users/current", headers=admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert_user(body)
    assert body["id"] == seeded.admin_id
    assert is_iso(body["lastLoginAt"])


def test_the_administrators_extended_current_user_has_site_verbs_and_preferences(
    client, seeded, admin_headers
):
    response = client.get(
        "/v1/users/current", headers={**admin_headers, "X-Extended-Metadata": "true"}
    )

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == USER_KEYS | {"verbs", "preferences"}
    assert body["preferences"] == {"site": {}, "projects": {}}
    assert body["verbs"] == sorted(body["verbs"])
    assert {
        "user.create",
        "user.password.invalidate",
        "assignment.create",
        "audit.read",
    } <= set(body["verbs"])
    assert "knowledge.guard" not in body["verbs"]


@pytest.mark.parametrize("role", [None, "manager", "guardian"])
def test_a_project_role_gives_no_site_wide_verbs(client, seeded, person, role):
    headers = person("ana", role, ayllu="Manazaya" if role == "guardian" else None)

    response = client.get(
        "/v1/users/current", headers={**headers, "X-Extended-Metadata": "true"}
    )

    assert response.status_code == 200
    assert response.get_json()["verbs"] == []
    assert response.get_json()["email"] == "ana@cdp.example"


def test_an_app_user_is_not_a_user(client, seeded):
    problem(client.get(f"/v1/key/{seeded.token}/users/current"), 404.1)
    problem(client.get(f"/v1/users/current?st={seeded.token}"), 404.1)


def test_the_current_user_needs_credentials(client, seeded):
    problem(client.get("/v1/users/current"), 401.2)


# --- GET /v1/users/<id> -------------------------------------------------------------


def test_the_administrator_reads_any_user(
    client, seeded, admin_headers, person, user_id
):
    person("ana", None)

    response = client.get(f"/v1/users/{user_id('ana')}", headers=admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert_user(body)
    assert body["email"] == "ana@cdp.example"
    assert is_iso(body["lastLoginAt"])


def test_a_user_reads_themselves_but_nobody_else(client, seeded, person, user_id):
    ana = person("ana", "manager")

    own = client.get(f"/v1/users/{user_id('ana')}", headers=ana)
    other = client.get(f"/v1/users/{seeded.admin_id}", headers=ana)

    assert own.status_code == 200
    assert own.get_json()["email"] == "ana@cdp.example"
    problem(other, 403.1)


def test_an_unknown_or_deleted_user_is_404_1(
    client, seeded, admin_headers, person, user_id
):
    person("ana", None)
    ana_id = user_id("ana")
    client.delete(f"/v1/users/{ana_id}", headers=admin_headers)

    problem(client.get("/v1/users/9999", headers=admin_headers), 404.1)
    problem(client.get(f"/v1/users/{ana_id}", headers=admin_headers), 404.1)


# --- PATCH /v1/users/<id> -----------------------------------------------------------


def test_a_user_changes_their_own_display_name(
    client, runtime, seeded, person, user_id
):
    ana = person("ana", None)
    ana_id = user_id("ana")
    before = client.get(f"/v1/users/{ana_id}", headers=ana).get_json()

    response = client.patch(
        f"/v1/users/{ana_id}", json={"displayName": "Ana Mamani"}, headers=ana
    )

    assert response.status_code == 200
    body = response.get_json()
    assert_user(body)
    assert body["displayName"] == "Ana Mamani"
    assert body["email"] == "ana@cdp.example"
    assert body["createdAt"] == before["createdAt"]
    assert is_iso(body["updatedAt"])
    assert actions(runtime, "user.update") == ["user.update"]


def test_only_displayname_and_email_change_and_the_new_email_signs_in(
    client, seeded, admin_headers, person, user_id
):
    person("ana", None)
    ana_id = user_id("ana")
    before = client.get(f"/v1/users/{ana_id}", headers=admin_headers).get_json()

    response = client.patch(
        f"/v1/users/{ana_id}",
        json={
            "id": 9999,
            "type": "exahacker",
            "password": "password",
            "email": "Ana.Nueva@cdp.example",
            "displayName": "Ana Nueva",
            "meta": {"test": "new meta"},
            "createdAt": "2006-01-01T00:00:00",
            "deletedAt": "2006-01-01T00:00:00",
        },
        headers=admin_headers,
    )

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == USER_KEYS
    assert body["id"] == ana_id
    assert body["email"] == "ana.nueva@cdp.example"
    assert body["displayName"] == "Ana Nueva"
    assert body["createdAt"] == before["createdAt"]
    assert body["deletedAt"] is None
    assert sign_in(client, "ana.nueva@cdp.example", PASSWORD).status_code == 200
    problem(sign_in(client, "ana@cdp.example", PASSWORD), 401.2)
    problem(sign_in(client, "ana.nueva@cdp.example", "password"), 401.2)


def test_nobody_but_the_administrator_changes_another_user(
    client, runtime, seeded, person, stored
):
    ana = person("ana", "manager")
    before = stored()

    response = client.patch(
        f"/v1/users/{seeded.admin_id}", json={"displayName": "no admin"}, headers=ana
    )

    problem(response, 403.1)
    assert stored() == before
    assert row(runtime, seeded.admin_id).display_name != "no admin"


def test_changing_an_unknown_user_is_404_1(client, seeded, admin_headers, stored):
    before = stored()

    response = client.patch(
        "/v1/users/9999", json={"displayName": "x"}, headers=admin_headers
    )

    problem(response, 404.1)
    assert stored() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "admin@localhost"}, 409.3),
        ({"email": "ADMIN@LOCALHOST", "displayName": "Ana"}, 409.3),
        ({"email": 5}, 400.11),
        ({"displayName": ["Ana"]}, 400.11),
        ({"displayName": "x" * 256}, 400.13),
        ({"email": "e" * 256}, 400.13),
    ],
    ids=["taken", "taken-case", "number-email", "array-name", "long-name", "long"],
)
def test_bad_changes_are_refused_and_nothing_changes(
    client, runtime, seeded, admin_headers, person, user_id, stored, body, code
):
    person("ana", None)
    ana_id = user_id("ana")
    before, user_before = stored(), row(runtime, ana_id)

    response = client.patch(f"/v1/users/{ana_id}", json=body, headers=admin_headers)

    problem(response, code)
    assert stored() == before
    after = row(runtime, ana_id)
    assert (after.email, after.display_name, after.updated_at) == (
        user_before.email,
        user_before.display_name,
        user_before.updated_at,
    )


def test_a_change_that_is_not_json_is_400_1(
    client, seeded, admin_headers, person, user_id, stored
):
    person("ana", None)
    before = stored()

    response = client.patch(
        f"/v1/users/{user_id('ana')}",
        data=b"{displayName",
        headers={**admin_headers, "Content-Type": "application/json"},
    )

    problem(response, 400.1)
    assert stored() == before


# --- PUT /v1/users/<id>/password ----------------------------------------------------


def password_url(user_id: int) -> str:
    return f"/v1/users/{user_id}/password"


def test_changing_ones_password_keeps_this_session_and_ends_the_others(
    client, runtime, seeded, person, user_id
):
    ana = person("ana", None)
    other = bearer_of(client, "ana@cdp.example", PASSWORD)

    response = client.put(
        password_url(user_id("ana")),
        json={"old": PASSWORD, "new": NEW_PASSWORD},
        headers=ana,
    )

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert client.get("/v1/users/current", headers=ana).status_code == 200
    assert client.get("/v1/users/current", headers=other).status_code == 401
    assert sign_in(client, "ana@cdp.example", NEW_PASSWORD).status_code == 200
    problem(sign_in(client, "ana@cdp.example", PASSWORD), 401.2)
    assert actions(runtime, "user.update") == ["user.update"]


def test_the_administrator_changes_a_password_knowing_the_old_one(
    client, seeded, admin_headers, person, user_id
):
    ana = person("ana", None)

    response = client.put(
        password_url(user_id("ana")),
        json={"old": PASSWORD, "new": NEW_PASSWORD},
        headers=admin_headers,
    )

    assert response.status_code == 200
    assert client.get("/v1/users/current", headers=ana).status_code == 401
    assert sign_in(client, "ana@cdp.example", NEW_PASSWORD).status_code == 200


def test_nobody_else_changes_a_users_password(client, runtime, seeded, person, stored):
    ana = person("ana", "manager")
    before, hashed = stored(), row(runtime, seeded.admin_id).password_hash

    response = client.put(
        password_url(seeded.admin_id),
        json={"old": ADMIN_PASSWORD, "new": NEW_PASSWORD},
        headers=ana,
    )

    problem(response, 403.1)
    assert stored() == before
    assert row(runtime, seeded.admin_id).password_hash == hashed


def test_changing_an_unknown_users_password_is_404_1(client, seeded, admin_headers):
    response = client.put(
        password_url(9999),
        json={"old": ADMIN_PASSWORD, "new": NEW_PASSWORD},
        headers=admin_headers,
    )

    problem(response, 404.1)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"old": "no-es-la-clave", "new": NEW_PASSWORD}, 401.2),
        ({"new": NEW_PASSWORD}, 401.2),
        ({"old": "", "new": NEW_PASSWORD}, 401.2),
        ({"old": 123, "new": NEW_PASSWORD}, 401.2),
        ({"old": "no-es-la-clave"}, 401.2),
        ({"old": PASSWORD}, 400.11),
        ({"old": PASSWORD, "new": None}, 400.11),
        ({"old": PASSWORD, "new": 1234567890}, 400.11),
        ({"old": PASSWORD, "new": ""}, 400.21),
        ({"old": PASSWORD, "new": "123456789"}, 400.21),
        ({"old": PASSWORD, "new": "lo" + "o" * 70 + "ng"}, 400.38),
        ({"old": PASSWORD, "new": "hunter2!!!"}, 400.44),
    ],
    ids=[
        "wrong-old",
        "no-old",
        "blank-old",
        "number-old",
        "wrong-old-no-new",
        "no-new",
        "null-new",
        "number-new",
        "blank-new",
        "short-new",
        "long-new",
        "weak-new",
    ],
)
def test_bad_password_changes_change_nothing(
    client, runtime, seeded, person, user_id, stored, body, code
):
    ana = person("ana", None)
    other = bearer_of(client, "ana@cdp.example", PASSWORD)
    ana_id = user_id("ana")
    before, hashed = stored(), row(runtime, ana_id).password_hash

    response = client.put(password_url(ana_id), json=body, headers=ana)

    problem(response, code)
    assert stored() == before
    assert row(runtime, ana_id).password_hash == hashed
    assert client.get("/v1/users/current", headers=other).status_code == 200
    assert sign_in(client, "ana@cdp.example", PASSWORD).status_code == 200


def test_a_weak_new_password_gets_centrals_details(client, seeded, person, user_id):
    ana = person("ana", None)

    response = client.put(
        password_url(user_id("ana")),
        json={"old": PASSWORD, "new": "hunter2!!!"},
        headers=ana,
    )

    body = problem(response, 400.44)
    assert body["details"] == {
        "warning": "This is similar to a commonly used password",
        "suggestions": ["Add another word or two. Uncommon words are better."],
    }


def test_a_password_change_that_is_not_json_is_400_1(
    client, runtime, seeded, person, user_id
):
    ana = person("ana", None)
    hashed = row(runtime, user_id("ana")).password_hash

    response = client.put(
        password_url(user_id("ana")),
        data=b"old=x&new=y",
        headers={**ana, "Content-Type": "application/json"},
    )

    problem(response, 400.1)
    assert row(runtime, user_id("ana")).password_hash == hashed


# --- DELETE /v1/users/<id> ----------------------------------------------------------


def test_deleting_a_user_ends_their_sessions_roles_and_sign_in(
    client, runtime, seeded, admin_headers, person, user_id
):
    ana = person("ana", "manager")
    ana_id = user_id("ana")

    response = client.delete(f"/v1/users/{ana_id}", headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    problem(client.get(f"/v1/users/{ana_id}", headers=admin_headers), 404.1)
    problem(client.get("/v1/users/current", headers=ana), 401.2)
    problem(sign_in(client, "ana@cdp.example", PASSWORD), 401.2)
    managers = client.get(
        f"/v1/projects/{seeded.project_id}/assignments/manager", headers=admin_headers
    )
    assert managers.get_json() == []
    with runtime.db.read() as session:
        assert session.get(User, ana_id).deleted_at is not None
        for model in (ApiSession, RoleAssignment):
            assert not session.scalars(
                sa.select(model).where(model.user_id == ana_id)
            ).all()
    assert actions(runtime, "user.delete") == ["user.delete"]


@pytest.mark.parametrize("role", [None, "manager"])
def test_only_the_administrator_deletes_users_not_even_oneself(
    client, runtime, seeded, person, user_id, stored, role
):
    ana = person("ana", role)
    before = stored()

    for target in (seeded.admin_id, user_id("ana")):
        problem(client.delete(f"/v1/users/{target}", headers=ana), 403.1)
    assert stored() == before
    assert row(runtime, user_id("ana")).deleted_at is None


def test_deleting_an_unknown_user_is_404_1(client, seeded, admin_headers, stored):
    before = stored()

    problem(client.delete("/v1/users/9999", headers=admin_headers), 404.1)
    assert stored() == before
