"""The schema only ever changes through migrations, and they agree with the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.db import create_db_engine
from app.db.base import Base
from app.db.migrate import current_revision, downgrade, head_revision, upgrade
from tests.conftest import TEST_DATABASE_URL, is_postgres, reset_postgres_schema


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test, not shared with other tests."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    base = sa.engine.make_url(TEST_DATABASE_URL or "").set(
        drivername="postgresql+psycopg"
    )
    name = f"{base.database}_scratch"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def table_names(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_describe_the_same_schema(migrated_template: str):
    engine = create_db_engine(migrated_template)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrade_downgrade_upgrade_round_trip_leaves_the_schema_at_head(
    scratch_url: str,
):
    expected = {t.name for t in Base.metadata.sorted_tables}
    upgrade(scratch_url)
    assert expected <= table_names(scratch_url)
    downgrade(scratch_url, "base")
    assert table_names(scratch_url) <= {"alembic_version"}
    upgrade(scratch_url)
    assert expected <= table_names(scratch_url)
    engine = create_db_engine(scratch_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_every_migration_has_a_docstring_and_a_downgrade():
    versions = Path(__file__).resolve().parents[2] / "migrations" / "versions"
    files = sorted(versions.glob("*.py"))
    assert files
    for path in files:
        text = path.read_text()
        assert text.startswith('"""'), path.name
        assert "def downgrade() -> None:\n    pass" not in text, path.name


@pytest.mark.postgres
def test_schema_reset_helper_only_touches_the_public_schema(scratch_url: str):
    upgrade(scratch_url)
    reset_postgres_schema(scratch_url)
    assert table_names(scratch_url) == set()
