"""A form's state (`PATCH …/forms/<id>` with open, closing or closed), its
deletion to the trash and its restoration by numeric id. Refusals carry
Central's code and change nothing."""

from __future__ import annotations

import pytest

from tests.api.forms.support import (
    FORM_KEYS,
    create_form,
    forms_url,
    refused,
    simple_xml,
)
from tests.support import encuesta_xml, new_instance_id

FORM_LIST = {"X-OpenRosa-Version": "1.0"}


@pytest.fixture
def url(seeded) -> str:
    return f"{forms_url(seeded.project_id)}/encuesta"


def patch(client, url, headers, body):  # type: ignore[no-untyped-def]
    return client.patch(url, json=body, headers=headers)


def listed_for_collect(client, headers) -> bool:  # type: ignore[no-untyped-def]
    return (
        b"<formID>encuesta</formID>"
        in client.get("/formList", headers={**headers, **FORM_LIST}).data
    )


# --- State ---------------------------------------------------------------------


@pytest.mark.parametrize("state", ["closing", "closed", "open"])
def test_patching_the_state_answers_the_form(client, url, admin_headers, state):
    before = client.get(url, headers=admin_headers).get_json()

    response = patch(client, url, admin_headers, {"state": state})

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == FORM_KEYS
    assert body["state"] == state
    assert body["updatedAt"] is not None
    assert body["hash"] == before["hash"]
    assert client.get(url, headers=admin_headers).get_json()["state"] == state


def test_closing_and_closed_forms_leave_collects_list(client, url, admin_headers):
    assert listed_for_collect(client, admin_headers)

    patch(client, url, admin_headers, {"state": "closing"})
    assert not listed_for_collect(client, admin_headers)

    patch(client, url, admin_headers, {"state": "open"})
    assert listed_for_collect(client, admin_headers)


def test_a_closed_form_takes_no_submissions(client, url, admin_headers):
    patch(client, url, admin_headers, {"state": "closed"})

    response = client.post(
        f"{url}/submissions",
        data=encuesta_xml(new_instance_id()),
        headers=admin_headers,
        content_type="application/xml",
    )

    assert response.status_code == 409
    assert response.get_json()["code"] == 409.2


def test_keys_central_does_not_let_a_client_write_are_ignored(
    client, url, admin_headers
):
    before = client.get(url, headers=admin_headers).get_json()

    response = patch(
        client,
        url,
        admin_headers,
        {"xmlFormId": "otro", "name": "Otro nombre", "hash": "x", "version": "9"},
    )

    assert response.status_code == 200
    after = client.get(url, headers=admin_headers).get_json()
    for key in ("xmlFormId", "name", "hash", "version", "state"):
        assert after[key] == before[key]


@pytest.mark.parametrize("state", ["the coolest", "OPEN", "", 3])
def test_a_state_that_is_not_one_of_centrals_is_400_8(
    client, runtime, url, admin_headers, state
):
    body = refused(
        runtime, lambda: patch(client, url, admin_headers, {"state": state}), 400, 400.8
    )

    assert body["details"]["field"] == "state"
    assert client.get(url, headers=admin_headers).get_json()["state"] == "open"


def test_a_body_that_is_not_json_is_refused(client, runtime, url, admin_headers):
    body = refused(
        runtime,
        lambda: client.patch(
            url, data=b"state=closed", headers=admin_headers, content_type="text/plain"
        ),
        400,
        400.1,
    )
    assert body["code"] == 400.1
    assert client.get(url, headers=admin_headers).get_json()["state"] == "open"


@pytest.mark.parametrize("role", ["analyst", "data_collector"])
def test_only_those_who_may_update_change_the_state(
    client, runtime, url, admin_headers, person, role
):
    someone = person("alguien", role)

    refused(
        runtime, lambda: patch(client, url, someone, {"state": "closed"}), 403, 403.1
    )

    assert client.get(url, headers=admin_headers).get_json()["state"] == "open"


def test_patching_an_unknown_form_is_404_1(client, runtime, admin_headers, seeded):
    refused(
        runtime,
        lambda: patch(
            client,
            f"{forms_url(seeded.project_id)}/no_existe",
            admin_headers,
            {"state": "closed"},
        ),
        404,
        404.1,
    )


# --- Delete and restore ------------------------------------------------------------


def trash(client, headers, project_id) -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(f"{forms_url(project_id)}?deleted=true", headers=headers)
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def test_deleting_sends_the_form_to_the_trash(client, url, admin_headers, seeded):
    response = client.delete(url, headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    gone = client.get(url, headers=admin_headers)
    assert gone.status_code == 404 and gone.get_json()["code"] == 404.1
    assert not listed_for_collect(client, admin_headers)
    [deleted] = trash(client, admin_headers, seeded.project_id)
    assert deleted["xmlFormId"] == "encuesta"


def test_the_trash_dates_only_deleted_at(client, admin_headers, seeded):
    create_form(client, admin_headers, seeded.project_id, simple_xml())

    client.delete(f"{forms_url(seeded.project_id)}/sencillo", headers=admin_headers)

    [deleted] = trash(client, admin_headers, seeded.project_id)
    assert deleted["deletedAt"] is not None
    assert deleted["updatedAt"] is None  # as Central: a deletion is no update


def test_a_deleted_form_is_restored_by_its_numeric_id(
    client, url, admin_headers, seeded
):
    client.delete(url, headers=admin_headers)
    [deleted] = trash(client, admin_headers, seeded.project_id)

    response = client.post(
        f"{forms_url(seeded.project_id)}/{deleted['id']}/restore", headers=admin_headers
    )

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert client.get(url, headers=admin_headers).status_code == 200
    assert trash(client, admin_headers, seeded.project_id) == []
    assert listed_for_collect(client, admin_headers)


def test_restoring_by_xml_form_id_is_400_11(client, runtime, url, admin_headers):
    client.delete(url, headers=admin_headers)

    body = refused(
        runtime,
        lambda: client.post(f"{url}/restore", headers=admin_headers),
        400,
        400.11,
    )
    assert body["details"]["expected"] == "integer"


def test_restoring_while_a_live_form_has_its_id_is_409_3(
    client, runtime, url, admin_headers, seeded
):
    client.delete(url, headers=admin_headers)
    [deleted] = trash(client, admin_headers, seeded.project_id)
    again = simple_xml(form_id="encuesta", version="otra")
    client.post(
        f"{forms_url(seeded.project_id)}?ignoreWarnings=true&publish=true",
        data=again,
        headers=admin_headers,
        content_type="application/xml",
    )

    body = refused(
        runtime,
        lambda: client.post(
            f"{forms_url(seeded.project_id)}/{deleted['id']}/restore",
            headers=admin_headers,
        ),
        409,
        409.3,
    )

    assert body["details"] == {
        "fields": ["projectId", "xmlFormId"],
        "values": [str(seeded.project_id), "encuesta"],
    }
    assert len(trash(client, admin_headers, seeded.project_id)) == 1


def test_restoring_a_live_or_unknown_form_is_404_1(
    client, runtime, admin_headers, seeded
):
    live = client.get(
        f"{forms_url(seeded.project_id)}?deleted=false", headers=admin_headers
    ).get_json()
    assert live  # encuesta, whose numeric id is small
    for numeric in (1, 2, 999):
        refused(
            runtime,
            lambda numeric=numeric: client.post(
                f"{forms_url(seeded.project_id)}/{numeric}/restore",
                headers=admin_headers,
            ),
            404,
            404.1,
        )


@pytest.mark.parametrize("role", ["analyst", "data_collector"])
def test_only_those_who_may_delete_or_restore_do(
    client, runtime, url, admin_headers, seeded, person, role
):
    someone = person("alguien", role)

    refused(runtime, lambda: client.delete(url, headers=someone), 403, 403.1)
    assert client.get(url, headers=admin_headers).status_code == 200

    client.delete(url, headers=admin_headers)
    [deleted] = trash(client, admin_headers, seeded.project_id)
    refused(
        runtime,
        lambda: client.post(
            f"{forms_url(seeded.project_id)}/{deleted['id']}/restore", headers=someone
        ),
        403,
        403.1,
    )


def test_deleting_an_unknown_form_is_404_1(client, runtime, admin_headers, seeded):
    refused(
        runtime,
        lambda: client.delete(
            f"{forms_url(seeded.project_id)}/no_existe", headers=admin_headers
        ),
        404,
        404.1,
    )


def test_a_deleted_forms_id_can_be_used_again_with_ignore_warnings(
    client, admin_headers, seeded
):
    create_form(client, admin_headers, seeded.project_id, simple_xml())
    client.delete(f"{forms_url(seeded.project_id)}/sencillo", headers=admin_headers)

    response = client.post(
        f"{forms_url(seeded.project_id)}?ignoreWarnings=true",
        data=simple_xml(version="2"),
        headers=admin_headers,
        content_type="application/xml",
    )

    assert response.status_code == 200
    assert response.get_json()["version"] == "2"
