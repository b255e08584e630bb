"""Hostile or absurd operations are refused cleanly: a 4xx (or a usage error
on the command line) with a Spanish and English message, never a 500 and
never a 200 cut short; nothing of the request stored; the server answering a
valid request afterwards. Also: tokens never reach a log line, upload files a
killed worker left behind are swept at start, and the commands that print the
server's address print the one tablets will really reach.
"""

from __future__ import annotations

import html
import io
import logging
import os
import socket
import time
import zipfile
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from app.auth import sessions
from app.blobs import INCOMING_MAX_AGE, INCOMING_PREFIX, make_blob_store
from app.db.models import AuditLog, Blob, Form, FormAttachment, FormVersion, User
from app.netinfo import RECORD_NAME, record_listening
from tests.web.support import (
    WebWorld,
    csrf_token,
    make_web_world,
    send_encuesta,
    sign_in,
)

XLSFORMS = Path(__file__).resolve().parents[2] / "xlsforms"
OPENROSA = {"X-OpenRosa-Version": "1.0"}


@pytest.fixture
def world(runtime, client) -> WebWorld:  # type: ignore[no-untyped-def]
    """The encuesta form with one submission (Juana's), an admin and a tablet."""
    made = make_web_world(runtime, cdp_forms=())
    send_encuesta(client, made, nombre="Juana")
    return made


def bearer(runtime, username: str = "admin") -> dict[str, str]:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        user = session.scalars(sa.select(User).where(User.username == username)).one()
        token = sessions.create_session(session, user).token
    return {"Authorization": f"Bearer {token}"}


def rows(runtime, *models) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return {
            model.__tablename__: session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
            for model in models
        }


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


# --- 1. tokens never reach a log line ---------------------------------------------


def raw_request(port: int, request_line: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{request_line}\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return sock.recv(65536)


@pytest.mark.server
def test_tokens_in_urls_never_reach_the_logs_of_a_real_server(
    live_server, runtime, world
):
    token = world.token
    path = f"/v1/key/{token}/projects/{world.project_id}"

    listed = requests.get(
        f"{live_server.url}{path}/formList?st={token}", headers=OPENROSA, timeout=10
    )
    # gunicorn refuses a request line with a byte outside \x21-\x7e with a
    # warning that quotes the whole line, token and all.
    refused = raw_request(
        live_server.port, f"GET {path}/formList?st={token}&x=\x7f HTTP/1.1"
    )
    unknown = requests.get(f"{live_server.url}{path}/nowhere", timeout=10)
    after = requests.get(
        f"{live_server.url}{path}/formList", headers=OPENROSA, timeout=10
    )
    live_server.stop()
    log = live_server.log_text()

    assert listed.status_code == 200
    assert refused.startswith(b"HTTP/1.1 400")
    assert unknown.status_code == 404
    assert after.status_code == 200
    assert (  # the warning was written, masked …
        "[WARNING] Invalid request from ip=127.0.0.1: Invalid HTTP request line: "
        f"'GET /v1/key/***/projects/{world.project_id}/formList?st=***&x=\\x7f "
        "HTTP/1.1'"
    ) in log
    assert "formList" in log  # … and so were the access lines
    assert log.count(token) == 0
    assert f"/v1/key/***/projects/{world.project_id}/formList?st=***" in log


def test_an_unexpected_error_under_a_token_url_is_logged_without_the_token(
    make_app, world, caplog
):
    token = world.token
    # Built here, after pytest's capture handler is on the root logger: the
    # app's start puts the redaction filter on every handler present.
    app = make_app()

    def explode(key: str):  # type: ignore[no-untyped-def]
        logging.getLogger("app.hostile").warning(
            "slow request %s?st=%s", f"/v1/key/{key}/projects/1/formList", key
        )
        raise RuntimeError(f"cannot serve {key} for /v1/key/{key}/x?st={key}")

    app.add_url_rule("/v1/key/<key>/projects/1/explode", "explode", explode)
    client = app.test_client()

    with caplog.at_level(logging.INFO):
        response = client.get(f"/v1/key/{token}/projects/1/explode?st={token}")
        after = client.get(f"/v1/key/{token}/projects/1/formList", headers=OPENROSA)

    assert response.status_code == 500
    assert token not in response.get_data(as_text=True)
    assert after.status_code == 200
    text = caplog.text
    assert "slow request /v1/key/***/projects/1/formList?st=***" in text
    assert "unexpected error on GET /v1/key/***/projects/1/explode" in text
    assert "Traceback" in text
    assert "RuntimeError: cannot serve *** for /v1/key/***/x?st=***" in text
    assert token not in text
    for record in caplog.records:
        assert token not in record.getMessage()


# --- 2. upload files a killed worker left behind ---------------------------------


def incoming_dir(store) -> Path:  # type: ignore[no-untyped-def]
    return Path(getattr(store, "root", None) or store.spool_dir)


def leave_files(directory: Path) -> dict[str, Path]:
    """A stale and a fresh upload file, and neighbours that are not uploads."""
    old = time.time() - INCOMING_MAX_AGE - 60
    files = {
        "stale": directory / f"{INCOMING_PREFIX}dead1234",
        "fresh": directory / f"{INCOMING_PREFIX}live5678",
        "blob": directory / "ab" / "cd" / ("ab" + "cd" + "0" * 60),
        "other": directory / ".health-old",
        "nested": directory / "ab" / f"{INCOMING_PREFIX}not-mine",
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"bytes of " + name.encode())
        if name != "fresh":
            os.utime(path, (old, old))
    return files


@pytest.mark.parametrize("backend", ["filesystem", "database"])
def test_only_stale_upload_files_are_swept(tmp_path, backend):
    store = make_blob_store(backend, tmp_path / "blobs")
    files = leave_files(incoming_dir(store))

    removed = store.sweep_incoming(INCOMING_MAX_AGE)

    assert removed == 1
    assert not files["stale"].exists()
    for name in ("fresh", "blob", "other", "nested"):
        assert files[name].exists(), name
    assert store.sweep_incoming(INCOMING_MAX_AGE) == 0  # another worker: no-op


@pytest.mark.parametrize("backend", ["filesystem", "database"])
def test_starting_the_app_sweeps_stale_upload_files_of_its_store(
    make_app, settings, backend
):
    directory = (
        settings.blob_dir if backend == "filesystem" else settings.blob_dir / "spool"
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = leave_files(directory)

    app = make_app(blob_backend=backend)

    assert not files["stale"].exists()
    assert files["fresh"].exists()
    assert files["blob"].exists() and files["other"].exists()
    assert app.test_client().get("/healthz").status_code == 200


# --- 3. the address the commands print -------------------------------------------


@pytest.fixture
def shell_without_address(monkeypatch):  # type: ignore[no-untyped-def]
    """A terminal where nobody exported HOST, PORT or PUBLIC_URL (`make`
    exports HOST and PORT to its recipes, the test run included)."""
    for name in ("HOST", "PORT", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


def invoke(app, *args: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


def test_urls_with_no_known_server_guess_the_default_port_and_say_so(
    app, shell_without_address
):
    result = invoke(app, "urls")

    assert ":8000" in result.stdout
    assert "PORT" in result.stderr
    assert "--server-url" in result.stderr and "PUBLIC_URL" in result.stderr
    assert "Aviso: No se sabe en qué puerto escucha el servidor" in result.stderr
    assert "Warning: The server's port is not known" in result.stderr


@pytest.mark.server
def test_urls_and_qr_carry_the_port_the_running_server_was_started_with(
    live_server, app, runtime, world, settings, shell_without_address, tmp_path
):
    recorded = settings.instance_dir / RECORD_NAME
    assert recorded.is_file()  # written by the server's workers at start

    urls = invoke(app, "urls")
    created = invoke(app, "create-app-user", "Tableta 2", "--out-dir", str(tmp_path))

    server = f"http://127.0.0.1:{live_server.port}"
    assert server in urls.stdout
    assert f"{server}/v1/key/" in created.stdout
    assert "No se sabe en qué puerto" not in urls.stderr + created.stderr
    # The test server listens on 127.0.0.1 only: a tablet could not reach it.
    assert "una tableta no la alcanza" in urls.stderr
    assert "a tablet cannot reach it" in created.stderr
    token = next(
        line.split()[1]
        for line in created.stdout.splitlines()
        if line.startswith("Token:")
    )
    listed = requests.get(
        f"{server}/v1/key/{token}/projects/1/formList", headers=OPENROSA, timeout=10
    )
    assert listed.status_code == 200


def test_create_app_user_uses_the_recorded_port_when_this_shell_has_none(
    app, runtime, world, settings, shell_without_address, tmp_path
):
    record_listening(settings.with_(host="192.168.77.5", port=8123))

    created = invoke(app, "create-app-user", "Tableta 3", "--out-dir", str(tmp_path))

    assert "URL del servidor / Server URL: http://192.168.77.5:8123/v1/key/" in (
        created.stdout
    )
    assert created.stderr == ""


def test_public_url_is_what_tablets_get_with_no_warning(
    make_app, runtime, world, shell_without_address, tmp_path
):
    app = make_app(public_url="https://ayni.example.org/")

    urls = invoke(app, "urls")
    created = invoke(app, "create-app-user", "Tableta 4", "--out-dir", str(tmp_path))

    assert urls.stdout.splitlines()[1:] == ["  https://ayni.example.org"]
    assert "https://ayni.example.org/v1/key/" in created.stdout
    assert urls.stderr == created.stderr == ""


def test_port_set_in_this_shell_is_the_servers_to_be_and_wins_over_the_record(
    make_app, settings, shell_without_address, monkeypatch
):
    # `make run PORT=9090` exports PORT to `ayni urls` and then starts the
    # server: the record left by the previous run on 8123 is out of date.
    record_listening(settings.with_(host="192.168.77.5", port=8123))
    monkeypatch.setenv("PORT", "9090")
    app = make_app(port=9090, host="10.1.2.3")

    urls = invoke(app, "urls")

    assert urls.stdout.splitlines()[1:] == ["  http://10.1.2.3:9090"]
    assert urls.stderr == ""


# --- 4a. date filters --------------------------------------------------------------

# Not a date, or outside 1900-01-01 .. 9998-12-31 as typed or in UTC.
BAD_INSTANTS = [
    "9999-12-31",
    "0001-01-01",
    "99999-01-01",
    "-2026-01-01",
    "2026-13-01",
    "9998-12-31T23:00:00-12:00",
    "0001-01-01T00:00:00+05:00",
    "1900-01-01T00:00:00+01:00",
    "2026-01-01T00:00:00+25:00",
]
BAD_DAYS = ["9999-12-31", "1899-12-31", "-2026-01-01"]
DATE_ES = ("Fecha no válida en «", "está fuera del rango admitido")
DATE_EN = ("Invalid date in '", "is out of range")


def assert_date_message(text: str, name: str) -> None:
    assert any(fragment in text for fragment in DATE_ES), text[:2000]
    assert any(fragment in text for fragment in DATE_EN), text[:2000]
    assert name in text


@pytest.mark.parametrize(
    ("name", "value", "fmt"),
    [
        *(
            (name, value, "csv")
            for name in ("since", "until")
            for value in BAD_INSTANTS
        ),
        *(
            ("since", "9998-12-31T23:00:00-12:00", fmt)
            for fmt in ("csv.zip", "xlsx", "geojson", "jsonl")
        ),
    ],
)
def test_api_export_with_an_impossible_date_is_a_400_and_records_no_export(
    client, runtime, world, name, value, fmt
):
    headers = bearer(runtime)
    before = rows(runtime, AuditLog)

    response = client.get(
        f"/v1/projects/1/forms/encuesta/submissions.{fmt}",
        query_string={name: value},
        headers=headers,
    )

    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "invalid_date"
    assert_date_message(response.get_json()["detail"], name)
    assert rows(runtime, AuditLog) == before
    ok = client.get("/v1/projects/1/forms/encuesta/submissions.csv", headers=headers)
    assert ok.status_code == 200
    assert "Juana" in ok.get_data(as_text=True)


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", BAD_INSTANTS)
def test_api_aggregate_with_an_impossible_date_is_a_400(
    client, runtime, world, name, value
):
    headers = bearer(runtime)

    response = client.get(
        "/v1/projects/1/aggregates/necesidades",
        query_string={name: value},
        headers=headers,
    )

    assert response.status_code == 400
    assert_date_message(response.get_json()["detail"], name)
    after = client.get("/v1/projects/1/aggregates/necesidades", headers=headers)
    assert after.status_code == 200


def test_the_widest_accepted_dates_export_everything(client, runtime, world):
    headers = bearer(runtime)
    query = {"since": "1900-01-01", "until": "9998-12-31T23:59:59"}

    api = client.get(
        "/v1/projects/1/forms/encuesta/submissions.csv",
        query_string=query,
        headers=headers,
    )
    sign_in(client, "admin")
    console = client.get(
        "/projects/1/forms/encuesta/submissions",
        query_string={"since": "1900-01-01", "until": "9998-12-31"},
    )

    assert api.status_code == 200 and "Juana" in api.get_data(as_text=True)
    assert console.status_code == 200
    listed = page_text(console).count("uuid:")
    assert listed > 0
    assert listed == page_text(client.get(console.request.path)).count("uuid:")


@pytest.mark.server
def test_an_extreme_since_is_refused_before_the_export_starts_on_a_real_server(
    live_server, runtime, world
):
    headers = bearer(runtime)
    url = f"{live_server.url}/v1/projects/1/forms/encuesta/submissions.csv"

    # Formerly a 200 whose body stopped at the header row: the UTC conversion
    # of this bound overflowed only once the export was streaming.
    refused = requests.get(
        url, params={"since": "9998-12-31T23:00:00-12:00"}, headers=headers, timeout=10
    )
    after = requests.get(url, headers=headers, timeout=10)

    assert refused.status_code == 400
    assert_date_message(refused.json()["detail"], "since")
    assert after.status_code == 200 and "Juana" in after.text
    assert "Traceback" not in live_server.log_text()


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", [*BAD_DAYS, "2026-01-01T00:00:00+14:00"])
@pytest.mark.parametrize(
    "path",
    [
        "/projects/1/forms/encuesta/submissions",
        "/projects/1/dashboard",
        "/admin/audit",
    ],
)
def test_console_pages_with_an_impossible_day_are_a_400(
    client, world, name, value, path
):
    sign_in(client, "admin")

    response = client.get(path, query_string={name: value})

    assert response.status_code == 400
    assert_date_message(page_text(response), name)
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", BAD_DAYS)
def test_console_export_with_an_impossible_day_is_refused_and_not_recorded(
    client, runtime, world, name, value
):
    sign_in(client, "admin")
    before = rows(runtime, AuditLog)

    def export(query: str = "", **fields: str):  # type: ignore[no-untyped-def]
        token = csrf_token(client, "/projects/1/exports")
        data = {"form": "encuesta", "format": "csv", "csrf_token": token, **fields}
        return client.post(f"/projects/1/exports{query}", data=data)

    spanish = export(**{name: value})
    english = export("?lang=en", **{name: value})

    assert spanish.status_code == english.status_code == 422
    assert any(fragment in page_text(spanish) for fragment in DATE_ES)
    assert any(fragment in page_text(english) for fragment in DATE_EN)
    assert rows(runtime, AuditLog) == before
    ok = export("?lang=es")
    assert ok.status_code == 200 and b"Juana" in ok.data


@pytest.mark.parametrize("option", ["--since", "--until"])
@pytest.mark.parametrize(
    "value", ["9999-12-31", "0001-01-01T00:00:00+05:00", "2026-13-01"]
)
def test_cli_export_and_aggregate_refuse_an_impossible_date(
    app, runtime, world, tmp_path, option, value
):
    out = tmp_path / "export.csv"
    runner = app.test_cli_runner()

    exported = runner.invoke(
        args=["export", "encuesta", "--format", "csv", "--out", str(out), option, value]
    )
    aggregated = runner.invoke(args=["aggregate", "necesidades", option, value])

    for result in (exported, aggregated):
        assert result.exit_code == 2, result.output
        assert_date_message(result.stderr, option)
    assert not out.exists()
    good = runner.invoke(
        args=["export", "encuesta", "--format", "csv", "--out", str(out)]
    )
    assert good.exit_code == 0, good.output
    assert "Juana" in out.read_text(encoding="utf-8")


# --- 4b. the console's submitter filter ----------------------------------------------


@pytest.mark.parametrize(
    "submitter", ["u99999999999999999999", "u²", "a9999999999", "u12345678901", "x1"]
)
def test_submitter_filter_that_cannot_be_an_id_is_a_400(client, world, submitter):
    sign_in(client, "admin")

    response = client.get(
        "/projects/1/forms/encuesta/submissions", query_string={"submitter": submitter}
    )

    assert response.status_code == 400
    text = page_text(response)
    assert "Filtro de remitente no válido." in text
    assert "Invalid submitter filter." in text
    ok = client.get(
        "/projects/1/forms/encuesta/submissions", query_string={"submitter": "u1"}
    )
    assert ok.status_code == 200


@pytest.mark.parametrize("page", ["²", "99999999999999999999", "0", "-3"])
def test_a_page_number_that_is_no_page_shows_the_first_page(client, world, page):
    listing = "/projects/1/forms/encuesta/submissions"
    sign_in(client, "admin")

    response = client.get(listing, query_string={"page": page})

    assert response.status_code == 200
    first = page_text(client.get(listing)).count("uuid:")
    assert first > 0
    assert page_text(response).count("uuid:") == first


# --- 4c. an XLSForm with a DOCTYPE --------------------------------------------------


def _with_doctype(data: bytes, doctype: bytes) -> bytes:
    declaration = data.index(b"?>") + 2 if data.startswith(b"<?xml") else 0
    return data[:declaration] + doctype + data[declaration:]


def hostile_workbook(part: str, doctype: bytes, *, utf16: bool = False) -> bytes:
    source = zipfile.ZipFile(XLSFORMS / "registro_actor.xlsx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            data = source.read(name)
            if name == part:
                data = _with_doctype(data, doctype)
                if utf16:
                    data = data.decode("utf-8").encode("utf-16")
            archive.writestr(name, data)
    return out.getvalue()


LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)
XXE = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
HOSTILE_WORKBOOKS = {
    "entities-in-a-sheet": ("xl/worksheets/sheet1.xml", LAUGHS, False),
    "external-entity-in-the-workbook": ("xl/workbook.xml", XXE, False),
    "utf16-doctype-in-the-content-types": (
        "[Content_Types].xml",
        b"<!DOCTYPE x>",
        True,
    ),
}
DOCTYPE_ES = "contiene una declaración DOCTYPE"
DOCTYPE_EN = "contains a DOCTYPE declaration"


def upload_xlsform(client, data: bytes, filename: str, query: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/projects/1")
    return client.post(
        f"/projects/1/forms{query}",
        data={"csrf_token": token, "xlsform": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("case", HOSTILE_WORKBOOKS)
def test_console_refuses_an_xlsform_with_a_doctype_and_stores_nothing(
    client, runtime, world, case
):
    part, doctype, utf16 = HOSTILE_WORKBOOKS[case]
    data = hostile_workbook(part, doctype, utf16=utf16)
    sign_in(client, "admin")
    before = rows(runtime, Form, FormVersion, Blob)

    spanish = upload_xlsform(client, data, "registro_actor.xlsx")
    english = upload_xlsform(client, data, "registro_actor.xlsx", "?lang=en")

    assert spanish.status_code == english.status_code == 422
    assert DOCTYPE_ES in page_text(spanish)
    assert DOCTYPE_EN in page_text(english)
    assert rows(runtime, Form, FormVersion, Blob) == before
    good = upload_xlsform(
        client, (XLSFORMS / "registro_actor.xlsx").read_bytes(), "registro_actor.xlsx"
    )
    assert good.status_code == 302


@pytest.mark.parametrize("case", HOSTILE_WORKBOOKS)
def test_upload_form_command_refuses_an_xlsform_with_a_doctype(
    app, runtime, world, tmp_path, case
):
    part, doctype, utf16 = HOSTILE_WORKBOOKS[case]
    path = tmp_path / "registro_actor.xlsx"
    path.write_bytes(hostile_workbook(part, doctype, utf16=utf16))
    before = rows(runtime, Form, FormVersion, Blob)

    result = app.test_cli_runner().invoke(args=["upload-form", str(path)])

    assert result.exit_code == 1, result.output
    assert DOCTYPE_ES in result.stderr and DOCTYPE_EN in result.stderr
    assert rows(runtime, Form, FormVersion, Blob) == before


def damaged_xlsx() -> bytes:
    good = (XLSFORMS / "registro_actor.xlsx").read_bytes()
    middle = len(good) // 2
    return good[:middle] + bytes(16) + good[middle + 16 :]


# An OLE2 header over zeros: xlrd divides by a zero sector size.
DAMAGED_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(20) + b"\xfe\xff" + bytes(512)


@pytest.mark.parametrize(
    ("filename", "data"),
    [("registro_actor.xlsx", damaged_xlsx()), ("registro_actor.xls", DAMAGED_XLS)],
)
def test_a_damaged_workbook_is_refused_not_a_500(
    client, runtime, world, filename, data
):
    sign_in(client, "admin")
    before = rows(runtime, Form, FormVersion, Blob)

    spanish = upload_xlsform(client, data, filename)
    english = upload_xlsform(client, data, filename, "?lang=en")

    assert spanish.status_code == english.status_code == 422
    assert f"«{filename}»" in page_text(spanish)
    assert f"'{filename}'" in page_text(english)
    assert rows(runtime, Form, FormVersion, Blob) == before


# --- 4d. form media names ---------------------------------------------------------

BAD_MEDIA_NAMES = {
    "control": "mapa\x01ayllu.png",
    "nul": "mapa\x00.png",
    "bidi-override": "foto\u202egnp.exe",
    "line-separator": "lista\u2028.csv",
    "zero-width": "lista\u200b.csv",
    "leading-space": " lista.csv",
    "too-long": "x" * 300 + ".csv",
}
MEDIA_ES = "Nombre de archivo multimedia no válido"
MEDIA_EN = "Invalid media file name"


def manifest(client, world: WebWorld):  # type: ignore[no-untyped-def]
    return client.get(
        f"/v1/key/{world.token}/projects/1/forms/encuesta/manifest", headers=OPENROSA
    )


def post_media(client, name: str, query: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/projects/1/forms/encuesta")
    return client.post(
        f"/projects/1/forms/encuesta/media{query}",
        data={"csrf_token": token, "media": [(io.BytesIO(b"a,b\n1,2\n"), name)]},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("case", BAD_MEDIA_NAMES)
def test_console_refuses_a_media_name_that_would_break_the_manifest(
    client, runtime, world, case
):
    sign_in(client, "admin")
    assert post_media(client, "ayllus.csv").status_code == 302
    before = rows(runtime, FormAttachment, FormVersion, Blob)
    listed = manifest(client, world).data

    spanish = post_media(client, BAD_MEDIA_NAMES[case])
    english = post_media(client, BAD_MEDIA_NAMES[case], "?lang=en")

    assert spanish.status_code == english.status_code == 422
    assert MEDIA_ES in page_text(spanish)
    assert MEDIA_EN in page_text(english)
    assert "\u202e" not in page_text(spanish)  # quoted escaped, not obeyed
    assert rows(runtime, FormAttachment, FormVersion, Blob) == before
    after = manifest(client, world)
    assert after.status_code == 200
    assert after.data == listed


def test_upload_form_command_refuses_media_named_with_a_control_character(
    app, runtime, world, tmp_path
):
    form = tmp_path / "registro_actor.xlsx"
    form.write_bytes((XLSFORMS / "registro_actor.xlsx").read_bytes())
    media = tmp_path / "media"
    media.mkdir()
    (media / "ayllus\nfalsos.csv").write_text("a,b\n")
    before = rows(runtime, Form, FormVersion, FormAttachment, Blob)

    result = app.test_cli_runner().invoke(
        args=["upload-form", str(form), "--media", str(media)]
    )

    assert result.exit_code == 1, result.output
    assert MEDIA_ES in result.stderr and MEDIA_EN in result.stderr
    assert "U+000A" in result.stderr
    assert rows(runtime, Form, FormVersion, FormAttachment, Blob) == before


def test_a_media_name_stored_by_an_older_ayni_cannot_break_the_manifest(
    client, runtime, world
):
    sign_in(client, "admin")
    assert post_media(client, "ayllus.csv").status_code == 302
    with runtime.db.transaction() as session:
        good = session.scalars(
            sa.select(FormAttachment).where(FormAttachment.name == "ayllus.csv")
        ).one()
        session.add(
            FormAttachment(
                form_version_id=good.form_version_id,
                name="viejo\x01.csv",
                content_type="text/csv",
                blob_id=good.blob_id,
            )
        )

    listed = manifest(client, world)

    assert listed.status_code == 200
    assert b"<filename>ayllus.csv</filename>" in listed.data
    assert b"viejo" not in listed.data
    download = client.get(
        f"/v1/key/{world.token}/projects/1/forms/encuesta/attachments/ayllus.csv"
    )
    assert download.status_code == 200
    # Adding media again carries the usable files over, not the broken one.
    assert post_media(client, "mesas.csv").status_code == 302
    relisted = manifest(client, world).data
    assert b"ayllus.csv" in relisted and b"mesas.csv" in relisted
    assert b"viejo" not in relisted
