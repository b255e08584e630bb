"""A submission's files through the API: listed as `[{name, exists}]`,
uploaded one by one after the XML (as pyODK does, chunked), checked against
the field that names them, downloaded with Central's headers, cleared, and
carried over by an edit; a version's own files."""

from __future__ import annotations

import io

from tests.api.submissions.support import (
    one,
    post_file,
    post_xml,
    problem,
    put_xml,
    snapshot,
)
from tests.support import JPEG, encuesta_xml, media_bytes, new_instance_id

PHOTO = "1732455064123.jpg"
ATTENDEE = "1732455065140.jpg"


def _with_photos(client, seeded, headers) -> str:  # type: ignore[no-untyped-def]
    instance_id = new_instance_id()
    xml = encuesta_xml(instance_id, foto=PHOTO, asistentes=(("Pedro", ATTENDEE),))
    assert post_xml(client, headers, seeded.project_id, xml).status_code == 200
    return instance_id


def test_files_are_listed_missing_then_present(client, seeded, admin_headers):
    instance_id = _with_photos(client, seeded, admin_headers)
    path = one(seeded.project_id, instance_id) + "/attachments"
    # By name, as Central lists them.
    assert client.get(path, headers=admin_headers).get_json() == [
        {"name": PHOTO, "exists": False},
        {"name": ATTENDEE, "exists": False},
    ]
    response = post_file(
        client, admin_headers, seeded.project_id, instance_id, PHOTO, JPEG
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"success": True}
    assert client.get(path, headers=admin_headers).get_json() == [
        {"name": PHOTO, "exists": True},
        {"name": ATTENDEE, "exists": False},
    ]


def test_a_file_downloads_with_centrals_headers_and_etag(client, seeded, admin_headers):
    instance_id = _with_photos(client, seeded, admin_headers)
    post_file(client, admin_headers, seeded.project_id, instance_id, PHOTO, JPEG)
    path = f"{one(seeded.project_id, instance_id)}/attachments/{PHOTO}"
    response = client.get(path, headers=admin_headers)
    assert response.status_code == 200
    assert response.data == JPEG
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline")
    etag = response.headers["ETag"]
    again = client.get(path, headers={**admin_headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_a_missing_file_downloads_as_404(client, seeded, admin_headers):
    instance_id = _with_photos(client, seeded, admin_headers)
    response = client.get(
        f"{one(seeded.project_id, instance_id)}/attachments/{PHOTO}",
        headers=admin_headers,
    )
    assert response.status_code == 404
    assert problem(response) == 404.1


def test_a_chunked_upload_is_stored_whole(client, seeded, admin_headers):
    instance_id = _with_photos(client, seeded, admin_headers)
    photo = media_bytes("image", b"chunked", size=200_000)
    # No Content-Length: the server terminates the stream (gunicorn does for
    # Transfer-Encoding: chunked), as pyODK sends every attachment.
    response = client.post(
        f"{one(seeded.project_id, instance_id)}/attachments/{PHOTO}",
        input_stream=io.BytesIO(photo),
        headers={
            **admin_headers,
            "Content-Type": "image/jpeg",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    stored = client.get(
        f"{one(seeded.project_id, instance_id)}/attachments/{PHOTO}",
        headers=admin_headers,
    )
    assert stored.data == photo


def test_clearing_a_file_lists_it_missing_again(client, seeded, admin_headers):
    instance_id = _with_photos(client, seeded, admin_headers)
    post_file(client, admin_headers, seeded.project_id, instance_id, PHOTO, JPEG)
    path = f"{one(seeded.project_id, instance_id)}/attachments/{PHOTO}"
    response = client.delete(path, headers=admin_headers)
    assert response.get_json() == {"success": True}
    assert client.get(path, headers=admin_headers).status_code == 404
    listed = client.get(
        one(seeded.project_id, instance_id) + "/attachments", headers=admin_headers
    ).get_json()
    assert {"name": PHOTO, "exists": False} in listed


def test_an_edit_carries_files_over_and_each_version_keeps_its_own(
    client, seeded, admin_headers
):
    root = _with_photos(client, seeded, admin_headers)
    post_file(client, admin_headers, seeded.project_id, root, PHOTO, JPEG)
    second = new_instance_id()
    response = put_xml(
        client,
        admin_headers,
        seeded.project_id,
        root,
        encuesta_xml(
            second, foto=PHOTO, asistentes=(("Pedro", None),), deprecated_id=root
        ),
    )
    assert response.status_code == 200
    current = client.get(
        one(seeded.project_id, root) + "/attachments", headers=admin_headers
    ).get_json()
    assert current == [{"name": PHOTO, "exists": True}]
    old = client.get(
        f"{one(seeded.project_id, root)}/versions/{root}/attachments",
        headers=admin_headers,
    ).get_json()
    assert {a["name"] for a in old} == {PHOTO, ATTENDEE}
    photo = client.get(
        f"{one(seeded.project_id, root)}/versions/{root}/attachments/{PHOTO}",
        headers=admin_headers,
    )
    assert photo.status_code == 200
    assert photo.data == JPEG


def test_a_name_the_xml_does_not_name_is_404_and_stores_nothing(
    client, seeded, admin_headers, runtime
):
    instance_id = _with_photos(client, seeded, admin_headers)
    before = snapshot(runtime)
    response = post_file(
        client, admin_headers, seeded.project_id, instance_id, "otra.jpg", JPEG
    )
    assert response.status_code == 404
    assert problem(response) == 404.1
    assert snapshot(runtime) == before
    ok = post_file(client, admin_headers, seeded.project_id, instance_id, PHOTO, JPEG)
    assert ok.status_code == 200


def test_bytes_that_do_not_match_the_field_are_refused_and_nothing_is_stored(
    client, seeded, admin_headers, runtime
):
    instance_id = _with_photos(client, seeded, admin_headers)
    before = snapshot(runtime)
    for wrong in (media_bytes("file"), b"<html><script>alert(1)</script></html>"):
        response = post_file(
            client, admin_headers, seeded.project_id, instance_id, PHOTO, wrong
        )
        assert response.status_code == 400
        assert problem(response) == 400.8
        assert response.get_json()["error"] == "attachment_refused"
    assert snapshot(runtime) == before
    ok = post_file(client, admin_headers, seeded.project_id, instance_id, PHOTO, JPEG)
    assert ok.status_code == 200


def test_a_data_collector_fills_only_their_own_missing_file(
    client, seeded, admin_headers, person
):
    collector = person("rosa", "data_collector")
    other = person("luis", "data_collector")
    instance_id = _with_photos(client, seeded, collector)
    refused = post_file(client, other, seeded.project_id, instance_id, PHOTO, JPEG)
    assert refused.status_code == 403
    assert problem(refused) == 403.1
    ok = post_file(client, collector, seeded.project_id, instance_id, PHOTO, JPEG)
    assert ok.status_code == 200
    again = post_file(client, collector, seeded.project_id, instance_id, PHOTO, JPEG)
    assert again.status_code == 403
    assert problem(again) == 403.1


def test_an_app_user_uploads_under_its_key(client, seeded):
    instance_id = new_instance_id()
    xml = encuesta_xml(instance_id, foto=PHOTO, asistentes=())
    prefix = f"/v1/key/{seeded.token}/projects/{seeded.project_id}/forms/encuesta"
    created = client.post(
        prefix + "/submissions", data=xml, headers={"Content-Type": "text/xml"}
    )
    assert created.status_code == 200, created.get_data(as_text=True)
    uploaded = client.post(
        f"{prefix}/submissions/{instance_id}/attachments/{PHOTO}",
        data=JPEG,
        headers={"Content-Type": "image/jpeg"},
    )
    assert uploaded.status_code == 200, uploaded.get_data(as_text=True)
