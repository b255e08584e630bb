"""Every bad input the ingest refuses: a clear error in Collect's terms, and
nothing stored (no submission, version, attachment or blob row)."""

from __future__ import annotations

import io

import pytest

from app.forms import service as forms_service
from tests.support import (
    JPEG,
    Seeded,
    counts,
    encuesta_xml,
    new_instance_id,
    seed,
)

NOTHING = {
    "submissions": 0,
    "submission_versions": 0,
    "submission_attachments": 0,
    "blobs": 0,
}
OPENROSA = {"X-OpenRosa-Version": "1.0"}


@pytest.fixture
def seeded(runtime) -> Seeded:
    return seed(runtime)


def post(client, seeded: Seeded, data: dict, *, token: str | None = None, **kwargs):
    token = token or seeded.token
    url = f"/v1/key/{token}/projects/{seeded.project_id}/submission"
    return client.post(
        url,
        data=data,
        headers=OPENROSA,
        content_type="multipart/form-data",
        **kwargs,
    )


def xml_part(xml: bytes, name: str = "instancia.xml"):
    return (io.BytesIO(xml), name, "text/xml")


def message_of(response) -> str:
    assert response.content_type.startswith("text/xml")
    assert b"<OpenRosaResponse" in response.data
    return response.get_data(as_text=True)


def assert_refused(runtime, response, status: int, *words: str) -> None:
    assert response.status_code == status, response.data
    text = message_of(response)
    for word in words:
        assert word in text
    assert counts(runtime) == NOTHING


def test_a_well_formed_submission_is_stored(client, runtime, seeded):
    """The baseline the refusals below are measured against."""
    response = post(
        client,
        seeded,
        {
            "xml_submission_file": xml_part(encuesta_xml(new_instance_id())),
            "1732455064123.jpg": (
                io.BytesIO(JPEG),
                "1732455064123.jpg",
                "image/jpeg",
            ),
        },
    )
    assert response.status_code == 201, response.data
    assert "full submission upload was successful!" in message_of(response)
    assert counts(runtime)["submissions"] == 1


def test_malformed_xml_is_400(client, runtime, seeded):
    response = post(
        client,
        seeded,
        {"xml_submission_file": xml_part(b"<data id='encuesta'><a></data>")},
    )
    assert_refused(runtime, response, 400)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<data id="encuesta" version="2026112401"><nombre>&lol3;</nombre>
<meta><instanceID>uuid:1</instanceID></meta></data>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<data id="encuesta" version="2026112401"><nombre>&xxe;</nombre>
<meta><instanceID>uuid:2</instanceID></meta></data>"""


@pytest.mark.parametrize(
    "xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"]
)
def test_doctype_and_entities_are_refused(client, runtime, seeded, xml):
    response = post(client, seeded, {"xml_submission_file": xml_part(xml)})
    assert_refused(runtime, response, 400)
    assert b"root:" not in response.data


def test_no_instance_id_is_400(client, runtime, seeded):
    xml = encuesta_xml("x").replace(b"<instanceID>x</instanceID>", b"")
    response = post(client, seeded, {"xml_submission_file": xml_part(xml)})
    assert_refused(runtime, response, 400, "instanceID")


def test_unknown_form_is_404(client, runtime, seeded):
    xml = encuesta_xml(new_instance_id(), form_id="no_existe")
    response = post(client, seeded, {"xml_submission_file": xml_part(xml)})
    assert_refused(runtime, response, 404, "no_existe")


def test_unknown_version_is_404(client, runtime, seeded):
    xml = encuesta_xml(new_instance_id(), version="1999010101")
    response = post(client, seeded, {"xml_submission_file": xml_part(xml)})
    assert_refused(runtime, response, 404, "1999010101")


def test_closed_form_is_409(client, runtime, seeded):
    with runtime.db.transaction() as session:
        forms_service.set_form_state(session, seeded.project_id, "encuesta", "closed")
    xml = encuesta_xml(new_instance_id())
    response = post(client, seeded, {"xml_submission_file": xml_part(xml)})
    assert_refused(runtime, response, 409, "no acepta")


def test_body_over_the_limit_is_413_before_it_is_read(make_app, seeded):
    small = make_app(max_submission_bytes=50_000)
    runtime = small.extensions["ayni"]
    limit = small.config["MAX_CONTENT_LENGTH"]
    body = raw_multipart(
        [
            ("xml_submission_file", "i.xml", encuesta_xml(new_instance_id())),
            ("1732455064123.jpg", "1732455064123.jpg", b"0" * (limit + 10)),
        ]
    )
    response = small.test_client().post(
        f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission",
        data=body,
        headers={**OPENROSA, "Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert_refused(runtime, response, 413)


def test_multipart_without_xml_submission_file_is_400(client, runtime, seeded):
    response = post(client, seeded, {"otra_cosa": xml_part(encuesta_xml("uuid:1"))})
    assert_refused(runtime, response, 400, "xml_submission_file")


def raw_multipart(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart body written by hand, with names escaped as RFC 7578 says
    (Werkzeug's test client does not escape backslashes); the XML part is
    typed `text/xml`, as Collect sends it."""
    out = b""
    for name, filename, data in parts:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        disposition = f'form-data; name="{quoted}"'
        if filename is not None:
            disposition += f'; filename="{quoted}"'
        out += b"--XX\r\nContent-Disposition: " + disposition.encode() + b"\r\n"
        if name == "xml_submission_file":
            out += b"Content-Type: text/xml\r\n"
        out += b"\r\n" + data + b"\r\n"
    return out + b"--XX--\r\n"


@pytest.mark.parametrize("name", ["../evil.jpg", "a/b.jpg", "a\\b.jpg", ".."])
def test_attachment_names_with_path_parts_are_400(client, runtime, seeded, name):
    body = raw_multipart(
        [
            ("xml_submission_file", "i.xml", encuesta_xml(new_instance_id())),
            (name, name, JPEG),
        ]
    )
    response = client.post(
        f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission",
        data=body,
        headers={**OPENROSA, "Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert_refused(runtime, response, 400, name)


def test_xml_that_is_not_utf8_is_400(client, runtime, seeded):
    xml = (
        encuesta_xml(new_instance_id(), nombre="Ñusta")
        .decode()
        .replace(
            "<?xml version='1.0' ?>", "<?xml version='1.0' encoding='ISO-8859-1'?>"
        )
        .encode("latin-1")
    )
    response = post(client, seeded, {"xml_submission_file": xml_part(xml)})
    assert_refused(runtime, response, 400)


def test_root_id_differing_from_the_form_of_the_url_is_400(client, runtime, seeded):
    login = client.post(
        "/v1/sessions", json={"email": "admin", "password": "clave-de-prueba-123"}
    )
    token = login.get_json()["token"]
    response = client.post(
        f"/v1/projects/{seeded.project_id}/forms/otro_formulario/submissions",
        data=encuesta_xml(new_instance_id()),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/xml"},
    )
    assert response.status_code == 400
    assert "otro_formulario" in response.get_json()["detail"]
    assert counts(runtime) == NOTHING


def test_an_instance_for_another_project_is_404(client, runtime, seeded):
    from app.db.models import Project

    with runtime.db.transaction() as session:
        other = Project(name="Otro")
        session.add(other)
        session.flush()
        other_id = other.id
    login = client.post(
        "/v1/sessions", json={"email": "admin", "password": "clave-de-prueba-123"}
    )
    token = login.get_json()["token"]
    response = client.post(
        f"/v1/projects/{other_id}/submission",
        data={"xml_submission_file": xml_part(encuesta_xml(new_instance_id()))},
        headers={**OPENROSA, "Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert_refused(runtime, response, 404, "encuesta")


@pytest.mark.parametrize("revoke", [False, True], ids=["wrong", "revoked"])
def test_a_wrong_or_revoked_token_is_403_not_401(client, runtime, seeded, revoke):
    from app.auth import app_users

    token = seeded.token if revoke else "x" * 64
    if revoke:
        with runtime.db.transaction() as session:
            app_user = app_users.app_user_for_token(session, seeded.token)
            app_users.revoke_app_user(session, app_user.id)
    xml = encuesta_xml(new_instance_id())
    response = post(client, seeded, {"xml_submission_file": xml_part(xml)}, token=token)
    assert_refused(runtime, response, 403, "QR")
    assert "WWW-Authenticate" not in response.headers


def test_wrong_digest_credentials_are_401_with_a_digest_challenge(
    client, runtime, seeded
):
    from app.auth import digest

    first = client.head("/submission", headers=OPENROSA)
    assert first.status_code == 401
    challenge = first.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ") and 'qop="auth"' in challenge
    nonce = challenge.split('nonce="')[1].split('"')[0]
    creds = digest.DigestCredentials(
        username="admin",
        realm="Ayni",
        nonce=nonce,
        uri="/submission",
        response="",
        qop="auth",
        nc="00000001",
        cnonce="abc",
        algorithm="MD5",
        opaque=None,
    )
    wrong_ha1 = "0" * 32
    response_hash = digest.response_for(wrong_ha1, "POST", creds)
    header = (
        f'Digest username="admin", realm="Ayni", nonce="{nonce}", uri="/submission", '
        f'response="{response_hash}", qop=auth, nc=00000001, cnonce="abc", '
        "algorithm=MD5"
    )
    response = client.post(
        "/submission",
        data={"xml_submission_file": xml_part(encuesta_xml(new_instance_id()))},
        headers={**OPENROSA, "Authorization": header},
        content_type="multipart/form-data",
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Digest ")
    assert counts(runtime) == NOTHING


def test_an_empty_body_is_400(client, runtime, seeded):
    response = client.post(
        f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission",
        data=b"",
        headers={**OPENROSA, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert_refused(runtime, response, 400, "xml_submission_file")
