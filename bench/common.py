"""A fresh, migrated database and the Settings a benchmark serves it with.

Every script in `bench/` starts from an empty database of its own: an SQLite
file in the run's temporary directory, or a PostgreSQL database that is
dropped and recreated (never the test suite's own unless asked for).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.config import Settings, normalize_database_url  # noqa: E402
from app.db.migrate import upgrade  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def bench_postgres_url(suffix: str = "_bench") -> str:
    """`<TEST_DATABASE_URL>_bench`: next to the suite's database, not it."""
    base = sa.engine.make_url(
        normalize_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES))
    )
    name = f"{base.database}{suffix}"
    return base.set(database=name).render_as_string(hide_password=False)


def recreate_postgres(url: str) -> None:
    """Drop the database in `url` (closing its connections) and create it
    empty, from the server's maintenance database."""
    target = sa.engine.make_url(normalize_database_url(url))
    shown = target.render_as_string(hide_password=True)
    print(f"resetting PostgreSQL database {shown}", file=sys.stderr)
    admin = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        name = target.database
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def prepare(
    backend: str,
    workdir: Path,
    *,
    postgres_url: str | None = None,
    **settings: Any,
) -> Settings:
    """Migrate an empty database for `backend` ("sqlite" | "postgres") and
    return Settings whose instance and blob directories live in `workdir`."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        url = normalize_database_url(postgres_url or bench_postgres_url())
        recreate_postgres(url)
    upgrade(url)
    defaults: dict[str, Any] = {
        "instance_dir": workdir / "instance",
        "app_env": "test",
        "database_url": url,
        "blob_dir": workdir / "blobs",
        "secret_key": "bench",
        "load_forms_on_start": False,
    }
    return Settings(**(defaults | settings))
