"""`/healthz`, first-start bootstrap and the administration CLI."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from app.auth import accounts, passwords, permissions
from app.auth.actors import actor_for_user
from app.db.models import Project, RoleAssignment, User
from app.projects import service as projects_service
from app.projects.errors import ProjectNotFoundError
from app.system.service import bootstrap


def test_healthz_is_200_when_database_migrations_and_blobs_are_fine(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_is_503_with_the_reason_when_the_database_is_not_migrated(
    make_app, tmp_path
):
    app = make_app(database_url=f"sqlite:///{tmp_path / 'new.db'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "migration" in " ".join(response.get_json()["problems"])


def test_healthz_is_503_when_the_blob_store_cannot_be_written(app, settings):
    shutil.rmtree(settings.blob_dir)
    settings.blob_dir.write_text("not a directory")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "blob" in " ".join(response.get_json()["problems"])


def _bootstrap(session, password=None):
    return bootstrap(
        session,
        project_name="CdP Chipaya",
        admin_user="admin",
        admin_email="admin@localhost",
        admin_password=password,
        admin_collect_enabled=True,
    )


def test_first_start_creates_default_project_and_admin_with_generated_password(
    runtime,
):
    with runtime.db.transaction() as session:
        report = _bootstrap(session)
    assert report.project_created
    assert report.admin_username == "admin"
    assert report.admin_password
    with runtime.db.read() as session:
        user = accounts.authenticate(session, "admin", report.admin_password)
        assert user is not None and user.collect_enabled
        actor = actor_for_user(session, user)
        assert permissions.can(actor, "user.create", permissions.SITE)
        assert user.digest_ha1 == passwords.digest_ha1("admin", report.admin_password)


def test_second_start_changes_nothing(runtime):
    with runtime.db.transaction() as session:
        _bootstrap(session)
    with runtime.db.transaction() as session:
        report = _bootstrap(session)
    assert not report.project_created and report.admin_password is None
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count(Project.id))) == 1
        assert session.scalar(sa.select(sa.func.count(User.id))) == 1
        assert session.scalar(sa.select(sa.func.count(RoleAssignment.id))) == 1


def test_the_database_refuses_a_second_default_project(runtime):
    with runtime.db.transaction() as session:
        _bootstrap(session)
    with pytest.raises(sa.exc.IntegrityError), runtime.db.transaction() as session:
        session.add(Project(name="Otro", is_default=True))
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count(Project.id))) == 1


def test_a_first_start_that_lost_the_race_uses_the_winners_project(
    runtime, monkeypatch
):
    # Both first starts saw no default project; the other one committed first.
    with runtime.db.transaction() as session:
        _bootstrap(session)
    real = projects_service.default_project
    calls = []

    def not_yet_seen(session):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise ProjectNotFoundError()
        return real(session)

    monkeypatch.setattr(projects_service, "default_project", not_yet_seen)
    with runtime.db.transaction() as session:
        project, created = projects_service.ensure_default_project(session, "CdP")
        assert not created and project.name != "CdP"
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count(Project.id))) == 1


def test_admin_password_from_the_environment_is_used_and_not_echoed(app):
    result = app.test_cli_runner().invoke(args=["setup", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert "clave-de-prueba-123" not in result.output
    with app.extensions["ayni"].db.read() as session:
        assert accounts.authenticate(session, "admin@localhost", "clave-de-prueba-123")


def test_setup_prints_a_generated_password_once(app, settings):
    app.extensions["ayni"].settings = settings.with_(admin_password=None)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["setup", "--no-migrate"])
    second = runner.invoke(args=["setup", "--no-migrate"])
    assert "contraseña / password" in first.output
    assert "contraseña / password" not in second.output


def test_cli_creates_a_user_resets_the_password_and_lists_projects(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["setup", "--no-migrate"])
    created = runner.invoke(args=["create-user", "tecnica", "--collect"])
    assert created.exit_code == 0 and "Contraseña / Password:" in created.output
    reset = runner.invoke(
        args=["reset-password", "tecnica", "--password", "otra-clave-1234"]
    )
    assert reset.exit_code == 0
    with app.extensions["ayni"].db.read() as session:
        assert accounts.authenticate(session, "tecnica", "otra-clave-1234")
    duplicate = runner.invoke(args=["create-user", "tecnica"])
    assert duplicate.exit_code == 1 and "Ya existe" in duplicate.output
    listed = runner.invoke(args=["list-projects"])
    assert "CdP Chipaya" in listed.output


@pytest.mark.parametrize("password", ["corta", "contraseña-con-ñ-123"])
def test_passwords_collect_cannot_send_are_refused(runtime, password):
    from app.auth.errors import WeakPasswordError

    with pytest.raises(WeakPasswordError), runtime.db.transaction() as session:
        accounts.create_user(session, username="x", email="x@x", password=password)
