"""Projects on Central's paths: list, create, read (plain and extended),
change (PATCH), deep update (PUT), delete, and managed encryption (refused).

Each answer is compared with Central's documented shape (central.yaml's
Project, ExtendedProject, ExtendedProjectWithVerbs) and with pyODK's model;
each refusal with Central's status and problem code, and with a snapshot
proving nothing was stored."""

from __future__ import annotations

import re

import pytest
from pyodk._endpoints.projects import Project as PyodkProject

from app.auth import permissions
from tests.api.projects.support import (
    EXTENDED_KEYS,
    ISO_MS,
    PROJECT_KEYS,
    audit_entries,
    problem,
    send_submission,
    snapshot,
)


@pytest.fixture
def second_project(client, admin_headers) -> int:
    response = client.post(
        "/v1/projects", json={"name": "Mesa de turismo"}, headers=admin_headers
    )
    assert response.status_code == 200
    return response.get_json()["id"]  # type: ignore[no-any-return]


# --- GET /v1/projects -----------------------------------------------------------


def test_the_list_needs_credentials(client, seeded):
    problem(client.get("/v1/projects"), 401, 401.2)


def test_an_admin_lists_every_project_in_centrals_order(client, admin_headers):
    for name, archived in (
        ("Zapallo", False),
        ("Archivado A", True),
        ("Bofedal", False),
    ):
        body = {"name": name, "archived": archived}
        assert (
            client.post("/v1/projects", json=body, headers=admin_headers).status_code
            == 200
        )
    listed = client.get("/v1/projects", headers=admin_headers).get_json()
    # Central: not archived first, then by name.
    assert [p["name"] for p in listed] == [
        "Bofedal",
        "CdP Chipaya",
        "Zapallo",
        "Archivado A",
    ]
    for project in listed:
        assert set(project) == PROJECT_KEYS | {"verbs"}
        PyodkProject(**project)
    assert listed[-1]["archived"] is True
    assert listed[0]["keyId"] is None and listed[0]["deletedAt"] is None


def test_a_member_lists_only_their_projects_with_their_verbs(
    client, person, second_project
):
    headers = person("vero", "analyst")
    listed = client.get("/v1/projects", headers=headers).get_json()
    assert [p["name"] for p in listed] == ["CdP Chipaya"]
    analyst = permissions.ROLES[permissions.ANALYST].verbs
    assert set(listed[0]["verbs"]) == analyst


def test_someone_with_no_role_lists_nothing(client, person):
    assert client.get("/v1/projects", headers=person("nadie", None)).get_json() == []


def test_an_app_user_token_lists_no_project(client, seeded):
    # Tablets hold form verbs, not project.read: Central lists them nothing.
    response = client.get(f"/v1/key/{seeded.token}/projects")
    assert response.status_code == 200
    assert response.get_json() == []


def test_extended_list_counts_forms_app_users_and_the_last_submission(
    client, admin_headers, seeded, second_project
):
    send_submission(client, seeded.project_id, seeded.token)
    response = client.get(
        "/v1/projects", headers={**admin_headers, "X-Extended-Metadata": "true"}
    )
    by_name = {p["name"]: p for p in response.get_json()}
    cdp, turismo = by_name["CdP Chipaya"], by_name["Mesa de turismo"]
    assert set(cdp) == PROJECT_KEYS | EXTENDED_KEYS | {"verbs"}
    assert (cdp["forms"], cdp["appUsers"], cdp["datasets"]) == (1, 1, 0)
    assert re.fullmatch(ISO_MS, cdp["lastSubmission"])
    assert cdp["lastEntity"] is None
    assert (turismo["forms"], turismo["appUsers"], turismo["lastSubmission"]) == (
        0,
        0,
        None,
    )
    PyodkProject(**cdp)


def test_forms_true_nests_the_forms_and_sets_counts_without_extended(
    client, admin_headers, seeded
):
    send_submission(client, seeded.project_id, seeded.token)
    listed = client.get("/v1/projects?forms=True", headers=admin_headers).get_json()
    project = listed[0]
    assert "appUsers" not in project
    assert project["forms"] == 1
    assert re.fullmatch(ISO_MS, project["lastSubmission"])
    [form] = project["formList"]
    assert form["xmlFormId"] == "encuesta"
    assert form["projectId"] == seeded.project_id


def test_datasets_true_answers_an_empty_entity_list(client, admin_headers):
    listed = client.get("/v1/projects?datasets=true", headers=admin_headers).get_json()
    assert listed[0]["datasetList"] == []
    assert (listed[0]["datasets"], listed[0]["lastEntity"]) == (0, None)


# --- POST /v1/projects ----------------------------------------------------------


def test_an_admin_creates_a_project_and_it_is_audited(
    client, runtime, admin_headers, seeded
):
    response = client.post(
        "/v1/projects",
        json={"name": "  Mesa de salud ", "description": "Educación y salud"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PROJECT_KEYS
    assert (body["name"], body["description"], body["archived"]) == (
        "Mesa de salud",
        "Educación y salud",
        False,
    )
    assert re.fullmatch(ISO_MS, body["createdAt"])
    assert body["updatedAt"] is None and body["keyId"] is None
    PyodkProject(**body)
    [entry] = [e for e in audit_entries(runtime, "project.create") if e.actor_user_id]
    assert entry.actor_user_id == seeded.admin_id
    assert entry.target_id == str(body["id"])
    assert entry.details["data"]["name"] == "Mesa de salud"
    shown = client.get(f"/v1/projects/{body['id']}", headers=admin_headers)
    assert shown.get_json() == body


def test_a_manager_may_not_create_projects(client, runtime, person):
    headers = person("ana", "manager")
    before = snapshot(runtime)
    response = client.post("/v1/projects", json={"name": "Otro"}, headers=headers)
    problem(response, 403, 403.1)
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({}, 400, 400.2, "name"),
        ({"name": None}, 400, 400.2, "name"),
        ({"name": ""}, 400, 400.8, "name"),
        ({"name": "   "}, 400, 400.8, "name"),
        ({"name": 42}, 400, 400.11, "name"),
        ({"name": ["a"]}, 400, 400.11, "name"),
        ({"name": "x" * 256}, 400, 400.13, "name"),
        ({"name": "Bien", "description": 7}, 400, 400.11, "description"),
        ({"name": "Bien", "archived": "yes"}, 400, 400.11, "archived"),
    ],
)
def test_a_bad_project_body_is_refused_and_nothing_is_stored(
    client, runtime, admin_headers, body, status, code, field
):
    before = snapshot(runtime)
    response = client.post("/v1/projects", json=body, headers=admin_headers)
    assert problem(response, status, code)["details"]["field"] == field
    assert snapshot(runtime) == before


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", '"texto"'])
def test_a_body_that_is_not_a_json_object_is_400_1(client, runtime, admin_headers, raw):
    before = snapshot(runtime)
    response = client.post(
        "/v1/projects", data=raw, content_type="application/json", headers=admin_headers
    )
    body = problem(response, 400, 400.1)
    assert body["details"] == {"format": "json", "rawLength": len(raw)}
    assert snapshot(runtime) == before


# --- GET /v1/projects/<id> ------------------------------------------------------


def test_a_project_plain_has_exactly_centrals_keys(client, admin_headers, seeded):
    response = client.get(f"/v1/projects/{seeded.project_id}", headers=admin_headers)
    body = response.get_json()
    assert response.status_code == 200
    assert set(body) == PROJECT_KEYS
    assert body["name"] == "CdP Chipaya"


def test_a_project_extended_has_counts_and_the_callers_verbs(client, person, seeded):
    headers = person("dora", "data_collector")
    response = client.get(
        f"/v1/projects/{seeded.project_id}",
        headers={**headers, "X-Extended-Metadata": "true"},
    )
    body = response.get_json()
    assert set(body) == PROJECT_KEYS | EXTENDED_KEYS | {"verbs"}
    assert set(body["verbs"]) == permissions.ROLES[permissions.DATA_COLLECTOR].verbs
    assert (body["forms"], body["appUsers"], body["datasets"]) == (1, 1, 0)
    # A data collector may not list submissions: the date stays hidden.
    send_submission(client, seeded.project_id, seeded.token)
    again = client.get(
        f"/v1/projects/{seeded.project_id}",
        headers={**headers, "X-Extended-Metadata": "true"},
    ).get_json()
    assert again["lastSubmission"] is None


def test_an_admins_verbs_are_the_admin_roles(client, admin_headers, seeded):
    body = client.get(
        f"/v1/projects/{seeded.project_id}",
        headers={**admin_headers, "X-Extended-Metadata": "true"},
    ).get_json()
    assert set(body["verbs"]) == permissions.ROLES[permissions.ADMIN].verbs
    assert "project.delete" in body["verbs"]


def test_an_unknown_project_is_404_1(client, admin_headers, seeded):
    problem(client.get("/v1/projects/999", headers=admin_headers), 404, 404.1)


def test_a_project_of_which_the_caller_is_not_a_member_is_403_1(
    client, person, second_project
):
    headers = person("ana", "manager")  # manager of the default project only
    problem(client.get(f"/v1/projects/{second_project}", headers=headers), 403, 403.1)


def test_a_token_of_another_project_reads_nothing(client, seeded, second_project):
    response = client.get(f"/v1/key/{seeded.token}/projects/{second_project}")
    problem(response, 403, 403.1)


# --- PATCH /v1/projects/<id> ----------------------------------------------------


def test_patch_changes_only_the_given_fields_and_is_audited(
    client, runtime, person, seeded
):
    headers = person("ana", "manager")
    url = f"/v1/projects/{seeded.project_id}"
    response = client.patch(url, json={"description": "Nueva"}, headers=headers)
    body = response.get_json()
    assert response.status_code == 200 and set(body) == PROJECT_KEYS
    assert (body["name"], body["description"]) == ("CdP Chipaya", "Nueva")
    assert re.fullmatch(ISO_MS, body["updatedAt"])
    response = client.patch(
        url, json={"name": "CdP", "archived": True}, headers=headers
    )
    body = response.get_json()
    assert (body["name"], body["description"], body["archived"]) == (
        "CdP",
        "Nueva",
        True,
    )
    [first, second] = audit_entries(runtime, "project.update")
    assert first.details == {"data": {"description": "Nueva"}}
    assert second.details == {"data": {"name": "CdP", "archived": True}}


def test_archiving_the_default_project_keeps_tablets_working(
    client, admin_headers, seeded
):
    url = f"/v1/projects/{seeded.project_id}"
    response = client.patch(url, json={"archived": True}, headers=admin_headers)
    assert response.get_json()["archived"] is True
    # Central's archive only sorts the project last; Collect's root alias
    # still serves it.
    form_list = client.get(
        "/formList",
        headers={"X-OpenRosa-Version": "1.0"},
        query_string={"st": seeded.token},
    )
    assert form_list.status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"name": None}, 400.2, "name"),
        ({"name": ""}, 400.8, "name"),
        ({"archived": "aaa"}, 400.11, "archived"),
        ({"description": {"a": 1}}, 400.11, "description"),
    ],
)
def test_a_bad_patch_is_refused_and_nothing_is_stored(
    client, runtime, admin_headers, seeded, body, code, field
):
    before = snapshot(runtime)
    response = client.patch(
        f"/v1/projects/{seeded.project_id}", json=body, headers=admin_headers
    )
    details = problem(response, 400, code)["details"]
    assert details["field"] == field
    if code == 400.11:
        assert details["value"] == body[field]
    assert snapshot(runtime) == before


def test_patch_refusals_are_404_403_and_400_1(client, runtime, person, seeded):
    manager, analyst = person("ana", "manager"), person("vero", "analyst")
    before = snapshot(runtime)
    problem(
        client.patch("/v1/projects/999", json={"name": "x"}, headers=manager),
        404,
        404.1,
    )
    url = f"/v1/projects/{seeded.project_id}"
    problem(client.patch(url, json={"name": "x"}, headers=analyst), 403, 403.1)
    response = client.patch(url, data="nombre=x", headers=manager)
    problem(response, 400, 400.1)
    assert snapshot(runtime) == before


# --- PUT /v1/projects/<id> ------------------------------------------------------


def test_put_sets_every_field_and_nulls_what_is_omitted(
    client, runtime, person, seeded
):
    headers = person("ana", "manager")
    url = f"/v1/projects/{seeded.project_id}"
    client.patch(url, json={"description": "Vieja", "archived": True}, headers=headers)
    response = client.put(url, json={"name": "CdP Uru Chipaya"}, headers=headers)
    body = response.get_json()
    assert response.status_code == 200 and set(body) == PROJECT_KEYS
    assert (body["name"], body["description"], body["archived"]) == (
        "CdP Uru Chipaya",
        None,
        False,
    )
    entry = audit_entries(runtime, "project.update")[-1]
    assert entry.details == {
        "data": {"name": "CdP Uru Chipaya", "archived": None, "description": None}
    }


def test_put_changes_the_forms_states(client, runtime, person, seeded):
    headers = person("ana", "manager")
    body = {
        "name": "CdP Chipaya",
        "forms": [{"xmlFormId": "encuesta", "state": "closing", "name": "ignored"}],
    }
    response = client.put(
        f"/v1/projects/{seeded.project_id}", json=body, headers=headers
    )
    assert response.status_code == 200
    assert [state for _id, state in snapshot(runtime)["forms"]] == ["closing"]


@pytest.mark.parametrize(
    ("forms", "status", "code"),
    [
        ([], 501, 501.2),  # would remove the form
        ([{"xmlFormId": "encuesta"}, {"xmlFormId": "otra"}], 501, 501.2),  # adds one
        ([{"xmlFormId": "otra", "state": "closed"}], 501, 501.2),  # unknown
        ([{"state": "closed"}], 501, 501.2),  # names no form
        ([{"xmlFormId": "encuesta", "state": "invalid"}], 400, 400.8),
        ([{"xmlFormId": "encuesta", "state": 3}], 400, 400.11),
        (["encuesta"], 400, 400.11),
        (
            [{"xmlFormId": "encuesta", "assignments": [{"roleId": 2, "actorId": 1}]}],
            501,
            501.1,
        ),
    ],
)
def test_a_put_that_adds_removes_or_breaks_forms_stores_nothing(
    client, runtime, admin_headers, seeded, forms, status, code
):
    before = snapshot(runtime)
    body = {"name": "Otro nombre", "forms": forms}
    response = client.put(
        f"/v1/projects/{seeded.project_id}", json=body, headers=admin_headers
    )
    problem(response, status, code)
    assert snapshot(runtime) == before


def test_a_put_naming_a_form_twice_is_400_8(client, runtime, admin_headers, seeded):
    # With a second form so that the count matches.
    from app.forms import service as forms_service
    from tests.support import compile_markdown, encuesta_md

    with runtime.db.transaction() as session:
        forms_service.publish_form(
            session,
            runtime.blobs,
            project_id=seeded.project_id,
            compiled=compile_markdown(
                encuesta_md().replace("| encuesta |", "| encuesta2 |")
            ),
        )
    before = snapshot(runtime)
    forms = [{"xmlFormId": "encuesta"}, {"xmlFormId": "encuesta"}]
    response = client.put(
        f"/v1/projects/{seeded.project_id}",
        json={"name": "x", "forms": forms},
        headers=admin_headers,
    )
    body = problem(response, 400, 400.8)
    assert body["details"] == {
        "field": "xmlFormId",
        "value": "encuesta",
        "reason": "duplicate value",
    }
    assert snapshot(runtime) == before


def test_put_without_a_name_is_400_2(client, runtime, admin_headers, seeded):
    before = snapshot(runtime)
    response = client.put(
        f"/v1/projects/{seeded.project_id}",
        json={"archived": True},
        headers=admin_headers,
    )
    assert problem(response, 400, 400.2)["details"] == {"field": "name"}
    assert snapshot(runtime) == before


def test_put_refusals_are_404_and_403(client, runtime, person, seeded):
    analyst = person("vero", "analyst")
    before = snapshot(runtime)
    problem(
        client.put("/v1/projects/999", json={"name": "x"}, headers=analyst), 404, 404.1
    )
    response = client.put(
        f"/v1/projects/{seeded.project_id}", json={"name": "x"}, headers=analyst
    )
    problem(response, 403, 403.1)
    assert snapshot(runtime) == before


# --- DELETE /v1/projects/<id> ---------------------------------------------------


def test_deleting_a_project_hides_it_everywhere_and_is_audited(
    client, runtime, admin_headers, seeded, second_project
):
    url = f"/v1/projects/{second_project}"
    response = client.delete(url, headers=admin_headers)
    assert response.status_code == 200 and response.get_json() == {"success": True}
    problem(client.get(url, headers=admin_headers), 404, 404.1)
    listed = client.get("/v1/projects", headers=admin_headers).get_json()
    assert [p["id"] for p in listed] == [seeded.project_id]
    problem(client.delete(url, headers=admin_headers), 404, 404.1)
    [entry] = audit_entries(runtime, "project.delete")
    assert (entry.target_id, entry.actor_user_id) == (
        str(second_project),
        seeded.admin_id,
    )


def test_the_default_project_cannot_be_deleted(client, runtime, admin_headers, seeded):
    before = snapshot(runtime)
    response = client.delete(f"/v1/projects/{seeded.project_id}", headers=admin_headers)
    body = problem(response, 409, 409.3)
    assert body["error"] == "default_project"
    assert "/formList" in body["message"]
    assert snapshot(runtime) == before


def test_delete_refusals_are_404_and_403(client, runtime, person, second_project):
    manager = person("ana", "manager")  # of the default project only
    before = snapshot(runtime)
    problem(client.delete("/v1/projects/999", headers=manager), 404, 404.1)
    problem(
        client.delete(f"/v1/projects/{second_project}", headers=manager), 403, 403.1
    )
    assert snapshot(runtime) == before


# --- POST /v1/projects/<id>/key -------------------------------------------------


def test_managed_encryption_is_not_offered(client, runtime, admin_headers, seeded):
    before = snapshot(runtime)
    response = client.post(
        f"/v1/projects/{seeded.project_id}/key",
        json={"passphrase": "una frase muy secreta"},
        headers={**admin_headers, "Accept-Language": "es"},
    )
    body = problem(response, 501, 501.1)
    assert body["details"] == {"feature": "managed encryption"}
    assert body["message"].startswith(
        "The requested feature managed encryption is not supported by this server."
    )
    assert body["detail"].startswith("Ayni no ofrece el cifrado gestionado")
    assert snapshot(runtime) == before


def test_managed_encryption_checks_the_project_and_the_caller_first(
    client, person, seeded
):
    analyst = person("vero", "analyst")
    problem(client.post("/v1/projects/999/key", json={}, headers=analyst), 404, 404.1)
    response = client.post(
        f"/v1/projects/{seeded.project_id}/key", json={}, headers=analyst
    )
    problem(response, 403, 403.1)
