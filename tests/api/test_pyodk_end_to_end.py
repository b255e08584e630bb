"""An analyst's day with the official pyODK client against a real Ayni server.

pyODK (from PyPI, pinned in the dev dependencies) speaks ODK Central's v1 API
and OData; nothing here talks to Ayni any other way. The calls are the ones
the CdP's partners make every day: list projects and forms, publish a form
and a new version with a media file, create tablets (app users) for a form,
send a submission with its photos, page through the OData table with a
filter, expanded repeats and the repeat table, review, comment, edit, and
take the CSV. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import toml
from pyodk.client import Client
from pyodk.errors import PyODKError

from tests.server import LiveServer
from tests.support import (
    ADMIN_PASSWORD,
    compile_markdown,
    encuesta_xml,
    media_bytes,
    new_instance_id,
    seed,
)

pytestmark = pytest.mark.server

FORM = "encuesta"
# A form whose note shows a logo: its drafts expect the file `logo.png`.
SEGUNDA_MD = """
| survey |
| | type | name | label::Español (es) | media::image::Español (es) |
| | note | bienvenida | Bienvenida | logo.png |
| | text | nombre | Nombre | |
| settings |
| | form_id | version | form_title | default_language |
| | segunda | 1 | Segunda | Español (es) |
"""


@pytest.fixture
def pyodk_client(runtime, settings, tmp_path: Path) -> Iterator[tuple[Client, int]]:
    seeded = seed(runtime)
    server = LiveServer(settings).start()
    config = tmp_path / "pyodk_config.toml"
    config.write_text(
        toml.dumps(
            {
                "central": {
                    "base_url": server.url,
                    "username": "admin@localhost",
                    "password": ADMIN_PASSWORD,
                    "default_project_id": seeded.project_id,
                }
            }
        )
    )
    client = Client(config_path=config, cache_path=tmp_path / "pyodk_cache.toml")
    try:
        with client:
            yield client, seeded.project_id
    finally:
        server.stop()


def _photo_files(tmp_path: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_bytes(media_bytes("image", name))
        paths.append(path)
    return paths


def test_an_analysts_day_with_pyodk(pyodk_client, tmp_path):
    client, project_id = pyodk_client

    # Projects and forms.
    projects = client.projects.list()
    assert [p.id for p in projects] == [project_id]
    assert client.projects.get(project_id).name == "CdP Chipaya"
    forms = client.forms.list()
    assert [f.xmlFormId for f in forms] == [FORM]
    assert client.forms.get(FORM).version == "2026112401"
    assert b"<h:title>Encuesta de prueba</h:title>" in client.forms.get_xml(
        FORM
    ).encode("utf-8")

    # A new form from an XLSForm-compiled XForm, then a new version of it with
    # a media file (pyODK: draft, draft attachment, publish).
    second = tmp_path / "segunda.xml"
    second.write_bytes(compile_markdown(SEGUNDA_MD).xml)
    created = client.forms.create(second, form_id="segunda")
    assert created.xmlFormId == "segunda"
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    client.forms.update("segunda", attachments=[logo], version_updater=lambda v: "2")
    assert client.forms.get("segunda").version == "2"

    # Tablets for one form.
    tablets = client.projects.create_app_users(["Tableta mesa 1"], forms=[FORM])
    assert [t.displayName for t in tablets] == ["Tableta mesa 1"]
    assert all(t.token for t in tablets)

    # A submission with a photo at the root and one in a repeat entry.
    instance_id = new_instance_id()
    photos = _photo_files(tmp_path, "raiz.jpg", "asistente.jpg")
    xml = encuesta_xml(
        instance_id, foto="raiz.jpg", asistentes=(("Pedro", "asistente.jpg"),)
    ).decode()
    submission = client.submissions.create(xml, form_id=FORM, attachments=photos)
    assert submission.instanceId == instance_id
    for n in range(3):
        client.submissions.create(
            encuesta_xml(new_instance_id(), foto=None, nombre=f"Persona {n}").decode(),
            form_id=FORM,
        )
    listed = client.submissions.list(form_id=FORM)
    assert len(listed) == 4
    assert client.submissions.get(instance_id, form_id=FORM).instanceId == instance_id

    # OData: paging with a count, a filter, expanded repeats, the repeat table.
    page = client.submissions.get_table(form_id=FORM, top=2, count=True)
    assert page["@odata.count"] == 4
    assert len(page["value"]) == 2
    assert "@odata.nextLink" in page
    rest = client.submissions.get_table(form_id=FORM, skip=2, top=2)
    ids = {row["__id"] for row in page["value"] + rest["value"]}
    assert instance_id in ids and len(ids) == 4
    filtered = client.submissions.get_table(
        form_id=FORM, filter=f"__id eq '{instance_id}'", expand="*"
    )
    [row] = filtered["value"]
    assert row["nombre"] == "Juana"
    assert row["foto"] == "raiz.jpg"
    assert row["asistentes"][0]["asistente"] == "Pedro"
    repeat = client.submissions.get_table(
        form_id=FORM, table_name="Submissions.asistentes"
    )
    assert {r["asistente"] for r in repeat["value"]} >= {"Pedro"}

    # Review, comments, an edit.
    client.submissions.review(instance_id, "hasIssues", form_id=FORM, comment="Revisar")
    client.submissions.add_comment(instance_id, "Foto borrosa", form_id=FORM)
    comments = client.submissions.list_comments(instance_id, form_id=FORM)
    assert {c.body for c in comments} >= {"Foto borrosa"}
    edited_id = new_instance_id()
    client.submissions.edit(
        instance_id,
        encuesta_xml(
            edited_id,
            nombre="Juana Mamani",
            foto="raiz.jpg",  # the photo already sent carries over to the edit
            deprecated_id=instance_id,
        ).decode(),
        form_id=FORM,
        comment="Nombre completo",
    )
    edited = client.submissions.get_table(
        form_id=FORM, filter=f"__id eq '{instance_id}'"
    )["value"]
    assert edited[0]["nombre"] == "Juana Mamani"

    # The CSV zip, as scripts download it through the client's session.
    response = client.session.get(
        f"projects/{project_id}/forms/{FORM}/submissions.csv.zip"
    )
    response.raise_for_status()
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        rows = list(csv.DictReader(io.TextIOWrapper(archive.open(f"{FORM}.csv"))))
        assert len(rows) == 4
        assert "media/raiz.jpg" in archive.namelist()


def test_pyodk_raises_centrals_message_for_an_unknown_form(pyodk_client):
    client, _project_id = pyodk_client
    with pytest.raises(PyODKError) as raised:
        client.forms.get("no_existe")
    assert "404" in str(raised.value)
