"""Database access: engine, sessions and transactions for one application.

Owns the connection settings every connection must carry (SQLite: WAL,
synchronous=FULL, foreign keys, busy timeout), the SQLite file's privacy (0600,
its directory created 0700), and the transaction boundary the edges use
(`with database.transaction() as session:`). Nothing here is a module global:
each application builds its own `Database`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import private_dir, private_file
from app.db.base import Base

__all__ = ["Base", "Database", "create_db_engine", "dialect_insert"]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that BEGIN is ours
    # (below); the pragmas then run outside any transaction, as they must.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL: a 201 to a tablet means the row survived a power cut (design.md).
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # Write transactions BEGIN IMMEDIATE: the write lock is taken up front, so two
    # workers writing at once wait on busy_timeout instead of failing with
    # "database is locked" on a read-to-write upgrade mid-transaction. Reads stay
    # DEFERRED so that, under WAL, they never wait for a writer.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _private_sqlite_file(path: Path) -> None:
    """Make the database file 0600 before SQLite opens it.

    SQLite creates a new database with 0644 under the usual umask, and its -wal
    and -shm files take the database file's mode when it creates them; every
    submission passes through them. So the file is created here, empty and
    0600 (SQLite takes an empty file as a new database), and an existing one
    (made by an older Ayni, or copied in) is tightened along with any -wal,
    -shm or rollback journal already beside it. Only missing directories are
    created (0700): an existing one may be a directory the operator chose.
    """
    private_dir(path.parent, tighten=False)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        private_file(path.with_name(path.name + suffix), create=False)


def json_loads(text: str | bytes) -> Any:
    """A JSON column's value. orjson reads a record's stored values several
    times faster than the standard library, and every export row, OData row
    and dashboard figure decodes one; it refuses integers past 64 bits, which
    the standard library then reads."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    # A failing statement's parameters are submission content and tokens:
    # they never go into an exception's text, hence into a log.
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_deserializer", json_loads)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        # ":memory:" and `file:` URIs (uri=true) are not plain paths to create.
        if path and path != ":memory:" and not path.startswith("file:"):
            _private_sqlite_file(Path(path))
        engine = sa.create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def dialect_insert(session: Session):  # type: ignore[no-untyped-def]
    """`insert` with `on_conflict_do_*` for the session's database.

    Both dialects spell INSERT … ON CONFLICT the same way in SQLAlchemy, but
    each needs its own construct.
    """
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)
        self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessionmaker = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"),
            expire_on_commit=False,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        session = self._write_sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def open_read_session(self) -> Session:
        """A session for reading that the caller closes (see `read`)."""
        return self._sessionmaker()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; anything it wrote is rolled back.

        `close()` (not `rollback()`) ends it: the connection's transaction is
        rolled back by the pool, while loaded objects keep their attributes for
        the edge to render after the session is gone.
        """
        session = self._sessionmaker()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
