"""The per-application runtime: settings, database and blob store, and the
request's sessions.

`create_app` builds one `Runtime` and keeps it in `app.extensions`; edges reach
it through `current_runtime()` and hand its session and store to services. It
is per application, never a module global, so tests can run many apps and a
grown deployment can run many processes.

One request, one read session: `read_session()` opens it on first use and
`close_request_session` (a teardown) closes it. Writes go through
`write_transaction()`: one for the request's own work, beside which signing in
may need its own small one (a failed login counted, a Digest `nc` recorded).
Once a write commits, the read session's snapshot is ended so that what the
request reads next includes what it wrote (SQLite keeps a read transaction's
snapshot until it ends).
Streaming responses that outlive the request open their own read session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session

from app.blobs import BlobStore, make_blob_store
from app.config import Settings
from app.db import Database

EXTENSION_KEY = "ayni"
_READ_SESSION = "_ayni_read_session"


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        assert settings.blob_dir is not None  # noqa: S101 - set by Settings
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            blobs=make_blob_store(settings.blob_backend, settings.blob_dir),
        )


def current_runtime() -> Runtime:
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def read_session() -> Session:
    """The request's read session, opened on first use."""
    session = g.get(_READ_SESSION)
    if session is None:
        session = current_runtime().db.open_read_session()
        setattr(g, _READ_SESSION, session)
    return session  # type: ignore[no-any-return]


@contextmanager
def write_transaction() -> Iterator[Session]:
    """The request's write transaction: committed on success, rolled back on
    error. Afterwards the read session starts a fresh snapshot."""
    with current_runtime().db.transaction() as session:
        yield session
    reader = g.get(_READ_SESSION)
    if reader is not None:
        reader.rollback()


def close_request_session(_error: BaseException | None = None) -> None:
    session = g.pop(_READ_SESSION, None)
    if session is not None:
        session.close()
