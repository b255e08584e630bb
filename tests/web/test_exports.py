"""The exports page: every format streams from the exports service, with
filters and label options; CSRF and rights are checked."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.web.support import csrf_token, send_encuesta, sign_in

FORMATS = {
    "csv.zip": "application/zip",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "jsonl": "application/x-ndjson",
}


def export(client, **fields):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/projects/1/exports")
    return client.post(
        "/projects/1/exports", data={"form": "encuesta", "csrf_token": token, **fields}
    )


def test_the_page_offers_every_format_and_option(client, world):
    sign_in(client, "analista")
    page = client.get("/projects/1/exports").get_data(as_text=True)
    for value in FORMATS:
        assert f'value="{value}"' in page
    for name in ("labels_lang", "header_lang", "group_paths", "split_select_multiples"):
        assert f'name="{name}"' in page
    assert 'name="since"' in page and 'name="ayllu"' in page and 'name="state"' in page


@pytest.mark.parametrize(("export_format", "content_type"), FORMATS.items())
def test_every_format_downloads(client, world, export_format, content_type):
    send_encuesta(client, world, nombre="Juana")
    sign_in(client, "analista")
    response = export(client, format=export_format, attachments="1", group_paths="1")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data


def test_csv_zip_with_labels_and_media(client, world):
    send_encuesta(client, world, nombre="Juana")
    sign_in(client, "analista")
    response = export(
        client, format="csv.zip", attachments="1", labels_lang="es", group_paths="1"
    )
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert "encuesta.csv" in names
    assert any(name.startswith("media/") for name in names)
    table = archive.read("encuesta.csv").decode("utf-8")
    assert "Aransaya" in table and "Juana" in table


def test_filters_apply(client, world):
    send_encuesta(client, world, nombre="Juana")
    sign_in(client, "analista")
    none = export(client, format="jsonl", since="2100-01-01")
    assert none.data == b""
    some = export(client, format="jsonl", ayllu="aransaya", state="received")
    lines = [json.loads(line) for line in some.get_data(as_text=True).splitlines()]
    assert len(lines) == 1


def test_export_needs_a_csrf_token(client, world):
    sign_in(client, "analista")
    response = client.post("/projects/1/exports", data={"form": "encuesta"})
    assert response.status_code == 400


def test_bad_option_is_shown_on_the_page(client, world):
    sign_in(client, "analista")
    response = export(client, format="pdf")
    assert response.status_code == 422
    assert "Formato de exportación desconocido" in response.get_data(as_text=True)


def test_data_collectors_cannot_export(client, world):
    sign_in(client, "recolectora")
    assert client.get("/projects/1/exports").status_code == 403
