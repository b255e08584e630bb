"""Shared fixtures: a real, migrated database per test, on SQLite or PostgreSQL.

The backend is chosen by `TEST_DATABASE_URL` (unset: SQLite). Schemas are built
by migrating, never with `create_all`. Isolation per test:
- SQLite: a migrated template file is copied into the test's own directory;
- PostgreSQL: one migrated database for the run, every table truncated before
  each test. Tests commit for real, so a server process started by a test sees
  exactly what the test wrote.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Settings, normalize_database_url
from app.db import create_db_engine
from app.db.base import Base
from app.db.migrate import upgrade
from app.runtime import Runtime
from tests.server import LiveServer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def is_postgres() -> bool:
    return bool(TEST_DATABASE_URL)


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if is_postgres():
        return
    skip = pytest.mark.skip(reason="PostgreSQL leg only (TEST_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def reset_postgres_schema(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at head: a template file (SQLite) or the test database."""
    if is_postgres():
        url = normalize_database_url(TEST_DATABASE_URL or "")
        reset_postgres_schema(url)
        upgrade(url)
        return url
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_db_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return url


def _truncate_all(url: str) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    """A clean, migrated database for this test only."""
    if is_postgres():
        _truncate_all(migrated_template)
        return migrated_template
    source = Path(sa.engine.make_url(migrated_template).database or "")
    target = tmp_path / "ayni.sqlite3"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        instance_dir=tmp_path / "instance",
        app_env="test",
        database_url=database_url,
        blob_dir=tmp_path / "blobs",
        secret_key="test-secret-key",
        admin_password="clave-de-prueba-123",
        load_forms_on_start=False,
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["ayni"].db.dispose()


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    """Build more apps on this test's database with some settings changed.

    Each one's engine is disposed after the test: a pooled connection left to
    the garbage collector fails a later, unrelated test with a ResourceWarning.
    """
    made: list[Flask] = []

    def make(**changes: object) -> Flask:
        application = create_app(settings.with_(**changes))
        application.config["TESTING"] = True
        made.append(application)
        return application

    yield make
    for application in made:
        application.extensions["ayni"].db.dispose()


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    return app.extensions["ayni"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(runtime: Runtime) -> Iterator[sa.orm.Session]:
    """A session for arranging and checking; commit explicitly to share data."""
    with runtime.db.read() as db_session:
        yield db_session


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """gunicorn serving this test's database and blob directory."""
    server = LiveServer(settings).start()
    yield server
    server.stop()
