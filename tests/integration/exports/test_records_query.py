"""The query behind exports and the submission table scales with the rows.

On PostgreSQL a database filled since its last ANALYZE has no statistics; the
planner then guessed one row and nested-looped a grouped subquery per
submission, which made a large export quadratic. The counts are correlated
subqueries on indexes now, so no plan can aggregate a whole table per row.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from app.auth import accounts
from app.auth.actors import actor_for_user
from app.db.models import Submission
from app.governance.query import current_records
from app.submissions.service import Upload, ingest_submission
from tests.support import JPEG, encuesta_xml, new_instance_id, seed


def _plan(session, form_id: int) -> str:
    stmt = current_records(form_id).order_by(Submission.created_at.desc())
    sql = str(
        stmt.compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
        )
    )
    return "\n".join(row[0] for row in session.execute(sa.text(f"EXPLAIN {sql}")))


@pytest.mark.postgres
def test_record_counts_are_index_lookups_not_grouped_whole_tables(runtime):
    seeded = seed(runtime)
    _send(runtime, seeded.project_id, encuesta_xml(new_instance_id()), photo=JPEG)
    with runtime.db.read() as session:
        plan = _plan(session, session.scalar(sa.select(Submission.form_id)))
    assert "Group Key" not in plan, plan
    assert plan.count("SubPlan") == 3, plan


def _send(runtime, project_id: int, xml: bytes, photo: bytes | None = None) -> None:
    parts = {}
    if photo is not None:
        parts["1732455064123.jpg"] = ("1732455064123.jpg", io.BytesIO(photo))
    with runtime.db.transaction() as session:
        admin = accounts.find_user(session, "admin")
        ingest_submission(
            session,
            runtime.blobs,
            project_id=project_id,
            upload=Upload(xml=xml, parts=parts),
            actor=actor_for_user(session, admin),
        )


def test_records_carry_attachment_and_edit_counts(runtime):
    seeded = seed(runtime)
    complete, partial, edited = (new_instance_id() for _ in range(3))
    _send(runtime, seeded.project_id, encuesta_xml(complete), photo=JPEG)
    _send(runtime, seeded.project_id, encuesta_xml(partial))
    _send(runtime, seeded.project_id, encuesta_xml(edited, foto=None))
    _send(
        runtime,
        seeded.project_id,
        encuesta_xml(new_instance_id(), foto=None, deprecated_id=edited),
    )
    with runtime.db.read() as session:
        form_id = session.scalar(sa.select(Submission.form_id).limit(1))
        rows = {
            row.instance_id: row
            for row in session.execute(current_records(form_id)).all()
        }
    assert len(rows) == 3
    counts = {iid: (row.expected, row.present, row.edits) for iid, row in rows.items()}
    assert counts == {complete: (1, 1, 0), partial: (1, 0, 0), edited: (0, 0, 1)}
