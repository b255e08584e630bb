"""Alembic environment: the only way Ayni's schema is created or changed.

The URL comes from `Settings.from_env()` unless the caller passed a connection
(tests, `app.db.migrate`). Batch mode lets SQLite alter tables; compare_type
makes `alembic check` catch type drift between models and migrations.
"""

from __future__ import annotations

from alembic import context

import app.db.models  # noqa: F401  (registers every table on Base.metadata)
from app.config import Settings
from app.db import create_db_engine
from app.db.base import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    _configure(url=Settings.from_env().database_url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("database_url") or Settings.from_env().database_url
    engine = create_db_engine(url)
    with engine.connect() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
