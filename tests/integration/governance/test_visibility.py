"""The rule table of domain.md §4, on real records: for every access level and
consent pair, what each kind of viewer gets of a practice (FULL, COUNT_ONLY,
HIDDEN), and what a record reduced to a count still carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.db.models import Form, Submission, SubmissionVersion
from app.governance.records import Attachment, SubmissionRecord
from app.governance.rules import COUNT_FIELDS
from app.governance.visibility import Viewer, Visibility, governance_context
from tests.integration.governance.support import (
    GUARDED_AYLLU,
    VIEWER_KINDS,
    World,
    ingest,
    make_world,
    practice,
)

F, C, H = Visibility.FULL, Visibility.COUNT_ONLY, Visibility.HIDDEN
GRANTED_PAIRS = [("otorgado", "otorgado"), ("otorgado_condiciones", "otorgado")]
REFUSED_PAIRS = [
    ("pendiente", "otorgado"),
    ("otorgado", "negado"),
    ("otorgado_condiciones", "retirado"),
]
# Viewers, in VIEWER_KINDS order: anonymous, tablet (app user), analyst of the
# project, site admin (no guardian grant), guardian of the record's ayllu,
# guardian of another ayllu. The record's ayllu is GUARDED_AYLLU.
WITH_CONSENT = {
    #               anon tablet member admin guardian other
    "publico": (F, F, F, F, F, F),
    "comunitario": (H, H, F, F, F, F),
    "restringido": (H, H, C, C, F, C),
    None: (H, H, C, C, F, C),  # no level yet counts as restringido
    "sagrado": (H, H, C, C, C, C),
}
CASES = [
    pytest.param(
        level, colectivo, individual, row, id=f"{level}-{colectivo}-{individual}"
    )
    for level, row in WITH_CONSENT.items()
    for colectivo, individual in GRANTED_PAIRS[: 2 if level == "publico" else 1]
] + [
    pytest.param(
        level, colectivo, individual, (H,) * 6, id=f"{level}-{colectivo}-{individual}"
    )
    for level in WITH_CONSENT
    for colectivo, individual in REFUSED_PAIRS
]


def stored_record(runtime, submission_id: int) -> tuple[SubmissionRecord, int]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        row = session.execute(
            sa.select(Submission, SubmissionVersion.field_values, Form.id)
            .join(
                SubmissionVersion, SubmissionVersion.id == Submission.current_version_id
            )
            .join(Form, Form.id == Submission.form_id)
            .where(Submission.id == submission_id)
        ).one()
        submission = row.Submission
        record = SubmissionRecord(
            instance_id=submission.instance_id,
            submission_id=submission.id,
            submission_date=submission.created_at,
            updated_at=None,
            submitter_id=None,
            submitter_name=None,
            attachments_present=0,
            attachments_expected=0,
            status="",
            review_state="received",
            device_id=None,
            edits=0,
            form_version="",
            values=row.field_values,
            attachments=(Attachment("1732455064123.jpg", "0" * 64, "image/jpeg"),),
        )
        return record, row.id


def seen_by(runtime, world: World, submission_id: int):  # type: ignore[no-untyped-def]
    record, form_id = stored_record(runtime, submission_id)
    seen = {}
    with runtime.db.read() as session:
        form = session.get_one(Form, form_id)
        for kind in VIEWER_KINDS:
            context = governance_context(session, world.viewer(kind), form)
            decision = context.decide(record.values, submission_id)
            seen[kind] = (decision, context.apply(record))
    return record, seen


@pytest.mark.parametrize(("level", "colectivo", "individual", "expected"), CASES)
def test_each_viewer_gets_what_the_level_and_consents_allow(
    runtime, level, colectivo, individual, expected
):
    world = make_world(runtime)
    sid = practice(
        runtime,
        world.project_id,
        level=level,
        colectivo=colectivo,
        individual=individual,
        extra={"condiciones_acceso": "atribucion no_comercial"},
    )

    record, seen = seen_by(runtime, world, sid)

    assert {kind: seen[kind][0] for kind in VIEWER_KINDS} == dict(
        zip(VIEWER_KINDS, expected, strict=True)
    )
    effective = level or "restringido"
    for kind, (decision, applied) in seen.items():
        if decision is H:
            assert applied is None, kind
        elif decision is C:
            assert applied is not None
            assert applied.content_hidden, kind
            assert set(applied.values) <= set(COUNT_FIELDS), kind
            assert applied.values["ayllu"] == GUARDED_AYLLU
            assert applied.attachments == ()
            assert applied.access_level == effective
            assert applied.access_conditions is None
        else:
            assert applied is not None
            assert not applied.content_hidden
            assert applied.values == record.values
            assert applied.access_level == effective
            assert applied.access_conditions == "atribucion no_comercial"


def test_a_form_without_access_levels_is_for_project_members_only(runtime):
    world = make_world(runtime)
    sid = ingest(runtime, world.project_id, "necesidades_ayllu")

    record, seen = seen_by(runtime, world, sid)

    assert {kind: seen[kind][0] for kind in VIEWER_KINDS} == {
        "anonimo": H,
        "tableta": H,
        "miembro": F,
        "admin": F,
        "guardian": F,
        "guardian_otro": F,
    }
    assert seen["miembro"][1] == record
    assert seen["miembro"][1].access_level is None


def test_guardianship_is_per_project(runtime):
    world = make_world(runtime)
    sid = practice(runtime, world.project_id, level="restringido")
    record, form_id = stored_record(runtime, sid)
    guardian = world.actors["guardian"]
    assert guardian is not None
    with runtime.db.read() as session:
        # The same person viewing as if the records were another project's:
        # their guardianship (and membership) stop at their project.
        elsewhere = Viewer(actor=guardian, project_id=world.project_id + 1)
        form = session.get_one(Form, form_id)
        context = governance_context(session, elsewhere, form)
        assert context.decide(record.values, sid) is H


def test_a_count_only_copy_never_keeps_content_fields(runtime):
    world = make_world(runtime)
    sid = practice(
        runtime,
        world.project_id,
        level="restringido",
        extra={"contenido/descripcion": "receta secreta de la q'awa"},
    )
    record, form_id = stored_record(runtime, sid)
    assert "contenido" in record.values

    with runtime.db.read() as session:
        context = governance_context(
            session, world.viewer("admin"), session.get_one(Form, form_id)
        )
    counted = context.apply(record)

    assert counted is not None
    assert "q'awa" not in repr(counted)
    assert counted.values == {
        "ayllu": GUARDED_AYLLU,
        "dominio": "medicina",
        "nivel_acceso": "restringido",
        "fecha_registro": "2025-10-15",
    }
    assert counted.submission_date <= datetime.now(UTC)
