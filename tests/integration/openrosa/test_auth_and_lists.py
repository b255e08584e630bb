"""Who may list and send: Digest by username or e-mail, Basic only over HTTPS,
Bearer sessions, roles, the login throttle, Spanish-first messages, and what
the form list shows."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from lxml import etree

from app.auth import accounts, app_users, digest, roles
from app.forms import service as forms_service
from app.logredact import redact
from tests.support import ADMIN_PASSWORD, encuesta_xml, new_instance_id, seed

OPENROSA = {"X-OpenRosa-Version": "1.0"}
FORM_LIST = "{http://openrosa.org/xforms/xformsList}"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Digest is MD5


def digest_header(
    challenge: str, login: str, password: str, method: str, uri: str
) -> str:
    """What okhttp-digest answers to a challenge (RFC 2617, qop=auth)."""
    params = digest._parse_params(challenge[len("Digest ") :])
    assert params is not None
    nonce, cnonce, nc = params["nonce"], "0a4f113b", "00000001"
    ha1 = _md5(f"{login}:Ayni:{password}")
    ha2 = _md5(f"{method}:{uri}")
    response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{login}", realm="Ayni", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", qop=auth, nc={nc}, cnonce="{cnonce}", '
        f'algorithm=MD5, opaque="{params.get("opaque", "")}"'
    )


def digest_get(client, path: str, login: str, password: str, **kwargs):
    first = client.get(path, headers=OPENROSA)
    assert first.status_code == 401
    header = digest_header(
        first.headers["WWW-Authenticate"], login, password, "GET", path
    )
    return client.get(path, headers={**OPENROSA, "Authorization": header}, **kwargs)


@pytest.fixture
def seeded(runtime):
    return seed(runtime)


@pytest.mark.parametrize("login", ["admin", "admin@localhost"])
def test_collect_signs_in_with_digest_by_username_or_email(client, seeded, login):
    response = digest_get(client, "/formList", login, ADMIN_PASSWORD)
    assert response.status_code == 200
    assert b"encuesta" in response.data


def test_a_stale_nonce_is_answered_with_stale_true_not_a_prompt(client, seeded, app):
    secret = app.extensions["ayni"].settings.secret_key
    old = digest.challenge(secret, now=1_000_000_000.0)
    header = digest_header(old, "admin", ADMIN_PASSWORD, "GET", "/formList")
    response = client.get("/formList", headers={**OPENROSA, "Authorization": header})
    assert response.status_code == 401
    assert "stale=true" in response.headers["WWW-Authenticate"]


def test_basic_is_refused_over_plain_http(client, seeded):
    token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    response = client.get(
        "/formList", headers={**OPENROSA, "Authorization": f"Basic {token}"}
    )
    assert response.status_code == 401
    challenges = response.headers.getlist("WWW-Authenticate")
    assert all(c.startswith("Digest ") for c in challenges)


def test_basic_is_offered_and_accepted_behind_a_trusted_https_proxy(make_app, runtime):
    seed(runtime)
    proxied = make_app(trusted_proxy=True).test_client()
    https = {**OPENROSA, "X-Forwarded-Proto": "https"}
    bare = proxied.get("/formList", headers=https)
    challenges = bare.headers.getlist("WWW-Authenticate")
    assert [c.split()[0] for c in challenges] == ["Basic", "Digest"]
    token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    ok = proxied.get("/formList", headers={**https, "Authorization": f"Basic {token}"})
    assert ok.status_code == 200


def test_x_forwarded_proto_is_ignored_without_a_trusted_proxy(client, seeded):
    token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    headers = {
        **OPENROSA,
        "X-Forwarded-Proto": "https",
        "Authorization": f"Basic {token}",
    }
    assert client.get("/formList", headers=headers).status_code == 401


def test_repeated_failed_logins_from_one_client_are_slowed_down(
    client, seeded, settings
):
    statuses = [
        digest_get(client, "/formList", "admin", "contraseña-mala").status_code
        for _ in range(settings.login_attempts_per_minute + 2)
    ]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    refused = client.get(
        "/formList", headers={**OPENROSA, "Authorization": 'Digest username="admin"'}
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Demasiados intentos" in refused.get_data(as_text=True)


def test_messages_are_spanish_first_and_english_on_request(client, seeded):
    xml = encuesta_xml(new_instance_id(), form_id="no_existe")
    url = f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission"
    data = {"xml_submission_file": (io.BytesIO(xml), "i.xml", "text/xml")}
    spanish = client.post(url, data=data, headers=OPENROSA)
    message = etree.fromstring(spanish.data).findtext(
        "{http://openrosa.org/http/response}message"
    )
    assert message.startswith("El formulario «no_existe» no existe")
    assert "does not exist" in message  # Spanish first, then English
    data = {"xml_submission_file": (io.BytesIO(xml), "i.xml", "text/xml")}
    english = client.post(
        url, data=data, headers={**OPENROSA, "Accept-Language": "en-US,en;q=0.9"}
    )
    message = etree.fromstring(english.data).findtext(
        "{http://openrosa.org/http/response}message"
    )
    assert message == "Form 'no_existe' does not exist in this project."


def test_a_user_without_a_role_sees_no_forms_and_cannot_submit(client, runtime, seeded):
    with runtime.db.transaction() as session:
        accounts.create_user(
            session,
            username="visita",
            email="v@x",
            password="clave-visita-1",
            collect_enabled=True,
        )
    listed = digest_get(client, "/formList", "visita", "clave-visita-1")
    assert listed.status_code == 200
    assert etree.fromstring(listed.data).find(f"{FORM_LIST}xform") is None


def test_a_data_collector_lists_and_submits(client, runtime, seeded):
    with runtime.db.transaction() as session:
        new = accounts.create_user(
            session,
            username="tecnica",
            email="t@x",
            password="clave-tecnica-1",
            collect_enabled=True,
        )
        roles.assign_role(
            session,
            role="data_collector",
            user_id=new.user.id,
            project_id=seeded.project_id,
        )
    listed = digest_get(client, "/formList", "tecnica", "clave-tecnica-1")
    assert etree.fromstring(listed.data).find(f"{FORM_LIST}xform") is not None


def test_an_app_user_scoped_to_other_forms_cannot_submit_here(client, runtime, seeded):
    from app.forms.compiler import compile_markdown
    from tests.support import encuesta_md

    with runtime.db.transaction() as session:
        other = forms_service.publish_form(
            session,
            runtime.blobs,
            project_id=seeded.project_id,
            compiled=compile_markdown(
                encuesta_md().replace("| encuesta |", "| otra |")
            ),
        )
        app_user = app_users.app_user_for_token(session, seeded.token)
        roles.assign_role(
            session,
            role="app_user",
            app_user_id=app_user.id,
            project_id=seeded.project_id,
            form_id=other.form.id,
        )
    url = f"/v1/key/{seeded.token}/projects/{seeded.project_id}"
    listed = client.get(f"{url}/formList", headers=OPENROSA)
    ids = [e.text for e in etree.fromstring(listed.data).iter(f"{FORM_LIST}formID")]
    assert ids == ["otra"]
    data = {
        "xml_submission_file": (io.BytesIO(encuesta_xml(new_instance_id())), "i.xml")
    }
    assert (
        client.post(f"{url}/submission", data=data, headers=OPENROSA).status_code == 403
    )


def test_form_list_hides_closing_and_closed_forms_and_honours_form_id(
    client, runtime, seeded
):
    url = f"/v1/key/{seeded.token}/projects/{seeded.project_id}/formList"
    assert b"encuesta" in client.get(f"{url}?formID=encuesta", headers=OPENROSA).data
    assert b"encuesta" not in client.get(f"{url}?formID=otra", headers=OPENROSA).data
    for state in ("closing", "closed"):
        with runtime.db.transaction() as session:
            forms_service.set_form_state(session, seeded.project_id, "encuesta", state)
        assert b"encuesta" not in client.get(url, headers=OPENROSA).data


def test_a_closing_form_still_accepts_submissions(client, runtime, seeded):
    with runtime.db.transaction() as session:
        forms_service.set_form_state(session, seeded.project_id, "encuesta", "closing")
    url = f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission"
    data = {
        "xml_submission_file": (io.BytesIO(encuesta_xml(new_instance_id())), "i.xml")
    }
    assert client.post(url, data=data, headers=OPENROSA).status_code == 201


def test_openrosa_headers_are_on_every_answer_errors_included(client, seeded):
    for response in (
        client.get("/formList", headers=OPENROSA),  # 401
        client.head(f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission"),
        client.get("/v1/key/nope/projects/1/formList"),  # 403
    ):
        assert response.headers["X-OpenRosa-Version"] == "1.0"
        assert response.headers["Content-Type"].startswith("text/xml") or (
            response.status_code == 204
        )
        assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) > 0


def test_an_openrosa_version_other_than_1_0_is_refused(client, seeded):
    url = f"/v1/key/{seeded.token}/projects/{seeded.project_id}/formList"
    assert client.get(url, headers={"X-OpenRosa-Version": "2.0"}).status_code == 400
    assert client.get(url).status_code == 200  # curl and browsers send none


def test_sessions_api_takes_username_or_email_and_returns_a_bearer_token(
    client, seeded
):
    for login in ("admin", "admin@localhost"):
        created = client.post(
            "/v1/sessions", json={"email": login, "password": ADMIN_PASSWORD}
        )
        assert created.status_code == 200
        body = created.get_json()
        assert set(body) == {"token", "createdAt", "expiresAt"}
        assert body["expiresAt"].endswith("Z")
        me = client.get(
            "/v1/users/current", headers={"Authorization": f"Bearer {body['token']}"}
        )
        assert me.get_json()["email"] == "admin@localhost"
    wrong = client.post("/v1/sessions", json={"email": "admin", "password": "x"})
    assert wrong.status_code == 401
    assert wrong.content_type == "application/json"


def test_app_user_tokens_never_reach_the_logs():
    line = '"GET /v1/key/Ab$!cd/projects/1/formList?st=Zz9&deviceID=collect%3A1"'
    assert (
        redact(line)
        == '"GET /v1/key/***/projects/1/formList?st=***&deviceID=collect%3A1"'
    )


def test_create_app_user_prints_token_url_and_qr_and_writes_png_and_svg(
    app, runtime, tmp_path
):
    from app.projects.onboarding import decode_payload

    seed(runtime)
    result = app.test_cli_runner().invoke(
        args=[
            "create-app-user",
            "Tableta producción",
            "--out-dir",
            str(tmp_path),
            "--server-url",
            "http://192.168.1.10:8000",
        ]
    )
    assert result.exit_code == 0, result.output
    token = next(
        line.split()[1]
        for line in result.output.splitlines()
        if line.startswith("Token:")
    )
    assert len(token) == 64
    assert f"http://192.168.1.10:8000/v1/key/{token}/projects/1" in result.output
    png = next(tmp_path.glob("*.png"))
    svg = next(tmp_path.glob("*.svg"))
    assert png.read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in svg.read_bytes()
    from app.projects import onboarding

    payload = onboarding.qr_payload(
        onboarding.collect_settings(
            f"http://192.168.1.10:8000/v1/key/{token}/projects/1", "CdP Chipaya"
        )
    )
    decoded = decode_payload(payload)
    assert decoded["general"]["server_url"].endswith(f"/v1/key/{token}/projects/1")
    assert decoded["admin"] == {}
