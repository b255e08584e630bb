"""What an older Ayni stored of a sacred practice is reduced to its minimal
record when the rules are applied again (`ayni scrub-knowledge`, run by
`ayni setup` at every start): content, instanceName and files go, the bytes
no other record uses are erased, the audit log says so, and a second run
changes nothing."""

from __future__ import annotations

import hashlib
import io
import uuid

import sqlalchemy as sa

from app.blobs import save_blob
from app.db.models import (
    AuditLog,
    Blob,
    Form,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
)
from app.forms import service as forms_service
from tests.integration.governance.support import make_world, practice

SECRET = "receta-del-abuelo-6610"
PHOTO = f"foto de {SECRET} ".encode() * 50


def stored_as_before(runtime, world, *, level: str, photo: bytes) -> int:  # type: ignore[no-untyped-def]
    """A practice as an older Ayni could have kept it: the level spelled in a
    way it did not recognise, the content and a photo stored."""
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = (
        f"<data id='practica_saber' version='{_version(runtime)}'>"
        "<ayllu>aransaya</ayllu><dominio>medicina</dominio>"
        "<fecha_registro>2025-10-15</fecha_registro>"
        "<consentimiento><consentimiento_colectivo>otorgado</consentimiento_colectivo>"
        "<consentimiento_individual>otorgado</consentimiento_individual>"
        f"</consentimiento><nivel_acceso>{level}</nivel_acceso>"
        f"<contenido><descripcion>{SECRET}</descripcion></contenido>"
        f"<meta><instanceID>{instance_id}</instanceID>"
        f"<instanceName>{SECRET}</instanceName></meta></data>"
    ).encode()
    with runtime.db.transaction() as session:
        form = session.scalars(
            sa.select(Form).where(Form.xml_form_id == "practica_saber")
        ).one()
        submission = Submission(
            form_id=form.id, instance_id=instance_id, instance_name=SECRET
        )
        session.add(submission)
        session.flush()
        version = SubmissionVersion(
            submission_id=submission.id,
            form_id=form.id,
            form_version_id=form.current_version_id,
            instance_id=instance_id,
            instance_name=SECRET,
            xml=xml,
            xml_sha256=hashlib.sha256(xml).hexdigest(),
            field_values={"nivel_acceso": level, "contenido": {"descripcion": SECRET}},
        )
        session.add(version)
        session.flush()
        submission.current_version_id = version.id
        blob = save_blob(session, runtime.blobs, io.BytesIO(photo), "image/jpeg")
        session.add(
            SubmissionAttachment(
                submission_version_id=version.id, name="foto.jpg", blob_id=blob.id
            )
        )
        return version.id


def _version(runtime) -> str:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        form = forms_service.find_form(session, 1, "practica_saber")
        return forms_service.current_version(session, form).version


def scrub(app) -> str:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["scrub-knowledge"])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_older_sacred_record_loses_its_content_files_and_bytes(app, runtime):
    world = make_world(runtime)
    version_id = stored_as_before(runtime, world, level=" Sagrado ", photo=PHOTO)
    with runtime.db.read() as session:
        sha = session.scalars(sa.select(Blob.sha256)).all()
    blob_files = [runtime.blobs.path_for(s) for s in sha]  # type: ignore[attr-defined]
    assert any(PHOTO[:40] in p.read_bytes() for p in blob_files if p.exists())

    output = scrub(app)

    assert "1 reducidas / reduced, 1 archivos borrados" in output
    with runtime.db.read() as session:
        version = session.get_one(SubmissionVersion, version_id)
        assert SECRET.encode() not in version.xml
        assert SECRET not in str(version.field_values)
        assert version.field_values["nivel_acceso"] == "sagrado"
        assert version.instance_name is None
        submission = session.get_one(Submission, version.submission_id)
        assert submission.instance_name is None
        assert session.scalar(sa.select(sa.func.count(SubmissionAttachment.id))) == 0
        assert session.scalar(sa.select(sa.func.count(Blob.id))) == 0
        [entry] = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "submission.content_dropped")
        ).all()
        assert entry.details["stored_before"] is True
        assert entry.details["files"] == 1
        assert "contenido/descripcion" in entry.details["fields"]
        assert SECRET not in str(entry.details)
    assert not any(p.exists() for p in blob_files)


def test_bytes_another_record_uses_are_kept_and_a_second_run_changes_nothing(
    app, runtime
):
    world = make_world(runtime)
    stored_as_before(runtime, world, level="SAGRADO", photo=PHOTO)
    shared = stored_as_before(runtime, world, level="publico", photo=PHOTO)
    kept = practice(runtime, world.project_id, level="publico")

    assert "1 reducidas / reduced" in scrub(app)
    assert "0 reducidas / reduced, 0 archivos borrados" in scrub(app)

    with runtime.db.read() as session:
        # The publico record still names the photo: its bytes stay.
        assert session.scalar(sa.select(sa.func.count(Blob.id))) == 1
        version = session.get_one(SubmissionVersion, shared)
        assert SECRET.encode() in version.xml
        current = session.scalar(
            sa.select(Submission.current_version_id).where(Submission.id == kept)
        )
        assert session.get_one(SubmissionVersion, current).instance_name


def test_setup_applies_the_rules_to_what_is_stored(app, runtime):
    world = make_world(runtime)
    version_id = stored_as_before(runtime, world, level="Ságrado", photo=PHOTO)
    result = app.test_cli_runner().invoke(args=["setup", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert "registros reducidos a su registro mínimo" in result.output
    with runtime.db.read() as session:
        assert SECRET.encode() not in session.get_one(SubmissionVersion, version_id).xml
