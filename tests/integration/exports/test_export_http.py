"""Exports over HTTP: every format, governance in every format, formula
injection, filters, rights, streaming and the audit trail."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from app.auth import app_users, roles, sessions
from app.db.models import AuditLog, Submission, User
from app.db.types import utcnow
from app.exports import service as exports_service
from tests.integration.governance.support import (
    GUARDED_AYLLU,
    OTHER_AYLLU,
    ingest,
    make_world,
    practice,
)

FORMATS = ["csv.zip", "csv", "xlsx", "geojson", "jsonl"]
SECRET = "Receta-secreta-de-la-abuela"


def bearer(runtime, username: str) -> dict[str, str]:
    with runtime.db.transaction() as session:
        user = session.scalars(sa.select(User).where(User.username == username)).one()
        token = sessions.create_session(session, user).token
    return {"Authorization": f"Bearer {token}"}


def export_text(client, headers, form_id: str, fmt: str, query: str = "") -> str:
    url = f"/v1/projects/1/forms/{form_id}/submissions.{fmt}{query}"
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.data[:500]
    data = response.data
    if fmt == "csv.zip":
        archive = zipfile.ZipFile(io.BytesIO(data))
        return "\n".join(
            archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
        )
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        cells = [
            str(cell)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        ]
        book.close()
        return "\n".join(cells)
    return data.decode()


@pytest.fixture
def world(runtime):
    return make_world(runtime)


def secret_practice(runtime, world, level: str, ayllu: str = GUARDED_AYLLU) -> int:
    return practice(
        runtime,
        world.project_id,
        level=level,
        ayllu=ayllu,
        extra={"contenido/descripcion": f"{SECRET}-{level}"},
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_restricted_practice_does_not_leak_to_a_member_without_guardianship(
    client, runtime, world, fmt
):
    secret_practice(runtime, world, "restringido")
    secret_practice(runtime, world, "publico")
    text = export_text(client, bearer(runtime, "analista"), "practica_saber", fmt)
    assert f"{SECRET}-publico" in text
    assert f"{SECRET}-restringido" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_guardian_of_the_ayllu_sees_the_restricted_practice(
    client, runtime, world, fmt
):
    secret_practice(runtime, world, "restringido")
    secret_practice(runtime, world, "restringido", ayllu=OTHER_AYLLU)
    text = export_text(client, bearer(runtime, "guardiana"), "practica_saber", fmt)
    assert f"{SECRET}-restringido" in text
    assert text.count(f"{SECRET}-restringido") == (
        # the zip's root table only; repeats carry no description
        1
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_site_admin_is_no_guardian(client, runtime, world, fmt):
    secret_practice(runtime, world, "restringido")
    text = export_text(client, bearer(runtime, "admin"), "practica_saber", fmt)
    assert SECRET not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_denied_or_withdrawn_consent_hides_the_record_in_every_format(
    client, runtime, world, fmt
):
    from app.governance.consent import withdraw_consent
    from tests.support import admin_actor

    practice(
        runtime,
        world.project_id,
        level="publico",
        individual="negado",
        extra={"contenido/descripcion": f"{SECRET}-negado"},
    )
    withdrawn = secret_practice(runtime, world, "publico")
    with runtime.db.transaction() as session:
        withdraw_consent(
            session,
            admin_actor(session),
            project_id=world.project_id,
            layer="individual",
            reason="La portadora lo pidió",
            submission_id=withdrawn,
        )
    text = export_text(client, bearer(runtime, "guardiana"), "practica_saber", fmt)
    assert SECRET not in text


def test_aggregates_show_only_counts_of_restricted_practices(client, runtime, world):
    practice(runtime, world.project_id, level="restringido", origen="intercambio")
    practice(runtime, world.project_id, level="publico", origen="ancestral")
    analyst = client.get(
        "/v1/projects/1/aggregates/practicas", headers=bearer(runtime, "analista")
    )
    guardian = client.get(
        "/v1/projects/1/aggregates/practicas", headers=bearer(runtime, "guardiana")
    )
    assert analyst.status_code == 200 and guardian.status_code == 200
    analyst_text, guardian_text = (
        json.dumps(analyst.get_json()),
        json.dumps(guardian.get_json()),
    )
    assert "intercambio" not in analyst_text
    assert "intercambio" in guardian_text
    csv = client.get(
        "/v1/projects/1/aggregates/practicas.csv", headers=bearer(runtime, "analista")
    )
    assert csv.content_type.startswith("text/csv")
    assert "intercambio" not in csv.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["csv.zip", "csv", "xlsx"])
def test_cells_that_would_run_as_formulas_are_neutralised(client, runtime, world, fmt):
    ingest(
        runtime,
        world.project_id,
        "registro_actor",
        {"nombre": '=HYPERLINK("http://x","clic")', "observaciones": "@SUM(A1)"},
    )
    text = export_text(client, bearer(runtime, "analista"), "registro_actor", fmt)
    assert "'=HYPERLINK" in text
    assert "'@SUM(A1)" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text


def test_json_formats_keep_values_as_sent(client, runtime, world):
    ingest(runtime, world.project_id, "registro_actor", {"nombre": "=1+2"})
    text = export_text(client, bearer(runtime, "analista"), "registro_actor", "jsonl")
    assert json.loads(text.splitlines()[0])["nombre"] == "=1+2"


def test_filters_by_date_review_state_ayllu_mesa_and_deleted(client, runtime, world):
    first = ingest(
        runtime, world.project_id, "necesidades_ayllu", {"ayllu": "aransaya"}
    )
    second = ingest(
        runtime, world.project_id, "necesidades_ayllu", {"ayllu": "manasaya"}
    )
    with runtime.db.transaction() as session:
        session.get(Submission, second).review_state = "approved"
    headers = bearer(runtime, "analista")

    def count(query: str) -> int:
        text = export_text(client, headers, "necesidades_ayllu", "csv", query)
        return len(text.strip().splitlines()) - 1

    assert count("") == 2
    assert count("?ayllu=manasaya") == 1
    assert count("?reviewState=approved") == 1
    assert count("?reviewState=received,approved") == 2
    assert count("?since=2999-01-01") == 0
    assert count("?until=2000-01-01") == 0
    with runtime.db.transaction() as session:
        session.get(Submission, first).deleted_at = utcnow()
    assert count("") == 1
    assert count("?deleted=true") == 2
    ingest(
        runtime,
        world.project_id,
        "reunion_cdp",
        {"mesa": "educacion_salud turismo_cultura"},
    )
    ingest(runtime, world.project_id, "reunion_cdp", {"mesa": "autonomia"})
    text = export_text(client, headers, "reunion_cdp", "csv", "?mesa=turismo_cultura")
    assert len(text.strip().splitlines()) == 2


def test_exports_need_a_signed_in_member(client, runtime, world):
    ingest(runtime, world.project_id, "registro_actor")
    url = "/v1/projects/1/forms/registro_actor/submissions.csv"
    anonymous = client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.content_type == "application/json"
    with runtime.db.transaction() as session:
        token = session.scalars(sa.select(sa.text("token FROM app_users"))).first()
    tablet = client.get(f"{url}?st={token}")
    assert tablet.status_code == 403
    with runtime.db.transaction() as session:
        collector = User(username="encuestador", email="e@x", display_name="E")
        session.add(collector)
        session.flush()
        roles.assign_role(
            session, role="data_collector", user_id=collector.id, project_id=1
        )
    assert client.get(url, headers=bearer(runtime, "encuestador")).status_code == 403
    bad = client.get(f"{url}?labels=fr", headers=bearer(runtime, "analista"))
    assert bad.status_code == 400


def test_csv_zip_names_follow_central_and_carry_media(client, runtime, world):
    from tests.integration.forms.instances import build_instance
    from tests.integration.governance.support import SCHEMAS, XML

    built = build_instance(SCHEMAS["reunion_cdp"], XML["reunion_cdp"])
    url = "/v1/key/{t}/projects/1/submission"
    with runtime.db.read() as session:
        token = app_users.list_app_users(session, 1)[0].token
    data = {"xml_submission_file": (io.BytesIO(built.xml), "i.xml", "text/xml")}
    for name, (filename, stream) in built.parts.items():
        data[name] = (stream, filename)
    response = client.post(
        url.format(t=token), data=data, headers={"X-OpenRosa-Version": "1.0"}
    )
    assert response.status_code == 201
    headers = bearer(runtime, "analista")
    with_media = client.get(
        "/v1/projects/1/forms/reunion_cdp/submissions.csv.zip", headers=headers
    )
    assert "filename=reunion_cdp.zip" in with_media.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(with_media.data)).namelist()
    assert names[0] == "reunion_cdp.csv"
    assert "reunion_cdp-asistentes.csv" in names
    assert any(n.startswith("media/") for n in names)
    without = client.get(
        "/v1/projects/1/forms/reunion_cdp/submissions.csv.zip?attachments=false",
        headers=headers,
    )
    assert "filename=reunion_cdp.csv.zip" in without.headers["Content-Disposition"]
    assert not any(
        n.startswith("media/")
        for n in zipfile.ZipFile(io.BytesIO(without.data)).namelist()
    )


def test_every_export_is_written_to_the_audit_log(client, runtime, world):
    export_text(
        client, bearer(runtime, "analista"), "registro_actor", "xlsx", "?ayllu=aransaya"
    )
    with runtime.db.read() as session:
        rows = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "export.create")
        ).all()
    assert len(rows) == 1
    assert rows[0].details["format"] == "xlsx"
    assert rows[0].details["ayllu"] == "aransaya"


def test_the_first_bytes_leave_before_the_last_record_is_read(
    runtime, world, monkeypatch
):
    for n in range(40):
        ingest(runtime, world.project_id, "registro_actor", {"nombre": f"Actor {n}"})
    consumed = []
    real = exports_service.iter_records

    def counting(*args, **kwargs):  # a wrapper around the real reader, not a mock
        for record in real(*args, **kwargs):
            consumed.append(record.instance_id)
            yield record

    monkeypatch.setattr(exports_service, "iter_records", counting)
    with runtime.db.read() as session:
        actor = world.actors["miembro"]
        for fmt in ("csv.zip", "xlsx", "jsonl", "csv"):
            consumed.clear()
            plan = exports_service.plan_export(
                session,
                project_id=1,
                xml_form_id="registro_actor",
                actor=actor,
                options=exports_service.ExportOptions(format=fmt),
            )
            chunks = exports_service.export_chunks(session, runtime.blobs, plan)
            first = next(chunks)
            assert first
            assert len(consumed) < 40, fmt
            rest = b"".join(chunks)
            assert len(consumed) == 40
            assert rest


def test_cli_writes_an_export_and_prints_aggregates(app, runtime, world, tmp_path):
    ingest(runtime, world.project_id, "necesidades_ayllu")
    out = tmp_path / "necesidades.xlsx"
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "export",
            "necesidades_ayllu",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--as",
            "analista",
            "--labels",
            "es",
        ]
    )
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames[0] == "necesidades_ayllu"
    figures = runner.invoke(args=["aggregate", "necesidades", "--as", "analista"])
    assert figures.exit_code == 0, figures.output
    assert isinstance(json.loads(figures.output), list)
