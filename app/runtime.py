"""The per-application runtime: settings, database and blob store.

`create_app` builds one `Runtime` and keeps it in `app.extensions`; edges reach
it through `current_runtime()` and hand its session and store to services. It
is per application, never a module global, so tests can run many apps and a
grown deployment can run many processes.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.blobs import BlobStore, make_blob_store
from app.config import Settings
from app.db import Database

EXTENSION_KEY = "ayni"


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
