"""Ethics of the practice form (domain.md §4): content only with both consents
granted and never for `sagrado`, in the XForm and again at ingest."""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lxml import etree

from app.auth.accounts import find_user
from app.auth.actors import actor_for_user
from app.db.models import AuditLog, SubmissionVersion
from app.forms.compiler import compile_xlsform
from app.forms.service import publish_form, schema_of
from app.forms.xform import FormSchema, parse_xform
from app.governance.intake import MINIMAL_FIELDS
from app.governance.rules import ACCESS_LEVELS, GRANTED
from app.submissions.service import Upload, ingest_submission
from tests.conftest import is_postgres
from tests.integration.forms.instances import (
    FORMS_DIR,
    ROOT_NAME,
    XLSFORMS_DIR,
    binds,
    build_instance,
    evaluate,
    is_note,
)
from tests.support import counts, seed

CONSENTS = ["otorgado", "otorgado_condiciones", "pendiente", "negado", "retirado"]
LEVELS = ["publico", "comunitario", "restringido", "sagrado"]
# domain.md §4: a sacred practice keeps only that it exists: domain, ayllu,
# place and date, the consents and who recorded it (Collect's metadata).
MINIMAL_RECORD = frozenset(
    {
        *("start", "end", "today", "deviceid", "username", "meta"),
        *("ayllu", "comunidad", "dominio", "fecha_registro"),
        *("consentimiento", "nivel_acceso"),
    }
)
KEPT_TOP = frozenset(path.split("/")[0] for path in MINIMAL_FIELDS) | {"meta"}
COMBINATIONS = list(itertools.product(CONSENTS, CONSENTS, LEVELS))
COLECTIVO = "consentimiento/consentimiento_colectivo"
INDIVIDUAL = "consentimiento/consentimiento_individual"
XML = (FORMS_DIR / "practica_saber.xml").read_bytes()
SCHEMA = parse_xform(XML)
BINDS = binds(XML)


def instance(
    colectivo: str, individual: str, level: str, path: str = ""
) -> etree._Element:
    """A practice instance with the consents and level; returns the element at
    `path` (created empty, with its ancestors), or the root."""
    root = etree.Element(ROOT_NAME, id=SCHEMA.xml_form_id, version=SCHEMA.version)
    consent = etree.SubElement(root, "consentimiento")
    etree.SubElement(consent, "consentimiento_colectivo").text = colectivo
    etree.SubElement(consent, "consentimiento_individual").text = individual
    etree.SubElement(root, "nivel_acceso").text = level
    element = root
    for step in [s for s in path.split("/") if s]:
        found = element.find(step)
        element = found if found is not None else etree.SubElement(element, step)
    return element


def relevant_at(path: str, colectivo: str, individual: str, level: str) -> bool:
    """Whether the question is shown: its own and every enclosing relevance."""
    element = instance(colectivo, individual, level, path)
    steps = path.split("/")
    for depth in range(len(steps), 0, -1):
        field = SCHEMA.field("/".join(steps[:depth]))
        assert field is not None
        if field.relevant and not evaluate(field.relevant, element):
            return False
        element = element.getparent()
    return True


def content_fields(schema: FormSchema) -> list[str]:
    """Every question whose answer a sacred record must not keep."""
    return [
        f.path
        for f in schema.fields
        if f.kind == "field"
        and f.path not in MINIMAL_FIELDS
        and not is_note(BINDS.get(f.path, {}))
    ]


def test_consent_and_access_choices_are_the_ones_governance_knows():
    for path in (COLECTIVO, INDIVIDUAL):
        field = SCHEMA.field(path)
        assert field is not None
        assert [c.name for c in field.choices] == CONSENTS
    level = SCHEMA.field("nivel_acceso")
    assert level is not None
    assert [c.name for c in level.choices] == LEVELS == list(ACCESS_LEVELS)
    assert set(GRANTED) == {"otorgado", "otorgado_condiciones"}


def test_the_sacred_whitelist_keeps_no_more_than_the_minimal_record():
    assert KEPT_TOP <= MINIMAL_RECORD
    kept = [SCHEMA.field(path) for path in MINIMAL_FIELDS if SCHEMA.field(path)]
    # No kept leaf is a place for free description: choices, dates, metadata,
    # the place name and the acta reference only.
    free_text = {
        f.path for f in kept if f is not None and not f.choices and f.type == "string"
    }
    assert free_text <= {
        "comunidad",
        "consentimiento/acta_consentimiento",
        "deviceid",
        "username",
    }
    top_level_fields = {f.path for f in SCHEMA.fields if "/" not in f.path}
    assert top_level_fields >= MINIMAL_RECORD


def test_every_content_field_is_under_contenido_or_portador_or_hidden_for_sagrado():
    fields = content_fields(SCHEMA)
    assert {
        "contenido/descripcion",
        "contenido/pasos/paso",
        "contenido/origen",
        "portador/nombre",
        "ubicacion",
        "condiciones_acceso",
    } <= set(fields)
    assert {f.path for f in SCHEMA.binary_fields()} <= set(fields)

    # Consent details typed as free text (conditions, "other" bodies) and the
    # calculated instanceName are asked for even for a sacred practice; ingest
    # keeps none of them (the minimal record keeps the consents' choices).
    misplaced = [
        path
        for path in fields
        if path.split("/")[0] not in ("contenido", "portador", "consentimiento", "meta")
        and any(
            relevant_at(path, colectivo, individual, "sagrado")
            for colectivo, individual in itertools.product(CONSENTS, CONSENTS)
        )
    ]
    assert misplaced == []
    shown_for_sagrado = [
        path
        for path in fields
        if path.split("/")[0] not in ("consentimiento", "meta")
        for colectivo, individual in itertools.product(CONSENTS, CONSENTS)
        if relevant_at(path, colectivo, individual, "sagrado")
    ]
    assert shown_for_sagrado == []


@pytest.mark.parametrize("group", ["contenido", "portador"])
def test_content_groups_are_relevant_exactly_with_both_consents_and_not_sagrado(group):
    field = SCHEMA.field(group)
    assert field is not None
    assert field.kind == "group"
    assert field.relevant

    wrong = [
        (colectivo, individual, level)
        for colectivo, individual, level in COMBINATIONS
        if bool(evaluate(field.relevant, instance(colectivo, individual, level, group)))
        != (colectivo in GRANTED and individual in GRANTED and level != "sagrado")
    ]
    assert wrong == []
    assert len(COMBINATIONS) == 100


def test_the_instance_name_of_a_practice_uses_only_what_a_sacred_record_keeps():
    calculated = [
        f for f in SCHEMA.fields if f.calculate and f.path.split("/")[0] in KEPT_TOP
    ]
    assert "meta/instanceName" in {f.path for f in calculated}
    for field in calculated:
        referenced = re.findall(
            rf"/{ROOT_NAME}/([A-Za-z_][\w.-]*)", field.calculate or ""
        )
        assert referenced
        assert set(referenced) <= MINIMAL_RECORD, field.path


# --- at ingest -----------------------------------------------------------------


def publish_practica(runtime, project_id: int):  # type: ignore[no-untyped-def]
    path = XLSFORMS_DIR / "practica_saber.xlsx"
    compiled = compile_xlsform(path.read_bytes(), filename=path.name)
    assert compiled.xml == XML
    with runtime.db.transaction() as session:
        result = publish_form(
            session, runtime.blobs, project_id=project_id, compiled=compiled
        )
        return schema_of(result.version)


def ingest(runtime, project_id: int, xml: bytes, parts=None):  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        admin = find_user(session, "admin")
        assert admin is not None
        result = ingest_submission(
            session,
            runtime.blobs,
            project_id=project_id,
            upload=Upload(xml=xml, parts=parts or {}),
            actor=actor_for_user(session, admin),
        )
        return result.attachments_expected, result.attachments_present


@dataclass(frozen=True)
class Stored:
    xml: bytes
    field_values: dict[str, Any]
    instance_name: str | None


def stored(runtime, instance_id: str) -> Stored:
    with runtime.db.read() as session:
        version = session.scalars(
            sa.select(SubmissionVersion).where(
                SubmissionVersion.instance_id == instance_id
            )
        ).one()
        return Stored(version.xml, version.field_values, version.instance_name)


def audit_details(runtime, action: str | None = None) -> list[dict[str, Any]]:
    with runtime.db.read() as session:
        query = sa.select(AuditLog.details).order_by(AuditLog.id)
        if action is not None:
            query = query.where(AuditLog.action == action)
        return list(session.scalars(query))


def top_level(xml: bytes) -> list[str]:
    return [etree.QName(child).localname for child in etree.fromstring(xml)]


@pytest.mark.parametrize(
    ("colectivo", "individual"),
    [
        ("negado", "otorgado"),
        ("otorgado", "negado"),
        ("pendiente", "otorgado_condiciones"),
        ("otorgado_condiciones", "retirado"),
    ],
)
def test_denied_consent_leaves_the_practice_content_out(runtime, colectivo, individual):
    seeded = seed(runtime)
    schema = publish_practica(runtime, seeded.project_id)
    built = build_instance(
        schema,
        XML,
        {COLECTIVO: colectivo, INDIVIDUAL: individual, "nivel_acceso": "publico"},
    )

    expected, present = ingest(runtime, seeded.project_id, built.xml, built.parts)

    version = stored(runtime, built.instance_id)
    values = version.field_values
    # Without both consents only the minimal record is kept, as the form's own
    # note says: no content, no holder, and not the place either.
    assert set(values) <= MINIMAL_RECORD
    assert values["consentimiento"]["consentimiento_colectivo"] == colectivo
    assert values["consentimiento"]["consentimiento_individual"] == individual
    assert values["nivel_acceso"] == "publico"
    assert version.instance_name is None
    assert (expected, present) == (0, 0)
    dropped = audit_details(runtime, "submission.content_dropped")
    assert [d["reason"] for d in dropped] == ["consent"]
    assert "ubicacion" in dropped[0]["fields"]


def test_a_sacred_record_sent_as_collect_sends_it_keeps_its_minimal_record(runtime):
    seeded = seed(runtime)
    schema = publish_practica(runtime, seeded.project_id)
    built = build_instance(schema, XML, {"nivel_acceso": "sagrado"})
    assert not {"contenido", "portador", "ubicacion", "condiciones_acceso"} & set(
        top_level(built.xml)
    ), "the form itself skips every content question"

    expected, present = ingest(runtime, seeded.project_id, built.xml)

    version = stored(runtime, built.instance_id)
    values = version.field_values
    assert set(values) <= MINIMAL_RECORD
    for name in ("ayllu", "comunidad", "dominio", "fecha_registro", "nivel_acceso"):
        assert values[name], name
    assert values["consentimiento"]["consentimiento_colectivo"] == "otorgado"
    assert values["consentimiento"]["acta_consentimiento"]
    assert values["meta"]["instanceID"] == built.instance_id
    assert "instanceName" not in values["meta"]
    assert version.instance_name is None
    assert (expected, present) == (0, 0)


def sqlite_files(runtime) -> list[Path]:
    database = sa.engine.make_url(runtime.settings.database_url).database or ""
    return [p for p in (Path(database), Path(f"{database}-wal")) if p.exists()]


def test_sagrado_content_sent_anyway_is_never_written(runtime, caplog):
    caplog.set_level(logging.DEBUG)
    seeded = seed(runtime)
    schema = publish_practica(runtime, seeded.project_id)
    # A full, consented record whose level is then switched to sagrado: the
    # content, the holder, the place and the media all arrive anyway.
    built = build_instance(schema, XML, {"nivel_acceso": "publico"})
    root = etree.fromstring(built.xml)
    level = root.find("nivel_acceso")
    assert level is not None
    level.text = "sagrado"
    xml = b"<?xml version='1.0' ?>" + etree.tostring(root, encoding="utf-8")
    sent = top_level(xml)
    assert {"contenido", "portador", "ubicacion"} <= set(sent)
    secrets = [
        w.value.split(" · ")[0]
        for w in built.written
        if str(w.location[0]) not in MINIMAL_RECORD
        and w.field.type in ("string", "binary", "geopoint")
        and not w.field.calculate
    ]
    media_marks = [data[:40] for data in built.media.values()]
    assert len(secrets) >= 20
    assert len(media_marks) == 5
    before = counts(runtime)

    expected, present = ingest(runtime, seeded.project_id, xml, built.parts)

    version = stored(runtime, built.instance_id)
    assert (expected, present) == (0, 0)
    assert counts(runtime)["submission_attachments"] == before["submission_attachments"]
    assert counts(runtime)["blobs"] == before["blobs"]
    assert set(top_level(version.xml)) <= MINIMAL_RECORD
    assert set(version.field_values) <= MINIMAL_RECORD
    assert version.field_values["nivel_acceso"] == "sagrado"
    assert version.field_values["dominio"] and version.field_values["ayllu"]
    leaked = [s for s in secrets if s.encode() in version.xml]
    leaked += [s for s in secrets if s in json.dumps(version.field_values)]
    assert leaked == []

    # The form's questions that carried content are named; empty ones (notes)
    # are dropped silently; files are only counted.
    dropped = audit_details(runtime, "submission.content_dropped")
    assert len(dropped) == 1
    assert dropped[0]["instance_id"] == built.instance_id
    assert dropped[0]["reason"] == "sagrado"
    assert dropped[0]["files"] == len(built.parts)
    assert {"contenido/descripcion", "portador/nombre", "ubicacion"} <= set(
        dropped[0]["fields"]
    )
    assert not set(dropped[0]["fields"]) & set(MINIMAL_FIELDS)
    assert "nota_inicio" not in dropped[0]["fields"]
    all_details = json.dumps(audit_details(runtime))
    assert [s for s in secrets if s in all_details] == []
    assert [s for s in secrets if s in caplog.text] == []

    blob_files = [p for p in Path(runtime.settings.blob_dir).rglob("*") if p.is_file()]
    for path in blob_files:
        data = path.read_bytes()
        assert not any(mark in data for mark in media_marks), path
    if not is_postgres():
        for path in sqlite_files(runtime):
            data = path.read_bytes()
            assert [s for s in secrets if s.encode() in data] == [], path
            assert not any(mark in data for mark in media_marks), path
