"""ODK Collect end to end against a real gunicorn server, over HTTP, as the
tablet does it: form list, form download, manifest and media, HEAD, a split
submission, an identical resend and an edit."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote, urlparse

import pytest
import requests
import sqlalchemy as sa
from lxml import etree
from requests.auth import HTTPDigestAuth

from app.blobs import iter_blob
from app.db.models import Submission, SubmissionAttachment, SubmissionVersion
from tests.support import ADMIN_PASSWORD, encuesta_xml, new_instance_id, seed

pytestmark = pytest.mark.server

FORM_LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
DEVICE = {"deviceID": "collect:AbCdEfGh01234567"}
COLLECT_HEADERS = {
    "X-OpenRosa-Version": "1.0",
    "User-Agent": "org.odk.collect.android/v2026.3.3 Dalvik/2.1.0",
}
MEDIA = {"ayllus.csv": b"name,label\naransaya,Aransaya\n"}
PHOTO = b"\xff\xd8\xff" + bytes(range(256)) * 200
PHOTO_2 = b"\xff\xd8\xff" + bytes(reversed(range(256))) * 150


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - what Collect compares


@pytest.fixture
def collect(runtime, live_server):
    seeded = seed(runtime, media=MEDIA)
    http = requests.Session()
    http.headers.update(COLLECT_HEADERS)
    http.auth = HTTPDigestAuth("admin", ADMIN_PASSWORD)
    return http, live_server, seeded


def multipart(xml: bytes, files: dict[str, bytes], *, incomplete: bool = False):
    parts = [
        ("xml_submission_file", ("Encuesta_2026-11-24_13-31-04.xml", xml, "text/xml"))
    ]
    parts += [(name, (name, data, "image/jpeg")) for name, data in files.items()]
    if incomplete:
        parts.append(("*isIncomplete*", (None, "yes")))
    return parts


def stored_attachments(runtime, instance_id: str) -> dict[str, bytes | None]:
    with runtime.db.read() as session:
        version = session.scalars(
            sa.select(SubmissionVersion).where(
                SubmissionVersion.instance_id == instance_id
            )
        ).one()
        rows = session.scalars(
            sa.select(SubmissionAttachment).where(
                SubmissionAttachment.submission_version_id == version.id
            )
        ).all()
        result: dict[str, bytes | None] = {}
        for row in rows:
            if row.blob_id is None:
                result[row.name] = None
                continue
            from app.db.models import Blob

            sha = session.get(Blob, row.blob_id).sha256
            result[row.name] = b"".join(iter_blob(session, runtime.blobs, sha))
        return result


def test_collect_lists_downloads_sends_splits_resends_and_edits(runtime, collect):
    http, server, _seeded = collect

    # 1. Form list at the root alias, as Collect with server URL http://host:8000.
    listed = http.get(f"{server.url}/formList", params=DEVICE)
    assert listed.status_code == 200
    assert listed.headers["Content-Type"].startswith("text/xml")
    assert listed.headers["X-OpenRosa-Version"] == "1.0"
    xform = etree.fromstring(listed.content).find(f"{FORM_LIST}xform")
    assert xform.findtext(f"{FORM_LIST}formID") == "encuesta"
    assert xform.findtext(f"{FORM_LIST}version") == "2026112401"
    download_url = xform.findtext(f"{FORM_LIST}downloadUrl")
    manifest_url = xform.findtext(f"{FORM_LIST}manifestUrl")
    for url in (download_url, manifest_url):
        parsed = urlparse(url)
        assert (parsed.scheme, parsed.netloc) == ("http", f"127.0.0.1:{server.port}")

    # 2. Form download: the list's hash is the md5 of the exact bytes served.
    form_xml = http.get(download_url, params=DEVICE)
    assert form_xml.status_code == 200
    assert xform.findtext(f"{FORM_LIST}hash") == f"md5:{md5(form_xml.content)}"

    # 3. Manifest and media with matching md5 hashes.
    manifest = http.get(manifest_url, params=DEVICE)
    assert manifest.headers["Content-Type"].startswith("text/xml")
    media_file = etree.fromstring(manifest.content).find(f"{MANIFEST}mediaFile")
    assert media_file.findtext(f"{MANIFEST}filename") == "ayllus.csv"
    media = http.get(media_file.findtext(f"{MANIFEST}downloadUrl"), params=DEVICE)
    assert media.content == MEDIA["ayllus.csv"]
    assert media_file.findtext(f"{MANIFEST}hash") == f"md5:{md5(media.content)}"

    # 4. HEAD before POST: 204 with the size limit.
    head = http.head(f"{server.url}/submission", params=DEVICE)
    assert head.status_code == 204
    assert int(head.headers["X-OpenRosa-Accept-Content-Length"]) > 0

    # 5. A split submission: the same XML twice, one photo each time.
    instance_id = new_instance_id()
    xml = encuesta_xml(instance_id, asistentes=(("Pedro", "1732455064999.jpg"),))
    first = http.post(
        f"{server.url}/submission",
        params=DEVICE,
        files=multipart(xml, {"1732455064123.jpg": PHOTO}, incomplete=True),
    )
    assert first.status_code == 201, first.text
    assert stored_attachments(runtime, instance_id) == {
        "1732455064123.jpg": PHOTO,
        "1732455064999.jpg": None,
    }
    second = http.post(
        f"{server.url}/submission",
        params=DEVICE,
        files=multipart(xml, {"1732455064999.jpg": PHOTO_2}),
    )
    assert second.status_code == 201, second.text
    assert stored_attachments(runtime, instance_id) == {
        "1732455064123.jpg": PHOTO,
        "1732455064999.jpg": PHOTO_2,
    }

    # 6. An identical resend is a success and stores nothing twice.
    again = http.post(
        f"{server.url}/submission",
        params=DEVICE,
        files=multipart(
            xml, {"1732455064123.jpg": PHOTO, "1732455064999.jpg": PHOTO_2}
        ),
    )
    assert again.status_code == 201
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count(Submission.id))) == 1
        submission = session.scalars(sa.select(Submission)).one()
        assert submission.device_id == DEVICE["deviceID"]
        assert submission.user_agent.startswith("org.odk.collect.android/")

    # 7. An edit: new instanceID, deprecatedID = the current one; photos carry over.
    edited_id = new_instance_id()
    edit_xml = encuesta_xml(
        edited_id,
        nombre="Juana Mamani",
        asistentes=(("Pedro", "1732455064999.jpg"),),
        deprecated_id=instance_id,
    )
    edit = http.post(
        f"{server.url}/submission", params=DEVICE, files=multipart(edit_xml, {})
    )
    assert edit.status_code == 201, edit.text
    with runtime.db.read() as session:
        submission = session.scalars(sa.select(Submission)).one()
        assert submission.review_state == "edited"
        assert submission.instance_id == instance_id
        versions = session.scalars(
            sa.select(SubmissionVersion).order_by(SubmissionVersion.id)
        ).all()
        assert [v.current for v in versions] == [False, True]
        assert versions[1].field_values["nombre"] == "Juana Mamani"
    assert stored_attachments(runtime, edited_id) == {
        "1732455064123.jpg": PHOTO,
        "1732455064999.jpg": PHOTO_2,
    }

    # The old XML, resent after the edit, is a conflict, not a new record.
    stale = http.post(
        f"{server.url}/submission", params=DEVICE, files=multipart(xml, {})
    )
    assert stale.status_code == 409


def test_app_user_links_keep_the_token_prefix(runtime, collect):
    http, server, seeded = collect
    http.auth = None
    prefix = f"/v1/key/{seeded.token}/projects/{seeded.project_id}"
    listed = requests.get(
        f"{server.url}{prefix}/formList", headers=COLLECT_HEADERS, timeout=10
    )
    assert listed.status_code == 200
    xform = etree.fromstring(listed.content).find(f"{FORM_LIST}xform")
    download_url = xform.findtext(f"{FORM_LIST}downloadUrl")
    assert unquote(urlparse(download_url).path) == f"{prefix}/forms/encuesta.xml"
    assert (
        requests.get(download_url, headers=COLLECT_HEADERS, timeout=10).status_code
        == 200
    )
    head = requests.head(
        f"{server.url}{prefix}/submission", headers=COLLECT_HEADERS, timeout=10
    )
    assert head.status_code == 204
    post = requests.post(
        f"{server.url}{prefix}/submission",
        headers=COLLECT_HEADERS,
        files=multipart(encuesta_xml(new_instance_id()), {"1732455064123.jpg": PHOTO}),
        timeout=10,
    )
    assert post.status_code == 201


def test_collect_is_challenged_with_digest_and_never_basic_over_http(runtime, collect):
    _http, server, _seeded = collect
    bare = requests.head(
        f"{server.url}/submission", headers=COLLECT_HEADERS, timeout=10
    )
    assert bare.status_code == 401
    challenges = bare.raw.headers.getlist("WWW-Authenticate")
    assert len(challenges) == 1
    assert challenges[0].startswith("Digest ") and 'qop="auth"' in challenges[0]
    assert bare.headers["X-OpenRosa-Version"] == "1.0"
