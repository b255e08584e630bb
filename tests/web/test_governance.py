"""Knowledge governance on every page (domain.md §4): a restricted practice
of an ayllu is invisible, or only counted, for anyone without the guardian
role of that ayllu, including its photos and audio; its guardian sees it."""

from __future__ import annotations

import re

import pytest

from tests.web.support import send_practice, sign_in

LIST = "/projects/1/forms/practica_saber/submissions"


@pytest.fixture
def practices(client, world):  # type: ignore[no-untyped-def]
    restricted, media = send_practice(
        client, world, level="restringido", name="Remedio del abuelo"
    )
    public, _ = send_practice(client, world, level="publico", name="Lameo de la pampa")
    return {"restricted": restricted, "public": public, "media": media}


def test_restricted_practice_is_not_listed_for_a_non_guardian(client, practices):
    sign_in(client, "analista")
    page = client.get(LIST).get_data(as_text=True)
    assert "1 envíos." in page
    assert "1 registros de acceso restringido que solo se cuentan" in page
    assert practices["restricted"].removeprefix("uuid:")[:13] not in page
    assert practices["public"].removeprefix("uuid:")[:13] in page


def test_restricted_practice_answers_a_non_guardian_as_if_it_did_not_exist(
    client, practices
):
    sign_in(client, "analista")
    path = f"{LIST}/{practices['restricted']}"
    response = client.get(path)
    unknown = "uuid:00000000-0000-4000-8000-000000000000"
    missing = client.get(f"{LIST}/{unknown}")
    assert response.status_code == missing.status_code == 404
    # The same page but for the sign-out input's per-request CSRF token and
    # the page's own address in the language switch.
    token = re.compile(rb'name="csrf_token" value="[^"]*"')
    page = token.sub(b"", response.get_data())
    page = page.replace(practices["restricted"].encode(), unknown.encode())
    assert page == token.sub(b"", missing.get_data())
    assert "Remedio del abuelo" not in response.get_data(as_text=True)
    assert practices["media"], "the practice should carry media"
    for name in practices["media"]:
        media = client.get(f"{path}/attachments/{name}")
        assert media.status_code == 404


@pytest.mark.parametrize("person", ["admin", "coordinadora", "guardian_manasaya"])
def test_admin_rights_or_another_ayllu_do_not_open_it(client, practices, person):
    sign_in(client, person)
    path = f"{LIST}/{practices['restricted']}"
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/attachments/{practices['media'][0]}").status_code == 404


def test_the_guardian_of_its_ayllu_sees_it_with_its_media(client, practices):
    sign_in(client, "guardiana")
    page = client.get(LIST).get_data(as_text=True)
    assert "2 envíos." in page
    assert practices["restricted"].removeprefix("uuid:")[:13] in page
    path = f"{LIST}/{practices['restricted']}"
    detail = client.get(path)
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    assert "Remedio del abuelo" in text
    assert "Nivel de acceso: Restringido" in text
    for name in practices["media"]:
        assert client.get(f"{path}/attachments/{name}").status_code == 200


def test_withdrawn_consent_hides_it_even_from_its_guardian(
    client, world, runtime, practices
):
    from app.governance.consent import withdraw_consent
    from tests.support import admin_actor

    with runtime.db.transaction() as session:
        withdraw_consent(
            session,
            admin_actor(session),
            project_id=world.project_id,
            layer="colectivo",
            reason="Decisión del Chawkh Parla",
            ayllu="aransaya",
        )
    sign_in(client, "guardiana")
    page = client.get(LIST).get_data(as_text=True)
    assert "0 envíos." in page
    assert "registros de acceso restringido" not in page
    path = f"{LIST}/{practices['restricted']}"
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/attachments/{practices['media'][0]}").status_code == 404


def test_refused_consent_is_not_even_counted(client, world):
    instance_id, _media = send_practice(
        client, world, level="publico", individual="negado"
    )
    sign_in(client, "guardiana")
    page = client.get(LIST).get_data(as_text=True)
    assert "0 envíos." in page
    assert client.get(f"{LIST}/{instance_id}").status_code == 404
    project = client.get("/projects/1").get_data(as_text=True)
    row = project.split("Documentación de práctica")[1].split("</tr>")[0]
    assert '<td class="num">0</td>' in row


def test_sacred_practice_is_counted_never_opened(client, world):
    instance_id, _media = send_practice(client, world, level="sagrado")
    sign_in(client, "guardiana")
    page = client.get(LIST).get_data(as_text=True)
    assert "1 registros de acceso restringido" in page
    assert client.get(f"{LIST}/{instance_id}").status_code == 404


def test_the_dashboard_counts_restricted_practices_without_content(client, practices):
    sign_in(client, "analista")
    page = client.get("/projects/1/dashboard").get_data(as_text=True)
    assert "<td>Contenido no visible</td>" in page
    guardian = client.application.test_client()
    sign_in(guardian, "guardiana")
    page = guardian.get("/projects/1/dashboard").get_data(as_text=True)
    assert "<td>Contenido no visible</td>" not in page


def test_exports_leave_the_restricted_practice_out_for_a_non_guardian(
    client, practices
):
    from tests.web.support import csrf_token

    sign_in(client, "analista")
    token = csrf_token(client, "/projects/1/exports")
    response = client.post(
        "/projects/1/exports",
        data={"form": "practica_saber", "format": "jsonl", "csrf_token": token},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Remedio del abuelo" not in body
    assert "Lameo de la pampa" in body
