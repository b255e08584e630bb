"""Submissions: the filtered, paged table, the detail page (answers by label,
groups, repeats, photo inline, map), the review with comments and the edit
history."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.db.models import AuditLog, Comment
from tests.support import encuesta_xml, new_instance_id
from tests.web.support import (
    PHOTO,
    csrf_token,
    send_encuesta,
    send_submission,
    sign_in,
)

LIST = "/projects/1/forms/encuesta/submissions"


def detail_path(instance_id: str) -> str:
    return f"{LIST}/{instance_id}"


def test_the_table_lists_submissions_newest_first(client, world):
    first = send_encuesta(client, world, nombre="Juana")
    second = send_encuesta(client, world, nombre="Pedro")
    sign_in(client, "analista")
    page = client.get(LIST).get_data(as_text=True)
    assert "2 envíos." in page
    assert page.index(second.removeprefix("uuid:")[:13]) < page.index(
        first.removeprefix("uuid:")[:13]
    )
    assert "Tableta 1" in page  # the submitter
    assert "Aransaya" in page  # the ayllu column, by label
    assert "1/1" in page  # attachments present / expected


def test_filters_by_review_state_submitter_and_date(client, world, runtime):
    send_encuesta(client, world)
    approved = send_encuesta(client, world)
    sign_in(client, "coordinadora")
    token = csrf_token(client, detail_path(approved))
    client.post(
        detail_path(approved) + "/review",
        data={"state": "approved", "comment": "", "csrf_token": token},
    )
    page = client.get(LIST + "?state=approved").get_data(as_text=True)
    assert "1 envíos." in page
    assert approved.removeprefix("uuid:")[:13] in page
    assert "1 envíos." not in client.get(LIST + "?submitter=a1").get_data(as_text=True)
    assert "0 envíos." in client.get(LIST + "?submitter=u1").get_data(as_text=True)
    assert "0 envíos." in client.get(LIST + "?since=2100-01-01").get_data(as_text=True)
    assert "2 envíos." in client.get(LIST + "?until=2100-01-01").get_data(as_text=True)
    assert "2 envíos." in client.get(LIST + "?ayllu=aransaya").get_data(as_text=True)
    assert "0 envíos." in client.get(LIST + "?ayllu=manasaya").get_data(as_text=True)


def test_bad_date_filter_is_a_readable_400(client, world):
    sign_in(client, "analista")
    response = client.get(LIST + "?since=ayer")
    assert response.status_code == 400
    assert "AAAA-MM-DD" in response.get_data(as_text=True)


def test_paging(client, world):
    for _ in range(27):
        send_encuesta(client, world, foto=None)
    sign_in(client, "analista")
    first = client.get(LIST).get_data(as_text=True)
    assert "27 envíos." in first
    assert "Página 1 de 2" in first
    assert first.count('class="badge state-received"') == 25
    second = client.get(LIST + "?page=2").get_data(as_text=True)
    assert second.count('class="badge state-received"') == 2


def test_detail_shows_answers_by_label_with_groups_repeats_photo_and_map(client, world):
    instance_id = send_encuesta(
        client,
        world,
        nombre="Juana Mamani",
        asistentes=(("Pedro", None), ("Rosa", None)),
    )
    sign_in(client, "analista")
    page = client.get(detail_path(instance_id)).get_data(as_text=True)
    assert "Juana Mamani" in page
    assert '<section class="group"><h3>Lugar</h3>' in page
    assert "Asistentes 2" in page and "Rosa" in page
    assert "Aransaya" in page  # select_one by label, not by value
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'class="map"' in page
    assert "Santa Ana de Chipaya" in page
    photo = re.search(r'<img src="([^"]+)"', page)
    assert photo is not None
    response = client.get(photo.group(1))
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data == PHOTO
    assert "sandbox" in response.headers["Content-Security-Policy"]
    english = client.get(detail_path(instance_id) + "?lang=en").get_data(as_text=True)
    assert "<h3>Place</h3>" in english


def test_approve_with_a_comment(client, world, runtime):
    instance_id = send_encuesta(client, world)
    sign_in(client, "coordinadora")
    token = csrf_token(client, detail_path(instance_id))
    response = client.post(
        detail_path(instance_id) + "/review",
        data={
            "state": "approved",
            "comment": "Revisado en la mesa",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    page = client.get(detail_path(instance_id)).get_data(as_text=True)
    assert "Revisión guardada: Aprobado" in page
    assert "Revisado en la mesa" in page
    assert 'class="badge state-approved"' in page
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1
        actions = set(session.scalars(sa.select(AuditLog.action)))
    assert {"submission.update.review_state", "submission.comment"} <= actions


def test_a_comment_alone_keeps_the_state(client, world):
    instance_id = send_encuesta(client, world)
    sign_in(client, "coordinadora")
    token = csrf_token(client, detail_path(instance_id))
    client.post(
        detail_path(instance_id) + "/review",
        data={"state": "received", "comment": "Falta la foto", "csrf_token": token},
    )
    page = client.get(detail_path(instance_id)).get_data(as_text=True)
    assert "Comentario agregado" in page and "Falta la foto" in page
    assert 'class="badge state-received"' in page


def test_review_without_csrf_token_is_refused(client, world):
    instance_id = send_encuesta(client, world)
    sign_in(client, "coordinadora")
    response = client.post(
        detail_path(instance_id) + "/review", data={"state": "approved"}
    )
    assert response.status_code == 400
    assert "state-received" in client.get(detail_path(instance_id)).get_data(
        as_text=True
    )


def test_analysts_read_but_do_not_review(client, world):
    instance_id = send_encuesta(client, world)
    sign_in(client, "analista")
    page = client.get(detail_path(instance_id)).get_data(as_text=True)
    assert "Guardar la revisión" not in page
    token = csrf_token(client, detail_path(instance_id))
    response = client.post(
        detail_path(instance_id) + "/review",
        data={"state": "approved", "csrf_token": token},
    )
    assert response.status_code == 403


def test_data_collectors_do_not_read_submissions(client, world):
    instance_id = send_encuesta(client, world)
    sign_in(client, "recolectora")
    assert client.get(LIST).status_code == 403
    assert client.get(detail_path(instance_id)).status_code == 403


def test_unknown_submission_is_404(client, world):
    sign_in(client, "analista")
    assert client.get(detail_path("uuid:no-existe")).status_code == 404


def test_edit_history_shows_what_changed(client, world):
    instance_id = send_encuesta(client, world, nombre="Juana")
    edited = new_instance_id()
    xml = encuesta_xml(edited, nombre="Juana Choque", deprecated_id=instance_id)
    send_submission(client, world, xml, {"1732455064123.jpg": PHOTO})
    sign_in(client, "analista")
    page = client.get(detail_path(instance_id)).get_data(as_text=True)
    assert "Historial de ediciones" in page
    assert "Primer envío" in page
    assert "<td>Nombre</td><td>Juana</td><td>Juana Choque</td>" in page
    assert 'class="badge state-edited"' in page
