"""Both BlobStores: content addressed, durable, and race-safe rows."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.blobs import (
    BlobMissingError,
    DatabaseBlobStore,
    LocalBlobStore,
    iter_blob,
    save_blob,
)
from app.db.models import Blob


@pytest.fixture(params=["filesystem", "database"])
def store(request, tmp_path: Path):
    if request.param == "filesystem":
        return LocalBlobStore(tmp_path / "blobs")
    return DatabaseBlobStore(tmp_path / "spool")


def test_stored_bytes_come_back_identical_and_are_addressed_by_sha256(runtime, store):
    data = bytes(range(256)) * 5000  # 1.28 MB, more than one read chunk
    with runtime.db.transaction() as session:
        blob = save_blob(session, store, io.BytesIO(data), "image/jpeg")
        sha = blob.sha256
    assert sha == hashlib.sha256(data).hexdigest()
    with runtime.db.read() as session:
        assert b"".join(iter_blob(session, store, sha)) == data
        row = session.scalars(sa.select(Blob)).one()
        assert (row.size, row.content_type) == (len(data), "image/jpeg")
        assert row.md5 == hashlib.md5(data).hexdigest()  # noqa: S324 - as Collect


def test_the_same_bytes_twice_are_stored_once(runtime, store):
    with runtime.db.transaction() as session:
        first = save_blob(session, store, io.BytesIO(b"foto"))
        second = save_blob(session, store, io.BytesIO(b"foto"))
        assert first.id == second.id
    with runtime.db.read() as session:
        assert session.scalar(sa.select(sa.func.count(Blob.id))) == 1


def test_a_blob_the_store_lacks_is_reported_missing(runtime, store):
    with runtime.db.read() as session, pytest.raises(BlobMissingError):
        store.open(session, "f" * 64)


def test_filesystem_store_leaves_no_temporary_files(runtime, tmp_path: Path):
    store = LocalBlobStore(tmp_path / "b")
    with runtime.db.transaction() as session:
        save_blob(session, store, io.BytesIO(b"x" * 10))
        save_blob(session, store, io.BytesIO(b"x" * 10))
    leftovers = [p for p in (tmp_path / "b").rglob(".incoming-*")]
    assert leftovers == []
    assert store.check_writable() is None


def test_database_store_bytes_vanish_with_a_rolled_back_transaction(runtime, tmp_path):
    store = DatabaseBlobStore(tmp_path / "spool")
    with pytest.raises(RuntimeError), runtime.db.transaction() as session:
        save_blob(session, store, io.BytesIO(b"no llega"))
        raise RuntimeError("abort")
    with runtime.db.read() as session:
        assert not store.exists(session, hashlib.sha256(b"no llega").hexdigest())
