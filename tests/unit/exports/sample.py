"""A form and three records shared by the export writer tests.

The form has nested groups, a geopoint inside a group, a select_one, a
select_multiple, a top-level repeat with a geopoint and a nested repeat, a
repeat inside a group, and pyxform's meta block. The records are parsed from
instance XML the way ingest stores them (`extract_values`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from app.forms.compiler import compile_markdown
from app.forms.xform import FormSchema, parse_xform
from app.governance.records import SubmissionRecord
from app.submissions.parser import extract_values, parse_instance

FORM_MD = """
| survey |
| | type | name | label::Español (es) | label::English (en) |
| | start | inicio | | |
| | begin_group | datos | Datos | Data |
| | text | titulo | Título | Title |
| | begin_group | lugar | Lugar | Place |
| | select_one ayllus | ayllu | Ayllu | Ayllu |
| | geopoint | punto | Ubicación | Location |
| | end_group | | | |
| | end_group | | | |
| | select_multiple temas | temas | Temas | Topics |
| | integer | asistentes | Asistentes | Attendees |
| | begin_repeat | familia | Familia | Household |
| | text | jefe | Jefe de familia | Head of household |
| | geopoint | casa | Casa | House |
| | begin_repeat | persona | Persona | Person |
| | text | nombre | Nombre | Name |
| | decimal | edad | Edad | Age |
| | end_repeat | | | |
| | end_repeat | | | |
| | begin_group | visita | Visita | Visit |
| | begin_repeat | visitante | Visitante | Visitor |
| | text | nombre | Nombre | Name |
| | end_repeat | | | |
| | end_group | | | |
| | text | nota | Nota | Note |
| choices |
| | list_name | name | label::Español (es) | label::English (en) |
| | ayllus | manasaya | Manasaya | Manasaya |
| | ayllus | aransaya | Aransaya | Aransaya |
| | temas | agua | Agua | Water |
| | temas | suelo | Suelo | Soil |
| | temas | pesca | Pesca | Fishing |
| settings |
| | form_id | version |
| | encuentro | 2026-1 |
"""

_OPEN = '<?xml version=\'1.0\' ?><data id="encuentro" version="2026-1">'

R1_XML = (
    _OPEN + "<inicio>2026-11-24T09:15:00.000-04:00</inicio>"
    "<datos><titulo>Ayni &amp; minka</titulo><lugar><ayllu>manasaya</ayllu>"
    "<punto>-19.0432 -68.1291 3650.5 4.8</punto></lugar></datos>"
    "<temas>agua pesca</temas><asistentes>12</asistentes>"
    "<familia><jefe>Pedro Condori</jefe><casa>-19.05 -68.13 3651 5</casa>"
    "<persona><nombre>Ana</nombre><edad>34</edad></persona>"
    "<persona><nombre>Luis</nombre><edad>8.5</edad></persona></familia>"
    "<familia><jefe>Rosa Lázaro</jefe><casa />"
    "<persona><nombre>Eva</nombre><edad>61</edad></persona></familia>"
    "<visita><visitante><nombre>Técnico ONG</nombre></visitante></visita>"
    "<nota>Primera reunión</nota>"
    "<meta><instanceID>uuid:r1</instanceID></meta></data>"
)
R2_XML = (
    _OPEN + "<inicio /><datos><titulo /><lugar><ayllu /><punto /></lugar></datos>"
    "<temas /><asistentes /><visita /><nota />"
    "<meta><instanceID>uuid:r2</instanceID></meta></data>"
)
R3_XML = (
    _OPEN + "<inicio>2026-11-22T16:00:00.000-04:00</inicio>"
    '<datos><titulo>Línea 1, "dos"\nLínea 2</titulo><lugar><ayllu>aransaya</ayllu>'
    "<punto>-19.1 -68.2</punto></lugar></datos>"
    "<temas>suelo</temas><asistentes>3</asistentes>"
    "<familia><jefe /><casa /></familia>"
    "<visita><visitante><nombre>Ana</nombre></visitante>"
    "<visitante><nombre>-</nombre></visitante></visita>"
    "<nota>Sí</nota>"
    "<meta><instanceID>uuid:r3v2</instanceID></meta></data>"
)


def schema() -> FormSchema:
    return parse_xform(compile_markdown(FORM_MD).xml)


def values_of(xml: str, form: FormSchema) -> dict[str, Any]:
    _info, root = parse_instance(xml.encode("utf-8"))
    return extract_values(root, form)


def record(instance_id: str = "uuid:x", **overrides: Any) -> SubmissionRecord:
    base = SubmissionRecord(
        instance_id=instance_id,
        submission_id=1,
        submission_date=datetime(2026, 11, 24, 13, 31, 4, 123000, tzinfo=UTC),
        updated_at=None,
        submitter_id=7,
        submitter_name="Juana Mamani",
        attachments_present=0,
        attachments_expected=0,
        status="",
        review_state="received",
        device_id="collect:AbCdEfGh12345678",
        edits=0,
        form_version="2026-1",
    )
    return replace(base, **overrides)


def records(form: FormSchema) -> list[SubmissionRecord]:
    """The three records, in the order the service would send them."""
    return [
        record("uuid:r1", submission_id=1, values=values_of(R1_XML, form)),
        record(
            "uuid:r2",
            submission_id=2,
            submission_date=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
            submitter_id=None,
            submitter_name=None,
            attachments_expected=1,
            review_state="approved",
            device_id=None,
            values=values_of(R2_XML, form),
        ),
        record(
            "uuid:r3",
            submission_id=3,
            submission_date=datetime(2026, 11, 22, 20, 5, 30, 456789, tzinfo=UTC),
            updated_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            submitter_id=9,
            submitter_name='Equipo, "Mesa" 2',
            attachments_present=2,
            attachments_expected=2,
            review_state="hasIssues",
            device_id="collect:ZyXwVuTs98765432",
            edits=1,
            values=values_of(R3_XML, form),
        ),
    ]
