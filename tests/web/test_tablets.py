"""Tablets: create one, show Collect's QR code with instructions, revoke it."""

from __future__ import annotations

import re

from app.projects.onboarding import decode_payload
from tests.web.support import csrf_token, post_form, sign_in


def qr_settings_from(page: str) -> dict:
    # The page shows the server URL Collect gets; the QR encodes the same.
    found = re.search(r'data-testid="server-url">([^<]+)<', page)
    assert found is not None
    return {"server_url": found.group(1)}


def test_create_a_tablet_and_show_its_qr_code(client, world):
    sign_in(client, "coordinadora")
    response = post_form(client, "/projects/1/tablets", {"name": "Tableta Ayparavi"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tableta «Tableta Ayparavi» creada" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'class="segno"' in page
    assert "Configurar con código QR" in page
    assert "misma red Wi-Fi" in page
    url = qr_settings_from(page)["server_url"]
    assert re.fullmatch(r"http://[^/]+/v1/key/[A-Za-z0-9!$]{64}/projects/1", url)


def test_the_qr_payload_is_what_collect_reads(client, world):
    from app.projects import onboarding

    sign_in(client, "coordinadora")
    response = post_form(client, "/projects/1/tablets", {"name": "T2"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    url = qr_settings_from(page)["server_url"]
    payload = onboarding.qr_payload(onboarding.collect_settings(url, "CdP Chipaya"))
    assert decode_payload(payload)["general"]["server_url"] == url
    assert onboarding.qr_svg(payload) in page


def test_a_tablet_opened_on_localhost_gets_a_lan_address(client, world):
    sign_in(client, "coordinadora")
    response = post_form(client, "/projects/1/tablets", {"name": "T3"})
    page = client.get(
        response.headers["Location"], base_url="http://localhost:8000"
    ).get_data(as_text=True)
    url = qr_settings_from(page)["server_url"]
    assert "//localhost" not in url


def test_revoked_tablet_can_no_longer_list_forms(client, world):
    headers = {"X-OpenRosa-Version": "1.0"}
    form_list = f"/v1/key/{world.token}/projects/1/formList"
    assert client.get(form_list, headers=headers).status_code == 200
    sign_in(client, "coordinadora")
    page = client.get("/projects/1/tablets").get_data(as_text=True)
    assert "Tableta 1" in page
    token = csrf_token(client, "/projects/1/tablets")
    response = client.post("/projects/1/tablets/1/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Revocada" in client.get("/projects/1/tablets").get_data(as_text=True)
    assert client.get(form_list, headers=headers).status_code == 403
    assert "revocado" in client.get("/projects/1/tablets/1").get_data(as_text=True)


def test_only_managers_handle_tablets(client, world):
    sign_in(client, "analista")
    assert client.get("/projects/1/tablets").status_code == 403
    assert client.get("/projects/1/tablets/1").status_code == 403
