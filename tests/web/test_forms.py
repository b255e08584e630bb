"""Projects and forms: counts, uploading XLSForms (errors and warnings with
sheet and row), new versions, state, media and the readable preview."""

from __future__ import annotations

import io
from pathlib import Path

from tests.web.support import csrf_token, send_encuesta, sign_in

XLSFORMS = Path(__file__).resolve().parents[2] / "xlsforms"

BROKEN_MD = """
| survey |
| | type | name | label |
| | text | nombre | Nombre |
| | select_one colores | color | Color |
| choices |
| | list_name | name | label |
| | sabores | dulce | Dulce |
| settings |
| | form_id | version | form_title |
| | roto | 1 | Roto |
"""

TINY_MD = """
| survey |
| | type | name | label::Español (es) | label::English (en) |
| | text | lugar | Lugar | Place |
| | begin_repeat | personas | Personas | People |
| | select_one sexo | sexo | Sexo | Sex |
| | end_repeat | | | |
| choices |
| | list_name | name | label::Español (es) | label::English (en) |
| | sexo | mujer | Mujer | Woman |
| | sexo | hombre | Hombre | Man |
| settings |
| | form_id | version | form_title |
| | pequeno | {version} | Pequeño |
"""


def upload(client, data: bytes, filename: str, *, expected: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/projects/1")
    fields = {"csrf_token": token, "xlsform": (io.BytesIO(data), filename)}
    if expected:
        fields["xml_form_id"] = expected
    return client.post(
        "/projects/1/forms", data=fields, content_type="multipart/form-data"
    )


def test_projects_list_counts_forms_and_submissions(client, world):
    send_encuesta(client, world)
    send_encuesta(client, world)
    sign_in(client, "admin")
    page = client.get("/projects").get_data(as_text=True)
    assert "CdP Chipaya" in page
    project = client.get("/projects/1").get_data(as_text=True)
    assert "Encuesta de prueba" in project
    assert '<td class="num">2</td>' in project
    assert "Diagnóstico de necesidades del ayllu" in project


def test_upload_an_xlsform_and_see_its_questions(client, world):
    sign_in(client, "coordinadora")
    data = (XLSFORMS / "registro_actor.xlsx").read_bytes()
    response = upload(client, data, "registro_actor.xlsx")
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects/1/forms/registro_actor"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "publicado" in page
    assert "Registro de actores e instituciones" in page
    assert "¿Es una persona o una institución?" in page  # Spanish label
    assert "Selección única" in page
    english = client.get("/projects/1/forms/registro_actor?lang=en")
    assert "Is it a person or an institution?" in english.get_data(as_text=True)


def test_pyxform_errors_name_the_sheet_and_row(client, world):
    sign_in(client, "coordinadora")
    response = upload(client, BROKEN_MD.encode(), "roto.md")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No se pudo publicar" in page
    assert "colores" in page
    assert "row" in page.lower()  # pyxform's "[row : 3]"


def test_a_file_that_is_not_a_workbook_is_refused_readably(client, world):
    sign_in(client, "coordinadora")
    response = upload(client, b"hola", "formulario.xlsx")
    assert response.status_code == 422
    assert "no es un libro de Excel" in response.get_data(as_text=True)


def test_new_version_needs_a_new_version_string(client, world):
    sign_in(client, "coordinadora")
    first = upload(client, TINY_MD.replace("{version}", "1").encode(), "pequeno.md")
    assert first.status_code == 302
    changed = TINY_MD.replace("{version}", "1").replace("Lugar", "Sitio")
    conflict = upload(client, changed.encode(), "pequeno.md", expected="pequeno")
    assert conflict.status_code == 422
    assert "versión" in conflict.get_data(as_text=True)
    newer = TINY_MD.replace("{version}", "2").replace("Lugar", "Sitio")
    ok = upload(client, newer.encode(), "pequeno.md", expected="pequeno")
    assert ok.status_code == 302
    page = client.get("/projects/1/forms/pequeno").get_data(as_text=True)
    assert "Nueva versión 2" in page
    assert "Sitio" in page


def test_new_version_upload_must_be_the_same_form(client, world):
    sign_in(client, "coordinadora")
    other = TINY_MD.replace("{version}", "1").encode()
    response = upload(client, other, "pequeno.md", expected="encuesta")
    assert response.status_code == 422
    assert "no de «encuesta»" in response.get_data(as_text=True)


def test_preview_lays_out_groups_repeats_and_choices(client, world):
    sign_in(client, "analista")
    page = client.get("/projects/1/forms/encuesta").get_data(as_text=True)
    assert '<li class="q-group">' in page
    assert '<li class="q-repeat">' in page
    assert "Aransaya" in page and "Manasaya" in page
    assert "Punto GPS" in page
    assert "Foto" in page
    assert "Subir y publicar" not in page  # analysts do not publish


def test_close_a_form(client, world):
    sign_in(client, "coordinadora")
    token = csrf_token(client, "/projects/1/forms/encuesta")
    response = client.post(
        "/projects/1/forms/encuesta/state",
        data={"state": "closed", "csrf_token": token},
    )
    assert response.status_code == 302
    page = client.get("/projects/1/forms/encuesta").get_data(as_text=True)
    assert "Estado del formulario: Cerrado" in page


def test_upload_media_keeps_it_across_new_versions(client, world):
    sign_in(client, "coordinadora")
    token = csrf_token(client, "/projects/1/forms/encuesta")
    response = client.post(
        "/projects/1/forms/encuesta/media",
        data={
            "csrf_token": token,
            "media": [(io.BytesIO(b"name,label\na,A\n"), "ayllus.csv")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get("/projects/1/forms/encuesta").get_data(as_text=True)
    assert "ayllus.csv" in page
    from tests.support import encuesta_md

    newer = upload(
        client, encuesta_md("2026112402").encode(), "encuesta.md", expected="encuesta"
    )
    assert newer.status_code == 302
    page = client.get("/projects/1/forms/encuesta").get_data(as_text=True)
    assert "2026112402" in page
    assert "ayllus.csv" in page


def test_only_managers_publish(client, world):
    sign_in(client, "analista")
    token = csrf_token(client, "/projects/1")
    response = client.post(
        "/projects/1/forms",
        data={"csrf_token": token, "xlsform": (io.BytesIO(b"x"), "x.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403


def test_people_without_a_role_see_no_project(client, world, runtime):
    from app.auth import accounts

    with runtime.db.transaction() as session:
        accounts.create_user(
            session, username="visita", email="v@x.org", password="clave-visita-1"
        )
    sign_in(client, "visita", "clave-visita-1")
    page = client.get("/projects").get_data(as_text=True)
    assert 'href="/projects/1"' not in page
    assert "Todavía no tiene un rol" in page
    assert client.get("/projects/1").status_code == 403


def test_warnings_are_shown_after_publishing(client, world):
    sign_in(client, "coordinadora")
    with_url = (
        TINY_MD.replace("{version}", "1")
        .replace(
            "| | form_id | version | form_title |",
            "| | form_id | version | form_title | submission_url |",
        )
        .replace(
            "| | pequeno | 1 | Pequeño |",
            "| | pequeno | 1 | Pequeño | http://otro.example/submission |",
        )
    )
    response = upload(client, with_url.encode(), "pequeno.md")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash warning"' in page
    assert "submission_url ignorado" in page
