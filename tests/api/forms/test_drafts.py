"""A form's draft: `POST|GET|DELETE …/forms/<id>/draft`, its XForm, fields
and workbook, and `POST …/draft/publish[?version=]`. Collect keeps the
published version until the draft is published; every refusal has
Central's problem code and leaves nothing behind."""

from __future__ import annotations

import pytest

from app.forms.compiler import compile_markdown
from tests.api.forms.support import (
    FORM_KEYS,
    XLSX,
    XML,
    create_form,
    forms_url,
    refused,
    rows,
    simple_workbook,
    simple_xml,
    warning_workbook,
)
from tests.support import encuesta_md, encuesta_xml, new_instance_id

FORM_LIST = {"X-OpenRosa-Version": "1.0"}

# Version 2 of "sencillo" without the field `edad`: a structural change.
WITHOUT_EDAD_MD = """
| survey |
| | type | name | label |
| | text | nombre | Nombre |
| settings |
| | form_id | version | form_title |
| | sencillo | 2 | Sencillo sin edad |
"""


@pytest.fixture
def url(seeded) -> str:
    return f"{forms_url(seeded.project_id)}/sencillo"


@pytest.fixture
def published(client, admin_headers, seeded) -> dict:
    """`sencillo` version 1, published."""
    return create_form(
        client, admin_headers, seeded.project_id, simple_xml()
    ).get_json()


def post_draft(client, url, headers, data=b"", content_type=XML, query=""):  # type: ignore[no-untyped-def]
    return client.post(
        f"{url}/draft{query}", data=data, headers=headers, content_type=content_type
    )


def form_list(client, headers) -> bytes:  # type: ignore[no-untyped-def]
    return client.get("/formList", headers={**headers, **FORM_LIST}).data  # type: ignore[no-any-return]


# --- Setting a draft -------------------------------------------------------------


def test_a_new_definition_becomes_the_draft_and_collect_keeps_the_published_one(
    client, url, admin_headers, published
):
    response = post_draft(client, url, admin_headers, simple_xml(version="2"))

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    draft = client.get(f"{url}/draft", headers=admin_headers)
    assert draft.status_code == 200
    body = draft.get_json()
    assert set(body) == FORM_KEYS
    assert body["version"] == "2"
    assert body["publishedAt"] is None
    assert body["hash"] != published["hash"]
    shown = client.get(url, headers=admin_headers).get_json()
    assert shown["version"] == "1"
    assert shown["hash"] == published["hash"]
    assert shown["updatedAt"] is not None
    assert b"<version>1</version>" in form_list(client, admin_headers)


def test_the_drafts_xform_is_served_as_xml_with_its_md5_as_etag(
    client, url, admin_headers, published
):
    xml = simple_xml(version="2")
    post_draft(client, url, admin_headers, xml)

    response = client.get(f"{url}/draft.xml", headers=admin_headers)

    assert response.status_code == 200
    assert response.data == xml
    assert response.content_type == "application/xml; charset=utf-8"
    draft = client.get(f"{url}/draft", headers=admin_headers).get_json()
    assert response.headers["ETag"] == f'"{draft["hash"]}"'


def test_the_drafts_fields_are_its_own(client, url, admin_headers, published):
    post_draft(
        client,
        url,
        admin_headers,
        compile_markdown(WITHOUT_EDAD_MD).xml,
        query="?ignoreWarnings=true",
    )

    draft_fields = client.get(f"{url}/draft/fields", headers=admin_headers).get_json()
    published_fields = client.get(f"{url}/fields", headers=admin_headers).get_json()

    assert {
        "path": "/nombre",
        "name": "nombre",
        "type": "string",
        "binary": None,
        "selectMultiple": None,
    } in draft_fields
    assert "/edad" not in {f["path"] for f in draft_fields}
    assert "/edad" in {f["path"] for f in published_fields}
    odata = client.get(f"{url}/draft/fields?odata=true", headers=admin_headers)
    assert odata.status_code == 200
    assert [f["path"] for f in odata.get_json()] == [f["path"] for f in draft_fields]


def test_an_empty_body_copies_the_published_version_and_its_workbook(
    client, admin_headers, seeded
):
    book = simple_workbook()
    create_form(client, admin_headers, seeded.project_id, book, content_type=XLSX)
    url = f"{forms_url(seeded.project_id)}/libro"
    published = client.get(url, headers=admin_headers).get_json()

    response = client.post(f"{url}/draft", headers=admin_headers)

    assert response.status_code == 200
    draft = client.get(f"{url}/draft", headers=admin_headers).get_json()
    assert (draft["version"], draft["hash"]) == (
        published["version"],
        published["hash"],
    )
    assert client.get(f"{url}/draft.xlsx", headers=admin_headers).data == book


def test_a_new_draft_replaces_the_old_one(
    client, url, admin_headers, published, runtime
):
    post_draft(client, url, admin_headers, simple_xml(version="2"))
    versions_before = rows(runtime)["form_versions"]

    post_draft(client, url, admin_headers, simple_xml(version="3"))

    assert (
        client.get(f"{url}/draft", headers=admin_headers).get_json()["version"] == "3"
    )
    # The replaced draft is gone, not kept beside the new one.
    assert rows(runtime)["form_versions"] == versions_before


def test_an_xlsform_draft_with_warnings_needs_ignore_warnings(
    client, runtime, admin_headers, seeded
):
    create_form(
        client,
        admin_headers,
        seeded.project_id,
        simple_workbook(form_id="con_aviso"),
        content_type=XLSX,
        publish=False,
    )
    url = f"{forms_url(seeded.project_id)}/con_aviso"
    body = refused(
        runtime,
        lambda: post_draft(client, url, admin_headers, warning_workbook(), XLSX),
        400,
        400.16,
    )
    assert body["details"]["warnings"]["xlsFormWarnings"]

    accepted = post_draft(
        client, url, admin_headers, warning_workbook(), XLSX, "?ignoreWarnings=true"
    )
    assert accepted.status_code == 200


def test_dropping_a_published_field_is_a_structure_warning(
    client, runtime, url, admin_headers, published
):
    xml = compile_markdown(WITHOUT_EDAD_MD).xml

    body = refused(
        runtime, lambda: post_draft(client, url, admin_headers, xml), 400, 400.16
    )

    assert body["details"]["warnings"]["workflowWarnings"] == [
        {"type": "structureChanged", "details": ["edad"]}
    ]
    assert client.get(f"{url}/draft", headers=admin_headers).status_code == 404


# --- Refused drafts: nothing stored ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        (b"<hello", XML, 400.1),
        (b"not xml at all", "text/plain", 400.1),
        (b"<test/>", XML, 400.2),
        (b"not a workbook", XLSX, 400.15),
    ],
)
def test_a_bad_definition_is_refused_and_the_form_keeps_no_draft(
    client, runtime, url, admin_headers, published, data, content_type, code
):
    refused(
        runtime,
        lambda: post_draft(client, url, admin_headers, data, content_type),
        400,
        code,
    )
    assert client.get(f"{url}/draft", headers=admin_headers).status_code == 404


def test_another_forms_xform_is_400_8(client, runtime, url, admin_headers, published):
    body = refused(
        runtime,
        lambda: post_draft(client, url, admin_headers, simple_xml(form_id="otro")),
        400,
        400.8,
    )
    assert body["details"]["field"] == "xmlFormId"
    assert body["details"]["value"] == "otro"


def test_an_empty_body_for_a_form_never_published_is_400_2(
    client, runtime, admin_headers, seeded
):
    create_form(client, admin_headers, seeded.project_id, simple_xml(), publish=False)
    url = f"{forms_url(seeded.project_id)}/sencillo"

    body = refused(
        runtime, lambda: client.post(f"{url}/draft", headers=admin_headers), 400, 400.2
    )

    assert body["details"] == {"field": "xml"}


def test_a_draft_for_an_unknown_form_is_404_1(client, runtime, admin_headers, seeded):
    url = f"{forms_url(seeded.project_id)}/no_existe"
    refused(
        runtime,
        lambda: post_draft(client, url, admin_headers, simple_xml()),
        404,
        404.1,
    )
    refused(
        runtime, lambda: client.get(f"{url}/draft", headers=admin_headers), 404, 404.1
    )


@pytest.mark.parametrize("role", ["analyst", "data_collector"])
def test_only_those_who_may_update_the_form_touch_its_draft(
    client, runtime, url, admin_headers, published, person, role
):
    post_draft(client, url, admin_headers, simple_xml(version="2"))
    someone = person("alguien", role)

    for response_of in (
        lambda: post_draft(client, url, someone, simple_xml(version="3")),
        lambda: client.get(f"{url}/draft", headers=someone),
        lambda: client.get(f"{url}/draft.xml", headers=someone),
        lambda: client.get(f"{url}/draft/fields", headers=someone),
        lambda: client.delete(f"{url}/draft", headers=someone),
        lambda: client.post(f"{url}/draft/publish", headers=someone),
    ):
        refused(runtime, response_of, 403, 403.1)
    assert (
        client.get(f"{url}/draft", headers=admin_headers).get_json()["version"] == "2"
    )


def test_a_manager_sets_and_publishes_drafts(client, url, published, person):
    manager = person("gestora", "manager")

    assert post_draft(client, url, manager, simple_xml(version="2")).status_code == 200
    assert client.post(f"{url}/draft/publish", headers=manager).status_code == 200
    assert client.get(url, headers=manager).get_json()["version"] == "2"


# --- Publishing ----------------------------------------------------------------


def test_publishing_makes_the_draft_the_version_collect_downloads(
    client, runtime, url, admin_headers, published
):
    post_draft(client, url, admin_headers, simple_xml(version="2"))

    response = client.post(f"{url}/draft/publish", headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    shown = client.get(url, headers=admin_headers).get_json()
    assert shown["version"] == "2"
    assert shown["publishedAt"] > published["publishedAt"]
    assert shown["updatedAt"] is not None
    assert client.get(f"{url}/draft", headers=admin_headers).status_code == 404
    versions = client.get(f"{url}/versions", headers=admin_headers).get_json()
    assert [v["version"] for v in versions] == ["2", "1"]
    listed = form_list(client, admin_headers)
    assert b"<version>2</version>" in listed and b"<version>1</version>" not in listed


def test_a_form_created_as_a_draft_is_published_by_publishing_it(
    client, url, admin_headers, seeded
):
    created = create_form(
        client, admin_headers, seeded.project_id, simple_xml(), publish=False
    ).get_json()
    assert b"sencillo" not in form_list(client, admin_headers)

    assert client.post(f"{url}/draft/publish", headers=admin_headers).status_code == 200

    shown = client.get(url, headers=admin_headers).get_json()
    # Central: published apart from its creation, the dates differ.
    assert shown["publishedAt"] != created["createdAt"]
    assert shown["updatedAt"] is not None
    assert b"sencillo" in form_list(client, admin_headers)


def test_publishing_under_a_new_version_string_sets_it_in_the_xform(
    client, url, admin_headers, published
):
    client.post(f"{url}/draft", headers=admin_headers)  # a copy of version 1

    response = client.post(f"{url}/draft/publish?version=1.1", headers=admin_headers)

    assert response.status_code == 200
    shown = client.get(url, headers=admin_headers).get_json()
    assert shown["version"] == "1.1"
    xml = client.get(f"{url}/versions/1.1.xml", headers=admin_headers)
    assert xml.status_code == 200
    assert b'version="1.1"' in xml.data
    assert shown["hash"] != published["hash"]


def test_publishing_a_version_already_published_is_409_6_and_keeps_the_draft(
    client, runtime, url, admin_headers, published
):
    client.post(f"{url}/draft", headers=admin_headers)  # version "1" again

    body = refused(
        runtime,
        lambda: client.post(f"{url}/draft/publish", headers=admin_headers),
        409,
        409.6,
    )

    assert body["details"] == {"xmlFormId": "sencillo", "version": "1"}
    assert client.get(f"{url}/draft", headers=admin_headers).status_code == 200
    shown = client.get(url, headers=admin_headers).get_json()
    assert shown["publishedAt"] == published["publishedAt"]


def test_a_new_version_string_that_was_used_before_is_409_6_too(
    client, runtime, url, admin_headers, published
):
    post_draft(client, url, admin_headers, simple_xml(version="2"))
    client.post(f"{url}/draft/publish", headers=admin_headers)
    post_draft(client, url, admin_headers, simple_xml(version="3"))
    draft = client.get(f"{url}/draft.xml", headers=admin_headers).data

    refused(
        runtime,
        lambda: client.post(f"{url}/draft/publish?version=1", headers=admin_headers),
        409,
        409.6,
    )
    # The draft is as it was: the refused version string was not written into it.
    assert client.get(f"{url}/draft.xml", headers=admin_headers).data == draft


def test_publishing_without_a_draft_is_404_1(
    client, runtime, url, admin_headers, published
):
    refused(
        runtime,
        lambda: client.post(f"{url}/draft/publish", headers=admin_headers),
        404,
        404.1,
    )


def test_publishing_an_unknown_form_is_404_1(client, runtime, admin_headers, seeded):
    refused(
        runtime,
        lambda: client.post(
            f"{forms_url(seeded.project_id)}/no_existe/draft/publish",
            headers=admin_headers,
        ),
        404,
        404.1,
    )


def test_publishing_keeps_the_submissions_of_older_versions(
    client, admin_headers, seeded
):
    url = f"{forms_url(seeded.project_id)}/encuesta"
    instance_id = new_instance_id()
    sent = client.post(
        f"{url}/submissions",
        data=encuesta_xml(instance_id),
        headers=admin_headers,
        content_type=XML,
    )
    assert sent.status_code == 200
    new_version = compile_markdown(encuesta_md("2026120501")).xml
    assert post_draft(client, url, admin_headers, new_version).status_code == 200

    assert client.post(f"{url}/draft/publish", headers=admin_headers).status_code == 200

    assert client.get(url, headers=admin_headers).get_json()["version"] == "2026120501"
    listed = client.get(f"{url}/submissions", headers=admin_headers).get_json()
    assert [s["instanceId"] for s in listed] == [instance_id]
    old = client.get(f"{url}/submissions/{instance_id}.xml", headers=admin_headers)
    assert old.status_code == 200
    assert b'version="2026112401"' in old.data
    extended = client.get(
        url, headers={**admin_headers, "X-Extended-Metadata": "true"}
    ).get_json()
    assert extended["submissions"] == 1
    old_version = client.get(f"{url}/versions/2026112401", headers=admin_headers)
    assert old_version.status_code == 200


def test_the_audit_log_records_draft_and_publication(
    client, runtime, url, admin_headers, published
):
    from app import audit

    post_draft(client, url, admin_headers, simple_xml(version="2"))
    client.post(f"{url}/draft/publish", headers=admin_headers)

    with runtime.db.read() as session:
        actions = [e.action for e in audit.entries(session).entries]
    assert actions.count("form.update.draft.set") == 1
    assert actions.count("form.update.publish") == 2


# --- Discarding the draft --------------------------------------------------------


def test_deleting_the_draft_leaves_the_published_version(
    client, runtime, url, admin_headers, published
):
    post_draft(client, url, admin_headers, simple_xml(version="2"))
    versions_before = rows(runtime)["form_versions"]

    response = client.delete(f"{url}/draft", headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert client.get(f"{url}/draft", headers=admin_headers).status_code == 404
    assert client.get(url, headers=admin_headers).get_json()["version"] == "1"
    assert rows(runtime)["form_versions"] == versions_before - 1


def test_deleting_the_draft_of_a_form_never_published_is_409_7(
    client, runtime, url, admin_headers, seeded
):
    create_form(client, admin_headers, seeded.project_id, simple_xml(), publish=False)

    refused(
        runtime,
        lambda: client.delete(f"{url}/draft", headers=admin_headers),
        409,
        409.7,
    )

    assert client.get(f"{url}/draft", headers=admin_headers).status_code == 200


def test_deleting_a_draft_that_does_not_exist_is_404_1(
    client, runtime, url, admin_headers, published
):
    refused(
        runtime,
        lambda: client.delete(f"{url}/draft", headers=admin_headers),
        404,
        404.1,
    )
