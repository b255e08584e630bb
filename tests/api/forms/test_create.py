"""`POST /v1/projects/<id>/forms`: an XForm or an XLSForm becomes a form, a
draft unless `?publish=true`; every refusal has Central's problem code and
leaves nothing behind (no form, version, media slot, blob or audit entry)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api.forms.support import (
    FORM_KEYS,
    XLS,
    XLSX,
    XML,
    rows,
    simple_workbook,
    simple_xml,
    warning_workbook,
    workbook,
)


@pytest.fixture
def forms_url(seeded) -> str:
    return f"/v1/projects/{seeded.project_id}/forms"


def post(client, url, data, headers, content_type=XML, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        url, data=data, headers={**headers, **extra}, content_type=content_type
    )


def test_an_xform_becomes_a_draft_with_centrals_form_keys(
    client, forms_url, admin_headers
):
    response = post(client, forms_url, simple_xml(), admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == FORM_KEYS
    assert body["xmlFormId"] == "sencillo"
    assert body["name"] == "Sencillo"
    assert body["version"] == "1"
    assert body["state"] == "open"
    assert body["publishedAt"] is None
    assert body["updatedAt"] is None
    assert len(body["hash"]) == 32 and len(body["sha"]) == 40
    assert len(body["sha256"]) == 64
    assert body["enketoId"] is None and body["keyId"] is None
    assert body["createdAt"].endswith("Z")
    # A draft is not on the tablets' list.
    listed = client.get(
        "/formList", headers={**admin_headers, "X-OpenRosa-Version": "1.0"}
    )
    assert b"sencillo" not in listed.data


def test_publish_true_publishes_at_creation(client, forms_url, admin_headers):
    response = post(client, f"{forms_url}?publish=true", simple_xml(), admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["publishedAt"] == body["createdAt"]
    assert body["updatedAt"] is None
    shown = client.get(f"{forms_url}/sencillo", headers=admin_headers).get_json()
    assert shown["publishedAt"] == body["createdAt"]
    assert (
        client.get(f"{forms_url}/sencillo/draft", headers=admin_headers).status_code
        == 404
    )


def test_pyodks_capitalised_flags_are_read(client, forms_url, admin_headers):
    response = post(
        client,
        f"{forms_url}?ignoreWarnings=True&publish=False",
        warning_workbook(),
        admin_headers,
        content_type=XLSX,
        **{"X-XlsForm-FormId-Fallback": "con_aviso"},
    )

    assert response.status_code == 200
    assert response.get_json()["publishedAt"] is None


def test_an_xlsx_is_compiled_and_kept_as_uploaded(client, forms_url, admin_headers):
    data = simple_workbook()

    response = post(client, forms_url, data, admin_headers, content_type=XLSX)

    assert response.status_code == 200
    assert response.get_json()["xmlFormId"] == "libro"
    draft_book = client.get(f"{forms_url}/libro/draft.xlsx", headers=admin_headers)
    assert draft_book.status_code == 200
    assert draft_book.data == data
    assert draft_book.content_type == XLSX
    assert draft_book.headers["Content-Disposition"] == (
        "attachment; filename=\"libro.xlsx\"; filename*=UTF-8''libro.xlsx"
    )
    etag = draft_book.headers["ETag"]
    again = client.get(
        f"{forms_url}/libro/draft.xlsx",
        headers={**admin_headers, "If-None-Match": etag},
    )
    assert again.status_code == 304
    assert (
        client.get(f"{forms_url}/libro/draft.xls", headers=admin_headers).status_code
        == 404
    )


def test_the_fallback_header_names_a_workbook_without_a_form_id(
    client, forms_url, admin_headers
):
    response = post(
        client,
        forms_url,
        simple_workbook(form_id=None),
        admin_headers,
        content_type=XLSX,
        **{"X-XlsForm-FormId-Fallback": quote("ñandú")},
    )

    assert response.status_code == 200
    assert response.get_json()["xmlFormId"] == "ñandú"


def test_an_xls_content_type_serves_the_workbook_as_xls_only(
    client, forms_url, admin_headers
):
    data = simple_workbook()
    response = post(
        client, f"{forms_url}?publish=true", data, admin_headers, content_type=XLS
    )

    assert response.status_code == 200
    book = client.get(f"{forms_url}/libro.xls", headers=admin_headers)
    assert book.status_code == 200
    assert book.data == data
    assert book.content_type == XLS
    assert (
        client.get(f"{forms_url}/libro.xlsx", headers=admin_headers).status_code == 404
    )
    extended = client.get(
        f"{forms_url}/libro", headers={**admin_headers, "X-Extended-Metadata": "true"}
    ).get_json()
    assert extended["excelContentType"] == XLS


def test_a_form_made_from_xml_has_no_workbook(client, forms_url, admin_headers):
    post(client, f"{forms_url}?publish=true", simple_xml(), admin_headers)

    response = client.get(f"{forms_url}/sencillo.xlsx", headers=admin_headers)

    assert response.status_code == 404
    assert response.get_json()["code"] == 404.1


def test_the_audit_log_records_creation_and_publication(
    client, forms_url, admin_headers, runtime
):
    post(client, f"{forms_url}?publish=true", simple_xml(), admin_headers)

    from app import audit

    with runtime.db.read() as session:
        page = audit.entries(session)
    actions = [entry.action for entry in page.entries]
    assert "form.create" in actions and "form.update.publish" in actions


# --- Refusals: Central's code, and nothing stored -------------------------------


def refused(client, runtime, response_of, status, code):  # type: ignore[no-untyped-def]
    before = rows(runtime)
    response = response_of()
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == code
    assert rows(runtime) == before
    return body


def test_a_duplicate_form_id_is_409_3_and_nothing_is_stored(
    client, runtime, forms_url, admin_headers, seeded
):
    body = refused(
        client,
        runtime,
        lambda: post(client, forms_url, simple_xml(form_id="encuesta"), admin_headers),
        409,
        409.3,
    )
    assert body["details"] == {
        "fields": ["projectId", "xmlFormId"],
        "values": [str(seeded.project_id), "encuesta"],
    }


def test_an_xform_that_does_not_parse_is_400_1(
    client, runtime, forms_url, admin_headers
):
    body = refused(
        client,
        runtime,
        lambda: post(client, forms_url, b"<hello", admin_headers),
        400,
        400.1,
    )
    assert body["details"] == {"format": "xml", "rawLength": 6}


def test_an_xform_with_a_doctype_is_400_1(client, runtime, forms_url, admin_headers):
    xml = simple_xml().replace(
        b'<?xml version="1.0"?>',
        b'<?xml version="1.0"?><!DOCTYPE h:html [<!ENTITY x "y">]>',
    )
    refused(
        client, runtime, lambda: post(client, forms_url, xml, admin_headers), 400, 400.1
    )


def test_xml_without_a_form_id_is_400_2(client, runtime, forms_url, admin_headers):
    body = refused(
        client,
        runtime,
        lambda: post(client, forms_url, b"<test/>", admin_headers),
        400,
        400.2,
    )
    assert body["details"] == {"field": "formId"}


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b'{"xmlFormId": "x"}', "application/json"),
        (b"just some words", "text/plain"),
        (b"", XML),
    ],
)
def test_a_body_that_is_neither_xml_nor_a_workbook_is_400_1(
    client, runtime, forms_url, admin_headers, data, content_type
):
    refused(
        client,
        runtime,
        lambda: post(client, forms_url, data, admin_headers, content_type=content_type),
        400,
        400.1,
    )


def test_bytes_that_are_no_workbook_are_400_15(
    client, runtime, forms_url, admin_headers
):
    refused(
        client,
        runtime,
        lambda: post(
            client, forms_url, b"not a workbook", admin_headers, content_type=XLSX
        ),
        400,
        400.15,
    )


def test_an_xlsform_with_errors_is_400_15_with_pyxforms_message(
    client, runtime, forms_url, admin_headers
):
    broken = workbook(
        [["type", "name", "label"], ["text", "nombre", None]],
        settings=[["form_id"], ["roto"]],
    )
    body = refused(
        client,
        runtime,
        lambda: post(client, forms_url, broken, admin_headers, content_type=XLSX),
        400,
        400.15,
    )
    assert "no label or hint" in body["details"]["error"]
    assert body["details"]["warnings"] == []


def test_warnings_without_ignore_warnings_are_400_16(
    client, runtime, forms_url, admin_headers
):
    body = refused(
        client,
        runtime,
        lambda: post(
            client, forms_url, warning_workbook(), admin_headers, content_type=XLSX
        ),
        400,
        400.16,
    )
    [warning] = body["details"]["warnings"]["xlsFormWarnings"]
    assert "choices" in warning


def test_a_deleted_form_with_the_same_id_is_a_workflow_warning(
    client, runtime, forms_url, admin_headers
):
    post(client, f"{forms_url}?publish=true", simple_xml(), admin_headers)
    assert (
        client.delete(f"{forms_url}/sencillo", headers=admin_headers).status_code == 200
    )

    body = refused(
        client,
        runtime,
        lambda: post(client, forms_url, simple_xml(version="2"), admin_headers),
        400,
        400.16,
    )
    assert body["details"]["warnings"]["workflowWarnings"] == [
        {"type": "deletedFormExists", "details": {"xmlFormId": "sencillo"}}
    ]
    again = post(
        client,
        f"{forms_url}?ignoreWarnings=true",
        simple_xml(version="2"),
        admin_headers,
    )
    assert again.status_code == 200


def test_publishing_a_version_the_project_already_published_is_409_6(
    client, runtime, forms_url, admin_headers
):
    post(client, f"{forms_url}?publish=true", simple_xml(), admin_headers)
    client.delete(f"{forms_url}/sencillo", headers=admin_headers)

    body = refused(
        client,
        runtime,
        lambda: post(
            client,
            f"{forms_url}?publish=true&ignoreWarnings=true",
            simple_xml(),
            admin_headers,
        ),
        409,
        409.6,
    )
    assert body["details"] == {"xmlFormId": "sencillo", "version": "1"}
    assert body["message"] == (
        "You tried to publish the form 'sencillo' with version '1', but a published "
        "form has already existed in this project with those identifiers."
    )


@pytest.mark.parametrize("form_id", ["formulario.xml", "formulario.xls", "f.xlsx"])
def test_a_form_id_ending_like_a_file_is_400_8(
    client, runtime, forms_url, admin_headers, form_id
):
    body = refused(
        client,
        runtime,
        lambda: post(client, forms_url, simple_xml(form_id=form_id), admin_headers),
        400,
        400.8,
    )
    assert body["details"]["field"] == "formId"


def test_a_form_id_longer_than_64_is_400_13(client, runtime, forms_url, admin_headers):
    refused(
        client,
        runtime,
        lambda: post(client, forms_url, simple_xml(form_id="f" * 65), admin_headers),
        400,
        400.13,
    )


def test_a_form_without_a_meta_group_is_400_27(
    client, runtime, forms_url, admin_headers
):
    xml = b"""<h:html xmlns="http://www.w3.org/2002/xforms"
 xmlns:h="http://www.w3.org/1999/xhtml">
<h:head><h:title>Sin meta</h:title><model><instance><data id="sin_meta"><name/>
</data></instance><bind nodeset="/data/name" type="string"/></model></h:head>
<h:body/></h:html>"""
    refused(
        client,
        runtime,
        lambda: post(client, forms_url, xml, admin_headers),
        400,
        400.27,
    )


def test_without_form_create_it_is_403_1(client, runtime, forms_url, person):
    analyst = person("analista", "analyst")
    refused(
        client,
        runtime,
        lambda: post(client, forms_url, simple_xml(), analyst),
        403,
        403.1,
    )


def test_an_unknown_project_is_404_1(client, runtime, admin_headers):
    refused(
        client,
        runtime,
        lambda: post(client, "/v1/projects/999/forms", simple_xml(), admin_headers),
        404,
        404.1,
    )
