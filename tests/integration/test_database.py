"""Connection settings every connection carries, and the uniqueness the protocol
depends on, enforced by the database itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.db.models import (
    Blob,
    Form,
    FormVersion,
    Project,
    Submission,
    SubmissionVersion,
)
from app.db.types import utcnow
from tests.conftest import is_postgres


@pytest.mark.skipif(is_postgres(), reason="SQLite connection pragmas")
def test_every_sqlite_connection_has_wal_full_sync_foreign_keys_and_busy_timeout(
    runtime,
):
    engine = runtime.db.engine
    for _ in range(3):  # several pooled connections, each configured on connect
        with engine.connect() as conn:
            pragma = conn.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() >= 5000


def test_foreign_keys_are_enforced(runtime):
    with pytest.raises(IntegrityError), runtime.db.transaction() as session:
        session.add(Form(project_id=999, xml_form_id="x", title="x"))


def _form_version(session) -> tuple[Form, FormVersion]:
    project = Project(name="p")
    session.add(project)
    session.flush()
    form = Form(project_id=project.id, xml_form_id="f", title="F")
    session.add(form)
    session.flush()
    version = FormVersion(
        form_id=form.id,
        version="1",
        title="F",
        xml=b"<x/>",
        md5="0" * 32,
        sha1="0" * 40,
        sha256="0" * 64,
        field_schema={},
    )
    session.add(version)
    session.flush()
    return form, version


def test_instance_id_is_unique_per_form_at_the_database(runtime):
    with runtime.db.transaction() as session:
        form, version = _form_version(session)
        ids = (form.id, version.id)
    with pytest.raises(IntegrityError) as caught, runtime.db.transaction() as session:
        for _ in range(2):
            sub = Submission(form_id=ids[0], instance_id="uuid:1")
            session.add(sub)
            session.flush()
    assert "instance_id" in str(caught.value)
    with pytest.raises(IntegrityError), runtime.db.transaction() as session:
        sub = Submission(form_id=ids[0], instance_id="uuid:2")
        session.add(sub)
        session.flush()
        for n in range(2):
            session.add(
                SubmissionVersion(
                    submission_id=sub.id,
                    form_id=ids[0],
                    form_version_id=ids[1],
                    instance_id="uuid:2",
                    xml=b"<d/>",
                    xml_sha256=str(n),
                    field_values={},
                )
            )
            session.flush()


def test_form_version_string_is_unique_per_form(runtime):
    with pytest.raises(IntegrityError), runtime.db.transaction() as session:
        form, _version = _form_version(session)
        session.add(
            FormVersion(
                form_id=form.id,
                version="1",
                title="F",
                xml=b"<y/>",
                md5="1" * 32,
                sha256="1" * 64,
                field_schema={},
            )
        )
        session.flush()


def test_blob_sha256_is_unique(runtime):
    with pytest.raises(IntegrityError), runtime.db.transaction() as session:
        for _ in range(2):
            session.add(Blob(sha256="a" * 64, md5="b" * 32, size=1))
            session.flush()


def test_datetimes_come_back_aware_and_in_utc(runtime):
    now = utcnow()
    with runtime.db.transaction() as session:
        project = Project(name="p", created_at=now)
        session.add(project)
    with runtime.db.read() as session:
        stored = session.scalar(sa.select(Project.created_at))
    assert stored == now
    assert stored.utcoffset().total_seconds() == 0
