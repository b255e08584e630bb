"""Reading forms: the project's list (`?deleted=true` too), one form plain
and extended, its published versions, their XForms and workbooks, and
`/fields`. Those who may only read see published forms; a form with only a
draft is for those who may update it; an app user sees only the open forms
it was given."""

from __future__ import annotations

import pytest

from tests.api.forms.support import (
    ACTOR_KEYS,
    EXTENDED_FORM_KEYS,
    FORM_KEYS,
    XLSX,
    create_form,
    forms_url,
    refused,
    simple_workbook,
    simple_xml,
)

EXTENDED = {"X-Extended-Metadata": "true"}


@pytest.fixture
def url(seeded) -> str:
    return forms_url(seeded.project_id)


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_json()
    return [form["xmlFormId"] for form in response.get_json()]


# --- The list --------------------------------------------------------------------


def test_the_list_has_centrals_keys_sorted_by_name(client, url, admin_headers, seeded):
    create_form(client, admin_headers, seeded.project_id, simple_xml(title="Algo"))

    response = client.get(url, headers=admin_headers)

    assert names(response) == ["sencillo", "encuesta"]  # "Algo", "Encuesta de prueba"
    assert all(set(form) == FORM_KEYS for form in response.get_json())


def test_the_extended_list_counts_and_names_the_creator(
    client, url, admin_headers, seeded
):
    create_form(client, admin_headers, seeded.project_id, simple_xml())

    body = client.get(url, headers={**admin_headers, **EXTENDED}).get_json()

    assert all(set(form) == EXTENDED_FORM_KEYS for form in body)
    sencillo = next(f for f in body if f["xmlFormId"] == "sencillo")
    assert sencillo["submissions"] == 0
    assert sencillo["reviewStates"] == {"received": 0, "hasIssues": 0, "edited": 0}
    assert sencillo["lastSubmission"] is None
    assert set(sencillo["createdBy"]) == ACTOR_KEYS
    assert sencillo["createdBy"]["id"] == seeded.admin_id
    assert sencillo["excelContentType"] is None


def test_a_form_with_only_a_draft_is_listed_for_those_who_may_update_it(
    client, url, admin_headers, seeded, person
):
    create_form(client, admin_headers, seeded.project_id, simple_xml(), publish=False)
    analyst = person("analista", "analyst")
    manager = person("gestora", "manager")

    assert "sencillo" not in names(client.get(url, headers=analyst))
    listed = client.get(url, headers=manager).get_json()
    draft = next(f for f in listed if f["xmlFormId"] == "sencillo")
    assert draft["publishedAt"] is None


def test_listing_needs_form_list(client, runtime, url, person):
    nobody = person("nadie", None)
    refused(runtime, lambda: client.get(url, headers=nobody), 403, 403.1)
    refused(
        runtime, lambda: client.get(f"{url}?deleted=true", headers=nobody), 403, 403.1
    )


def test_an_unknown_project_is_404_1(client, runtime, admin_headers):
    refused(
        runtime,
        lambda: client.get("/v1/projects/999/forms", headers=admin_headers),
        404,
        404.1,
    )


def test_deleted_forms_are_listed_with_their_numeric_id(
    client, url, admin_headers, seeded
):
    create_form(client, admin_headers, seeded.project_id, simple_xml())
    assert client.delete(f"{url}/sencillo", headers=admin_headers).status_code == 200

    live = client.get(url, headers=admin_headers)
    trash = client.get(f"{url}?deleted=true", headers=admin_headers)

    assert names(live) == ["encuesta"]
    assert names(trash) == ["sencillo"]
    [deleted] = trash.get_json()
    assert set(deleted) == FORM_KEYS | {"id", "deletedAt"}
    assert isinstance(deleted["id"], int)
    assert deleted["deletedAt"].endswith("Z")


# --- One form --------------------------------------------------------------------


def test_a_form_plain_and_extended(client, url, admin_headers, seeded):
    plain = client.get(f"{url}/encuesta", headers=admin_headers)
    extended = client.get(f"{url}/encuesta", headers={**admin_headers, **EXTENDED})

    assert plain.status_code == 200
    assert set(plain.get_json()) == FORM_KEYS
    body = plain.get_json()
    assert (body["projectId"], body["xmlFormId"]) == (seeded.project_id, "encuesta")
    assert body["name"] == "Encuesta de prueba"
    assert body["version"] == "2026112401"
    assert body["draftToken"] is None and body["webformsEnabled"] is False
    # A manager (here the admin) sees the notes of the publication.
    assert set(extended.get_json()) == EXTENDED_FORM_KEYS | {"publishNotes"}


def test_one_who_may_only_read_gets_no_publish_notes(client, url, person):
    analyst = person("analista", "analyst")

    body = client.get(f"{url}/encuesta", headers={**analyst, **EXTENDED}).get_json()

    assert set(body) == EXTENDED_FORM_KEYS


def test_a_draft_only_form_is_403_1_for_one_who_may_only_read(
    client, runtime, url, admin_headers, seeded, person
):
    create_form(client, admin_headers, seeded.project_id, simple_xml(), publish=False)
    analyst = person("analista", "analyst")

    for path in (
        "sencillo",
        "sencillo/fields",
        "sencillo/attachments",
        "sencillo/versions",
    ):
        refused(
            runtime,
            lambda path=path: client.get(f"{url}/{path}", headers=analyst),
            403,
            403.1,
        )
    assert client.get(f"{url}/sencillo", headers=admin_headers).status_code == 200


def test_an_unknown_form_is_404_1_before_rights_are_read(
    client, runtime, url, admin_headers, person
):
    nobody = person("nadie", None)
    for headers in (admin_headers, nobody):
        for path in (
            "no_existe",
            "no_existe/fields",
            "no_existe/versions",
            "no_existe/attachments",
            "no_existe.xlsx",
        ):
            refused(
                runtime,
                lambda path=path, headers=headers: client.get(
                    f"{url}/{path}", headers=headers
                ),
                404,
                404.1,
            )


def test_without_credentials_it_is_401(client, url):
    assert client.get(f"{url}/encuesta").status_code == 401


# --- Fields ----------------------------------------------------------------------


def test_fields_are_centrals_depth_first_with_groups_and_repeats(
    client, url, admin_headers
):
    response = client.get(f"{url}/encuesta/fields", headers=admin_headers)

    assert response.status_code == 200
    fields = {f["path"]: f for f in response.get_json()}
    assert all(
        set(f) == {"path", "name", "type", "binary", "selectMultiple"}
        for f in fields.values()
    )
    assert fields["/lugar"]["type"] == "structure"
    assert fields["/lugar/ubicacion"]["type"] == "geopoint"
    assert fields["/asistentes"]["type"] == "repeat"
    assert fields["/foto"]["binary"] is True
    assert fields["/meta/instanceID"]["type"] == "string"
    paths = list(fields)
    assert paths.index("/lugar") < paths.index("/lugar/ayllu") < paths.index("/foto")


def test_odata_fields_name_as_the_feed_writes(client, url, admin_headers, seeded):
    xml = (
        simple_xml(form_id="con_guion")
        .replace(b"<nombre", b"<nom-bre")
        .replace(b"/nombre", b"/nom-bre")
    )
    create_form(client, admin_headers, seeded.project_id, xml)

    plain = client.get(f"{url}/con_guion/fields", headers=admin_headers).get_json()
    odata = client.get(
        f"{url}/con_guion/fields?odata=true", headers=admin_headers
    ).get_json()

    assert "nom-bre" in [f["name"] for f in plain]
    assert "nom_bre" in [f["name"] for f in odata]
    assert "/nom_bre" in [f["path"] for f in odata]


# --- Published versions ----------------------------------------------------------


def test_versions_are_listed_newest_first_with_who_published_them(
    client, url, admin_headers, seeded
):
    create_form(client, admin_headers, seeded.project_id, simple_xml())
    client.post(
        f"{url}/sencillo/draft",
        data=simple_xml(version="2"),
        headers=admin_headers,
        content_type="application/xml",
    )
    client.post(f"{url}/sencillo/draft/publish", headers=admin_headers)

    plain = client.get(f"{url}/sencillo/versions", headers=admin_headers).get_json()
    extended = client.get(
        f"{url}/sencillo/versions", headers={**admin_headers, **EXTENDED}
    ).get_json()

    assert [v["version"] for v in plain] == ["2", "1"]
    assert all(set(v) == FORM_KEYS for v in plain)
    assert all(
        set(v) == FORM_KEYS | {"publishedBy", "excelContentType", "publishNotes"}
        for v in extended
    )
    assert extended[0]["publishedBy"]["id"] == seeded.admin_id
    one = client.get(f"{url}/sencillo/versions/1", headers=admin_headers).get_json()
    assert (one["version"], one["hash"]) == ("1", plain[1]["hash"])


def test_a_versions_xform_is_xml_with_an_etag(client, url, admin_headers):
    response = client.get(
        f"{url}/encuesta/versions/2026112401.xml", headers=admin_headers
    )

    assert response.status_code == 200
    assert response.content_type == "application/xml; charset=utf-8"
    assert response.data.startswith(b"<?xml")
    form = client.get(f"{url}/encuesta", headers=admin_headers).get_json()
    assert response.headers["ETag"] == f'"{form["hash"]}"'


def test_the_empty_version_is_named_by_three_underscores(
    client, url, admin_headers, seeded
):
    xml = simple_xml(version="1").replace(b' version="1"', b"")
    create_form(client, admin_headers, seeded.project_id, xml)

    body = client.get(f"{url}/sencillo/versions/___", headers=admin_headers).get_json()

    assert body["version"] == ""


def test_an_unknown_version_is_404_1(client, runtime, url, admin_headers):
    for path in (
        "versions/9",
        "versions/9.xml",
        "versions/9/fields",
        "versions/9.xlsx",
    ):
        refused(
            runtime,
            lambda path=path: client.get(
                f"{url}/encuesta/{path}", headers=admin_headers
            ),
            404,
            404.1,
        )


def test_a_versions_workbook_is_the_one_uploaded(client, url, admin_headers, seeded):
    book = simple_workbook()
    create_form(client, admin_headers, seeded.project_id, book, content_type=XLSX)

    response = client.get(f"{url}/libro/versions/1.xlsx", headers=admin_headers)

    assert response.status_code == 200
    assert response.data == book
    assert response.content_type == XLSX
    assert client.get(f"{url}/libro.xlsx", headers=admin_headers).data == book


# --- App users -------------------------------------------------------------------


@pytest.fixture
def tablet(client, admin_headers, seeded) -> str:
    """An app user given `encuesta` only: its URL prefix (to put before a
    path without its `/v1/`)."""
    body = client.post(
        f"/v1/projects/{seeded.project_id}/app-users",
        json={"displayName": "Tableta"},
        headers=admin_headers,
    ).get_json()
    assigned = client.post(
        f"{forms_url(seeded.project_id)}/encuesta/assignments/app-user/{body['id']}",
        headers=admin_headers,
    )
    assert assigned.status_code == 200
    return f"/v1/key/{body['token']}/"


def test_an_app_user_reads_only_the_forms_it_was_given(
    client, runtime, url, admin_headers, seeded, tablet
):
    create_form(client, admin_headers, seeded.project_id, simple_xml())

    assert client.get(f"{tablet}{url[4:]}/encuesta").status_code == 200
    assert client.get(f"{tablet}{url[4:]}/encuesta/fields").status_code == 200
    refused(runtime, lambda: client.get(f"{tablet}{url[4:]}/sencillo"), 403, 403.1)
    # Central's app users hold no right to list the project's forms: Collect
    # reads the OpenRosa formList instead.
    refused(runtime, lambda: client.get(f"{tablet}{url[4:]}"), 403, 403.1)


def test_an_app_user_does_not_read_a_closed_form(
    client, runtime, url, admin_headers, tablet
):
    closed = client.patch(
        f"{url}/encuesta", json={"state": "closed"}, headers=admin_headers
    )
    assert closed.status_code == 200

    for path in (
        "encuesta",
        "encuesta/fields",
        "encuesta/versions",
        "encuesta/attachments",
    ):
        refused(
            runtime,
            lambda path=path: client.get(f"{tablet}{url[4:]}/{path}"),
            403,
            403.1,
        )
    # A closing form still accepts data: the tablet keeps reading it.
    client.patch(f"{url}/encuesta", json={"state": "closing"}, headers=admin_headers)
    assert client.get(f"{tablet}{url[4:]}/encuesta").status_code == 200


def test_an_app_user_never_touches_drafts_state_or_the_trash(
    client, runtime, url, tablet
):
    for response_of in (
        lambda: client.post(f"{tablet}{url[4:]}/encuesta/draft"),
        lambda: client.post(f"{tablet}{url[4:]}/encuesta/draft/publish"),
        lambda: client.patch(f"{tablet}{url[4:]}/encuesta", json={"state": "closed"}),
        lambda: client.delete(f"{tablet}{url[4:]}/encuesta"),
    ):
        refused(runtime, response_of, 403, 403.1)
