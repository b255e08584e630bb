"""Form attachments: the media files a version's XForm names. A draft's
slots are filled by `POST …/draft/attachments/<name>` and cleared by
`DELETE`; publishing the draft makes them the files Collect downloads.
Every refusal has Central's code and stores nothing (no row, no blob)."""

from __future__ import annotations

import hashlib

import pytest
from lxml import etree

from tests.api.forms.support import (
    ATTACHMENT_KEYS,
    blob_files,
    create_form,
    forms_url,
    media_xml,
    refused,
    rows,
)
from tests.support import JPEG

CSV = b"name,label\nayparavi,Ayparavi\nwistrullani,Wistrullani\n"
FORM_LIST = {"X-OpenRosa-Version": "1.0"}


@pytest.fixture
def url(seeded) -> str:
    return f"{forms_url(seeded.project_id)}/con_medios"


@pytest.fixture
def draft(client, admin_headers, seeded) -> None:
    """`con_medios` created as a draft: two files expected, none uploaded."""
    create_form(client, admin_headers, seeded.project_id, media_xml(), publish=False)


def upload(client, url, headers, name, data, content_type="image/png"):  # type: ignore[no-untyped-def]
    extra = {"Content-Type": content_type} if content_type else {}
    return client.post(
        f"{url}/draft/attachments/{name}", data=data, headers={**headers, **extra}
    )


def test_a_draft_lists_the_files_its_xform_names_none_uploaded(
    client, url, admin_headers, draft
):
    response = client.get(f"{url}/draft/attachments", headers=admin_headers)

    assert response.status_code == 200
    body = response.get_json()
    assert [set(a) for a in body] == [ATTACHMENT_KEYS, ATTACHMENT_KEYS]
    assert [(a["name"], a["type"], a["exists"]) for a in body] == [
        ("logo.png", "image", False),
        ("lugares.csv", "file", False),
    ]
    assert all(a["blobExists"] is False and a["datasetExists"] is False for a in body)
    assert all(a["hash"] is None and a["updatedAt"] is None for a in body)
    # A form never published lists its draft's slots at its own address too.
    assert client.get(f"{url}/attachments", headers=admin_headers).get_json() == body


def test_uploading_fills_the_slot_and_answers_centrals_form_attachment(
    client, url, admin_headers, draft
):
    response = upload(client, url, admin_headers, "logo.png", JPEG, "image/jpeg")

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == ATTACHMENT_KEYS
    assert body["name"] == "logo.png" and body["type"] == "image"
    assert body["exists"] is True and body["blobExists"] is True
    assert body["hash"] == hashlib.md5(JPEG).hexdigest()  # noqa: S324 - Central's hash
    assert body["size"] == len(JPEG)
    assert body["updatedAt"].endswith("Z")
    listed = client.get(f"{url}/draft/attachments", headers=admin_headers).get_json()
    assert [a["exists"] for a in listed] == [True, False]


def test_the_drafts_file_is_served_with_its_type_name_and_etag(
    client, url, admin_headers, draft
):
    upload(client, url, admin_headers, "logo.png", JPEG, "image/jpeg")

    response = client.get(f"{url}/draft/attachments/logo.png", headers=admin_headers)

    assert response.status_code == 200
    assert response.data == JPEG
    assert response.content_type == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="logo.png"'
    )
    etag = response.headers["ETag"]
    assert etag == f'"{hashlib.md5(JPEG).hexdigest()}"'  # noqa: S324
    again = client.get(
        f"{url}/draft/attachments/logo.png",
        headers={**admin_headers, "If-None-Match": etag},
    )
    assert again.status_code == 304
    assert again.data == b""


def test_without_a_content_type_the_name_decides_it(client, url, admin_headers, draft):
    upload(client, url, admin_headers, "lugares.csv", CSV, content_type=None)

    response = client.get(f"{url}/draft/attachments/lugares.csv", headers=admin_headers)

    assert response.data == CSV
    assert response.content_type.startswith("text/csv")


def test_a_file_not_yet_uploaded_is_404_1(client, runtime, url, admin_headers, draft):
    refused(
        runtime,
        lambda: client.get(f"{url}/draft/attachments/logo.png", headers=admin_headers),
        404,
        404.1,
    )


def test_a_name_the_draft_does_not_expect_is_404_1_and_nothing_is_stored(
    client, runtime, url, admin_headers, draft
):
    files = blob_files(runtime)

    refused(
        runtime,
        lambda: upload(client, url, admin_headers, "otro.png", JPEG),
        404,
        404.1,
    )

    assert blob_files(runtime) == files


def test_an_upload_larger_than_the_server_takes_is_413_and_nothing_is_stored(
    make_app, runtime, admin_headers, seeded
):
    small = make_app(max_submission_bytes=1_000).test_client()
    url = f"{forms_url(seeded.project_id)}/con_medios"
    create_form(small, admin_headers, seeded.project_id, media_xml(), publish=False)
    files = blob_files(runtime)
    too_big = JPEG + bytes(1_002_000)

    refused(
        runtime,
        lambda: upload(small, url, admin_headers, "logo.png", too_big, "image/jpeg"),
        413,
        413.1,
    )

    assert blob_files(runtime) == files
    listed = small.get(f"{url}/draft/attachments", headers=admin_headers).get_json()
    assert [a["exists"] for a in listed] == [False, False]


def test_uploading_to_a_form_without_a_draft_is_404_1(
    client, runtime, admin_headers, seeded
):
    create_form(client, admin_headers, seeded.project_id, media_xml())
    url = f"{forms_url(seeded.project_id)}/con_medios"

    refused(
        runtime,
        lambda: upload(client, url, admin_headers, "logo.png", JPEG),
        404,
        404.1,
    )


def test_uploading_to_an_unknown_form_is_404_1(client, runtime, admin_headers, seeded):
    url = f"{forms_url(seeded.project_id)}/no_existe"
    refused(
        runtime,
        lambda: upload(client, url, admin_headers, "logo.png", JPEG),
        404,
        404.1,
    )


@pytest.mark.parametrize("role", ["analyst", "data_collector"])
def test_only_those_who_may_update_the_form_upload_or_clear(
    client, runtime, url, admin_headers, draft, person, role
):
    upload(client, url, admin_headers, "logo.png", JPEG)
    someone = person("alguien", role)
    files = blob_files(runtime)

    refused(
        runtime, lambda: upload(client, url, someone, "lugares.csv", CSV), 403, 403.1
    )
    refused(
        runtime,
        lambda: client.delete(f"{url}/draft/attachments/logo.png", headers=someone),
        403,
        403.1,
    )
    refused(
        runtime,
        lambda: client.get(f"{url}/draft/attachments", headers=someone),
        403,
        403.1,
    )
    assert blob_files(runtime) == files


def test_clearing_empties_the_slot_and_a_second_clear_is_404_1(
    client, runtime, url, admin_headers, draft
):
    upload(client, url, admin_headers, "logo.png", JPEG)

    response = client.delete(f"{url}/draft/attachments/logo.png", headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    listed = client.get(f"{url}/draft/attachments", headers=admin_headers).get_json()
    assert [(a["name"], a["exists"]) for a in listed] == [
        ("logo.png", False),
        ("lugares.csv", False),
    ]
    refused(
        runtime,
        lambda: client.delete(
            f"{url}/draft/attachments/logo.png", headers=admin_headers
        ),
        404,
        404.1,
    )


def test_uploading_again_replaces_the_file(client, runtime, url, admin_headers, draft):
    upload(client, url, admin_headers, "lugares.csv", CSV, "text/csv")
    slots = rows(runtime)["form_attachments"]
    newer = CSV + b"chipaya,Chipaya\n"

    body = upload(
        client, url, admin_headers, "lugares.csv", newer, "text/csv"
    ).get_json()

    assert body["size"] == len(newer)
    assert rows(runtime)["form_attachments"] == slots
    served = client.get(f"{url}/draft/attachments/lugares.csv", headers=admin_headers)
    assert served.data == newer


# --- Published attachments ------------------------------------------------------


def test_publishing_makes_the_drafts_files_the_ones_collect_downloads(
    client, url, admin_headers, draft, seeded
):
    upload(client, url, admin_headers, "logo.png", JPEG, "image/jpeg")
    upload(client, url, admin_headers, "lugares.csv", CSV, "text/csv")
    assert client.post(f"{url}/draft/publish", headers=admin_headers).status_code == 200

    listed = client.get(f"{url}/attachments", headers=admin_headers).get_json()
    assert [(a["name"], a["exists"]) for a in listed] == [
        ("logo.png", True),
        ("lugares.csv", True),
    ]
    media = client.get(f"{url}/attachments/logo.png", headers=admin_headers)
    assert media.status_code == 200 and media.data == JPEG
    in_version = client.get(
        f"{url}/versions/1/attachments/lugares.csv", headers=admin_headers
    )
    assert in_version.status_code == 200 and in_version.data == CSV
    assert [
        a["name"]
        for a in client.get(
            f"{url}/versions/1/attachments", headers=admin_headers
        ).get_json()
    ] == ["logo.png", "lugares.csv"]
    manifest = client.get(f"{url}/manifest", headers={**admin_headers, **FORM_LIST})
    assert manifest.status_code == 200
    assert b"<filename>logo.png</filename>" in manifest.data
    assert f"md5:{hashlib.md5(CSV).hexdigest()}".encode() in manifest.data  # noqa: S324


def test_a_new_draft_carries_the_published_files_over(
    client, url, admin_headers, draft
):
    upload(client, url, admin_headers, "logo.png", JPEG, "image/jpeg")
    client.post(f"{url}/draft/publish", headers=admin_headers)

    assert client.post(f"{url}/draft", headers=admin_headers).status_code == 200

    listed = client.get(f"{url}/draft/attachments", headers=admin_headers).get_json()
    assert [(a["name"], a["exists"]) for a in listed] == [
        ("logo.png", True),
        ("lugares.csv", False),
    ]
    served = client.get(f"{url}/draft/attachments/logo.png", headers=admin_headers)
    assert served.data == JPEG


def test_a_draft_file_does_not_reach_collect_before_publication(
    client, url, admin_headers, draft
):
    upload(client, url, admin_headers, "logo.png", JPEG)
    client.post(f"{url}/draft/publish", headers=admin_headers)
    client.post(f"{url}/draft", headers=admin_headers)
    newer = JPEG + b"nuevo"

    upload(client, url, admin_headers, "logo.png", newer)

    assert client.get(f"{url}/attachments/logo.png", headers=admin_headers).data == JPEG
    assert (
        client.get(f"{url}/draft/attachments/logo.png", headers=admin_headers).data
        == newer
    )


def test_an_unknown_version_or_file_of_a_version_is_404_1(
    client, runtime, url, admin_headers, draft
):
    client.post(f"{url}/draft/publish", headers=admin_headers)

    for path in (
        "versions/9/attachments",
        "versions/1/attachments/logo.png",
        "versions/1/attachments/otro.png",
    ):
        refused(
            runtime,
            lambda path=path: client.get(f"{url}/{path}", headers=admin_headers),
            404,
            404.1,
        )


# --- Manifests ------------------------------------------------------------------

MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"


def manifest_entries(response) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.headers["X-OpenRosa-Version"] == "1.0"
    root = etree.fromstring(response.data)
    assert root.tag == f"{MANIFEST}manifest"
    return [
        (
            item.findtext(f"{MANIFEST}filename"),
            item.findtext(f"{MANIFEST}hash"),
            item.findtext(f"{MANIFEST}downloadUrl"),
        )
        for item in root
    ]


def test_the_drafts_manifest_names_its_uploaded_files_and_links_them(
    client, url, admin_headers, draft
):
    upload(client, url, admin_headers, "logo.png", JPEG, "image/jpeg")

    entries = manifest_entries(
        client.get(f"{url}/draft/manifest", headers=admin_headers)
    )

    assert entries == [
        (
            "logo.png",
            f"md5:{hashlib.md5(JPEG).hexdigest()}",  # noqa: S324
            f"http://localhost{url}/draft/attachments/logo.png",
        )
    ]
    linked = client.get(
        entries[0][2].removeprefix("http://localhost"), headers=admin_headers
    )
    assert linked.data == JPEG


def test_the_drafts_manifest_is_for_those_who_may_update_and_needs_a_draft(
    client, runtime, url, admin_headers, draft, person
):
    analyst = person("analista", "analyst")
    refused(
        runtime,
        lambda: client.get(f"{url}/draft/manifest", headers=analyst),
        403,
        403.1,
    )
    client.post(f"{url}/draft/publish", headers=admin_headers)
    refused(
        runtime,
        lambda: client.get(f"{url}/draft/manifest", headers=admin_headers),
        404,
        404.1,
    )


def test_a_published_versions_manifest_keeps_its_files(
    client, url, admin_headers, draft
):
    upload(client, url, admin_headers, "logo.png", JPEG, "image/jpeg")
    upload(client, url, admin_headers, "lugares.csv", CSV, "text/csv")
    client.post(f"{url}/draft/publish", headers=admin_headers)
    client.post(f"{url}/draft", headers=admin_headers)
    client.delete(f"{url}/draft/attachments/lugares.csv", headers=admin_headers)

    entries = manifest_entries(
        client.get(f"{url}/versions/1/manifest", headers=admin_headers)
    )
    draft_entries = manifest_entries(
        client.get(f"{url}/draft/manifest", headers=admin_headers)
    )

    assert [name for name, _hash, _url in entries] == ["logo.png", "lugares.csv"]
    assert entries[1][2] == f"http://localhost{url}/versions/1/attachments/lugares.csv"
    assert [name for name, _hash, _url in draft_entries] == ["logo.png"]
