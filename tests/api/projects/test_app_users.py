"""App users (Central's field keys) on Central's paths: list (plain and
extended), create as pyODK does, read one, revoke; and the app-user prefix
`/v1/key/<token>/…`, which never lets a tablet manage tablets."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from pyodk._endpoints.project_app_users import ProjectAppUser

from app.db.models import AppUser, RoleAssignment
from tests.api.projects.support import (
    ACTOR_KEYS,
    APP_USER_KEYS,
    EXTENDED_APP_USER_KEYS,
    ISO_MS,
    audit_entries,
    problem,
    send_submission,
    snapshot,
)

FORM_LIST = {"X-OpenRosa-Version": "1.0"}


def url(project_id: int, *rest: object) -> str:
    return "/".join([f"/v1/projects/{project_id}/app-users", *map(str, rest)])


def create(client, headers, project_id: int, name: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(url(project_id), json={"displayName": name}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def other_project(client, admin_headers) -> int:
    response = client.post("/v1/projects", json={"name": "Otro"}, headers=admin_headers)
    return response.get_json()["id"]  # type: ignore[no-any-return]


# --- POST -------------------------------------------------------------------------


def test_creating_answers_centrals_app_user_with_its_token(
    client, runtime, admin_headers, seeded
):
    body = create(client, admin_headers, seeded.project_id, " Tableta Ayparavi ")
    assert set(body) == APP_USER_KEYS
    assert body["type"] == "field_key"
    assert body["displayName"] == "Tableta Ayparavi"
    assert body["projectId"] == seeded.project_id
    assert re.fullmatch(r"[A-Za-z0-9!$]{64}", body["token"])
    assert re.fullmatch(ISO_MS, body["createdAt"])
    assert body["updatedAt"] is None and body["deletedAt"] is None
    ProjectAppUser(**body)  # pyODK's strict model
    [entry] = [e for e in audit_entries(runtime, "field_key.create") if e.actor_user_id]
    assert (entry.actor_user_id, entry.target_id) == (seeded.admin_id, str(body["id"]))


def test_a_new_app_user_holds_no_role_until_forms_are_assigned(
    client, runtime, admin_headers, seeded
):
    # Central: "When an App User is created, they are assigned no rights."
    body = create(client, admin_headers, seeded.project_id, "Sin formularios")
    with runtime.db.read() as session:
        grants = session.scalar(
            sa.select(sa.func.count())
            .select_from(RoleAssignment)
            .where(RoleAssignment.app_user_id == body["id"])
        )
    assert grants == 0
    form_list = client.get(
        f"/v1/key/{body['token']}/projects/{seeded.project_id}/formList",
        headers=FORM_LIST,
    )
    assert form_list.status_code == 200
    assert b"encuesta" not in form_list.data


def test_a_manager_creates_app_users_an_analyst_may_not(
    client, runtime, person, seeded
):
    create(client, person("ana", "manager"), seeded.project_id, "De Ana")
    analyst = person("vero", "analyst")
    before = snapshot(runtime)
    response = client.post(
        url(seeded.project_id), json={"displayName": "x"}, headers=analyst
    )
    problem(response, 403, 403.1)
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, 400.2),
        ({"displayName": None}, 400.2),
        ({"displayName": 12}, 400.11),
        ({"displayName": True}, 400.11),
        ({"displayName": {"es": "Tableta"}}, 400.11),
        ({"displayName": ["Tableta"]}, 400.11),
        ({"displayName": "  "}, 400.8),
        ({"displayName": "t" * 256}, 400.13),
    ],
)
def test_a_bad_display_name_is_refused_and_nothing_is_stored(
    client, runtime, admin_headers, seeded, body, code
):
    before = snapshot(runtime)
    response = client.post(url(seeded.project_id), json=body, headers=admin_headers)
    details = problem(response, 400, code)["details"]
    assert details["field"] == "displayName"
    assert snapshot(runtime) == before


def test_a_body_that_is_not_json_creates_nothing(
    client, runtime, admin_headers, seeded
):
    before = snapshot(runtime)
    response = client.post(
        url(seeded.project_id),
        data="displayName=Tableta",
        content_type="application/x-www-form-urlencoded",
        headers=admin_headers,
    )
    assert problem(response, 400, 400.1)["details"]["format"] == "json"
    assert snapshot(runtime) == before


def test_an_unknown_or_deleted_project_is_404_1(
    client, runtime, admin_headers, other_project
):
    client.delete(f"/v1/projects/{other_project}", headers=admin_headers)
    before = snapshot(runtime)
    for project_id in (999, other_project):
        response = client.post(
            url(project_id), json={"displayName": "x"}, headers=admin_headers
        )
        problem(response, 404, 404.1)
        problem(client.get(url(project_id), headers=admin_headers), 404, 404.1)
    assert snapshot(runtime) == before


def test_a_manager_of_another_project_is_403_1(client, runtime, person, other_project):
    headers = person("ana", "manager")  # of the default project
    before = snapshot(runtime)
    problem(client.get(url(other_project), headers=headers), 403, 403.1)
    response = client.post(
        url(other_project), json={"displayName": "x"}, headers=headers
    )
    problem(response, 403, 403.1)
    assert snapshot(runtime) == before


# --- The app-user prefix ----------------------------------------------------------


def test_a_token_never_creates_app_users_in_its_project_or_another(
    client, runtime, seeded, other_project
):
    before = snapshot(runtime)
    for project_id in (seeded.project_id, other_project):
        response = client.post(
            f"/v1/key/{seeded.token}/projects/{project_id}/app-users",
            json={"displayName": "Intrusa"},
        )
        problem(response, 403, 403.1)
        listing = client.get(f"/v1/key/{seeded.token}/projects/{project_id}/app-users")
        problem(listing, 403, 403.1)
    assert snapshot(runtime) == before


def test_a_token_of_another_project_is_refused_before_its_rights_are_read(
    client, runtime, admin_headers, seeded, other_project
):
    tablet = create(client, admin_headers, other_project, "Tableta del otro")
    before = snapshot(runtime)
    response = client.post(
        f"/v1/key/{tablet['token']}/projects/{seeded.project_id}/app-users",
        json={"displayName": "Intrusa"},
    )
    assert problem(response, 403, 403.1)["error"] == "invalid_token"
    assert snapshot(runtime) == before


def test_an_unknown_token_is_403_not_401(client, seeded):
    response = client.get(f"/v1/key/{'x' * 64}/projects/{seeded.project_id}/app-users")
    problem(response, 403, 403.1)
    assert "WWW-Authenticate" not in response.headers


# --- GET --------------------------------------------------------------------------


def test_the_list_is_newest_first_and_only_of_the_project(
    client, admin_headers, seeded, other_project
):
    for name in ("A", "B"):
        create(client, admin_headers, seeded.project_id, name)
    create(client, admin_headers, other_project, "C")
    listed = client.get(url(seeded.project_id), headers=admin_headers).get_json()
    assert [a["displayName"] for a in listed] == ["B", "A", "Tableta 1"]
    for app_user in listed:
        assert set(app_user) == APP_USER_KEYS
        assert app_user["projectId"] == seeded.project_id
        ProjectAppUser(**app_user)


def test_the_extended_list_names_the_creator_and_the_last_use(
    client, admin_headers, seeded
):
    made = create(client, admin_headers, seeded.project_id, "Nueva")
    send_submission(client, seeded.project_id, seeded.token)  # by "Tableta 1"
    listed = client.get(
        url(seeded.project_id), headers={**admin_headers, "X-Extended-Metadata": "true"}
    ).get_json()
    by_name = {a["displayName"]: a for a in listed}
    new, seeded_tablet = by_name["Nueva"], by_name["Tableta 1"]
    for app_user in listed:
        assert set(app_user) == APP_USER_KEYS | EXTENDED_APP_USER_KEYS
        assert app_user["properties"] is None
    assert new["id"] == made["id"]
    assert set(new["createdBy"]) == ACTOR_KEYS
    assert (new["createdBy"]["id"], new["createdBy"]["type"]) == (
        seeded.admin_id,
        "user",
    )
    assert "email" not in new["createdBy"]
    assert new["lastUsed"] is None
    assert seeded_tablet["createdBy"] is None  # made by the server itself
    assert re.fullmatch(ISO_MS, seeded_tablet["lastUsed"])


def test_one_app_user_plain_and_extended(client, admin_headers, seeded, other_project):
    made = create(client, admin_headers, seeded.project_id, "Una")
    one = client.get(url(seeded.project_id, made["id"]), headers=admin_headers)
    assert one.get_json() == made
    extended = client.get(
        url(seeded.project_id, made["id"]),
        headers={**admin_headers, "X-Extended-Metadata": "true"},
    ).get_json()
    assert set(extended) == APP_USER_KEYS | EXTENDED_APP_USER_KEYS
    problem(
        client.get(url(other_project, made["id"]), headers=admin_headers), 404, 404.1
    )
    problem(client.get(url(seeded.project_id, 999), headers=admin_headers), 404, 404.1)


def test_listing_needs_field_key_list(client, person, seeded):
    problem(
        client.get(url(seeded.project_id), headers=person("vero", "analyst")),
        403,
        403.1,
    )


# --- DELETE -----------------------------------------------------------------------


def test_revoking_clears_the_token_grants_and_listing(
    client, runtime, admin_headers, seeded
):
    made = create(client, admin_headers, seeded.project_id, "Perdida")
    with runtime.db.transaction() as session:
        # As if its forms had been assigned to it.
        session.add(
            RoleAssignment(
                role="app_user", app_user_id=made["id"], project_id=seeded.project_id
            )
        )
    form_list = f"/v1/key/{made['token']}/projects/{seeded.project_id}/formList"
    assert client.get(form_list, headers=FORM_LIST).status_code == 200
    response = client.delete(url(seeded.project_id, made["id"]), headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert client.get(form_list, headers=FORM_LIST).status_code == 403
    listed = client.get(url(seeded.project_id), headers=admin_headers).get_json()
    assert made["id"] not in [a["id"] for a in listed]
    problem(
        client.get(url(seeded.project_id, made["id"]), headers=admin_headers),
        404,
        404.1,
    )
    with runtime.db.read() as session:
        stored = session.get(AppUser, made["id"])
        assert stored.revoked_at is not None
        assert stored.token != made["token"]  # the token itself is gone
        grants = session.scalar(
            sa.select(sa.func.count())
            .select_from(RoleAssignment)
            .where(RoleAssignment.app_user_id == made["id"])
        )
    assert grants == 0
    extended = client.get(
        f"/v1/projects/{seeded.project_id}",
        headers={**admin_headers, "X-Extended-Metadata": "true"},
    ).get_json()
    assert extended["appUsers"] == 1  # only the seeded tablet
    actions = [e.target_id for e in audit_entries(runtime, "field_key.delete")]
    assert actions == [str(made["id"])]


def test_revoking_twice_is_404_1_and_audited_once(
    client, runtime, admin_headers, seeded
):
    made = create(client, admin_headers, seeded.project_id, "Dos veces")
    target = url(seeded.project_id, made["id"])
    assert client.delete(target, headers=admin_headers).status_code == 200
    before = snapshot(runtime)
    problem(client.delete(target, headers=admin_headers), 404, 404.1)
    assert snapshot(runtime) == before
    assert len(audit_entries(runtime, "field_key.delete")) == 1


def test_revoking_an_unknown_app_user_or_one_of_another_project_is_404_1(
    client, runtime, admin_headers, seeded, other_project
):
    made = create(client, admin_headers, seeded.project_id, "Ajena")
    before = snapshot(runtime)
    problem(
        client.delete(url(seeded.project_id, 999), headers=admin_headers), 404, 404.1
    )
    problem(
        client.delete(url(other_project, made["id"]), headers=admin_headers), 404, 404.1
    )
    assert snapshot(runtime) == before


def test_revoking_needs_field_key_delete_and_a_tablet_cannot_revoke_itself(
    client, runtime, person, seeded
):
    before = snapshot(runtime)
    with runtime.db.read() as session:
        tablet_id = session.scalars(sa.select(AppUser.id)).one()
    response = client.delete(
        url(seeded.project_id, tablet_id), headers=person("vero", "analyst")
    )
    problem(response, 403, 403.1)
    response = client.delete(
        f"/v1/key/{seeded.token}/projects/{seeded.project_id}/app-users/{tablet_id}"
    )
    problem(response, 403, 403.1)
    assert snapshot(runtime)["app_users"] == before["app_users"]
