"""The BlobStore: where the bytes of photos, audio, video, XLSForms and form
media live, addressed by their sha256 so a resent photo is stored once.

Two stores share one protocol. `LocalBlobStore` (embedded default) writes a
temporary file, fsyncs it, renames it into place and fsyncs the directory, so a
blob it reports stored survives a power cut. `DatabaseBlobStore` (grown
deployment, several app servers without a shared disk) keeps the bytes in the
`blob_contents` table, inside the caller's transaction.

`save_blob` records the `blobs` row beside the bytes; it is race-safe across
workers because the sha256 is unique in the database.

Blobs are photos of people and recordings of knowledge: the store's
directories are 0700 and its files 0600 (`mkstemp` creates them so, and the
rename keeps the mode), readable only by the account running Ayni.

Bytes arrive in a `.incoming-*` temporary file first. A worker killed in the
middle (SIGKILL, a power cut, gunicorn's timeout) leaves that file behind, so
each process start sweeps the ones nobody has written to for
`INCOMING_MAX_AGE` (`sweep_incoming`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.config import private_dir
from app.db import dialect_insert
from app.db.models import (
    Blob,
    BlobContent,
    FormAttachment,
    FormVersion,
    SubmissionAttachment,
)

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
INCOMING_PREFIX = ".incoming-"
# How long a `.incoming-*` file may go unwritten before it counts as left
# behind by a dead worker. Age is the time since the last write, and a live
# upload writes at least once per CHUNK read: 2 hours is a 1 MB chunk at
# ~150 bytes/s, slower than any request that still reaches the end (gunicorn
# and the socket read timeout end silent ones within minutes). Sweeping
# younger files could delete a running upload's file in another worker.
INCOMING_MAX_AGE = 2 * 60 * 60.0  # seconds


class BlobMissingError(LookupError):
    """The database names a blob whose bytes the store does not have."""


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    md5: str
    size: int


class BlobStore(Protocol):
    def put(self, session: Session, source: BinaryIO) -> BlobInfo: ...
    def open(self, session: Session, sha256: str) -> BinaryIO: ...
    def exists(self, session: Session, sha256: str) -> bool: ...
    def erase(self, session: Session, sha256: str) -> None: ...
    def check_writable(self) -> str | None: ...
    def sweep_incoming(self, max_age: float = INCOMING_MAX_AGE) -> int: ...


def _hash_to_temp(source: BinaryIO, directory: Path) -> tuple[BlobInfo, Path]:
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    fd, tmp = tempfile.mkstemp(prefix=INCOMING_PREFIX, dir=directory)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return BlobInfo(sha.hexdigest(), md5.hexdigest(), size), Path(tmp)


def _sweep_incoming(directory: Path, max_age: float) -> int:
    """Remove `.incoming-*` regular files in `directory` (not below it) last
    written more than `max_age` seconds ago; how many were removed.

    Several workers start at once and sweep the same directory: a file
    another one removed first is simply gone.
    """
    cutoff = time.time() - max_age
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not entry.name.startswith(INCOMING_PREFIX):
            continue
        try:
            found = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(found.st_mode) or found.st_mtime > cutoff:
                continue
            os.unlink(entry.path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove stale upload file %s: %s", entry.path, exc)
            continue
        removed += 1
    if removed:
        log.info("removed %d stale upload file(s) from %s", removed, directory)
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """Files under `root/ab/cd/<sha256>`; written atomically and durably."""

    def __init__(self, root: Path) -> None:
        self.root = private_dir(Path(root))

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, session: Session, source: BinaryIO) -> BlobInfo:
        info, tmp = _hash_to_temp(source, self.root)
        final = self.path_for(info.sha256)
        try:
            if final.exists() and final.stat().st_size == info.size:
                return info  # content-addressed: these bytes are already safe
            # New `ab/cd/` directories are 0700; older ones are not tightened
            # one by one on the hot path: the 0700 root already closes them.
            private_dir(final.parent, tighten=False)
            os.replace(tmp, final)
            _fsync_dir(final.parent)
        finally:
            tmp.unlink(missing_ok=True)
        return info

    def open(self, session: Session, sha256: str) -> BinaryIO:
        try:
            return self.path_for(sha256).open("rb")
        except FileNotFoundError as exc:
            raise BlobMissingError(sha256) from exc

    def exists(self, session: Session, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def erase(self, session: Session, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)

    def check_writable(self) -> str | None:
        try:
            fd, tmp = tempfile.mkstemp(prefix=".health-", dir=self.root)
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            return f"blob store not writable: {exc.strerror}"
        return None

    def sweep_incoming(self, max_age: float = INCOMING_MAX_AGE) -> int:
        """Temporary files of uploads a dead worker left in the store."""
        return _sweep_incoming(self.root, max_age)


class DatabaseBlobStore:
    """Bytes in `blob_contents`, written in the caller's transaction."""

    def __init__(self, spool_dir: Path | None = None) -> None:
        # The spool holds the bytes for a moment; the system's temporary
        # directory is shared by design and never ours to tighten (mkstemp's
        # files are 0600 there anyway).
        self.spool_dir = (
            private_dir(Path(spool_dir)) if spool_dir else Path(tempfile.gettempdir())
        )
        self._own_spool = spool_dir is not None

    def put(self, session: Session, source: BinaryIO) -> BlobInfo:
        info, tmp = _hash_to_temp(source, self.spool_dir)
        try:
            if not self.exists(session, info.sha256):
                insert = dialect_insert(session)(BlobContent).values(
                    sha256=info.sha256, content=tmp.read_bytes()
                )
                session.execute(insert.on_conflict_do_nothing())
        finally:
            tmp.unlink(missing_ok=True)
        return info

    def open(self, session: Session, sha256: str) -> BinaryIO:
        content = session.scalar(
            sa.select(BlobContent.content).where(BlobContent.sha256 == sha256)
        )
        if content is None:
            raise BlobMissingError(sha256)
        spooled = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115
        spooled.write(content)
        spooled.seek(0)
        return spooled  # type: ignore[return-value]

    def exists(self, session: Session, sha256: str) -> bool:
        found = session.scalar(
            sa.select(BlobContent.sha256).where(BlobContent.sha256 == sha256)
        )
        return found is not None

    def erase(self, session: Session, sha256: str) -> None:
        session.execute(sa.delete(BlobContent).where(BlobContent.sha256 == sha256))

    def check_writable(self) -> str | None:
        return None  # writable exactly when the database is

    def sweep_incoming(self, max_age: float = INCOMING_MAX_AGE) -> int:
        """Temporary files of uploads a dead worker left in the spool.

        Only a spool of Ayni's own: the system's temporary directory is
        shared, and a `.incoming-*` file there may be another program's.
        """
        if not self._own_spool:
            return 0
        return _sweep_incoming(self.spool_dir, max_age)


def save_blob(
    session: Session,
    store: BlobStore,
    source: BinaryIO,
    content_type: str = "application/octet-stream",
) -> Blob:
    """Store the bytes and return their `blobs` row, created once per sha256."""
    return session.get_one(Blob, save_blob_id(session, store, source, content_type))


def save_blob_id(
    session: Session,
    store: BlobStore,
    source: BinaryIO,
    content_type: str = "application/octet-stream",
) -> int:
    """`save_blob` for the ingest hot path: one statement, the row's id back."""
    info = store.put(session, source)
    insert = dialect_insert(session)(Blob).values(
        sha256=info.sha256, md5=info.md5, size=info.size, content_type=content_type
    )
    # A no-op update on conflict makes RETURNING give the existing row's id too.
    upsert = insert.on_conflict_do_update(
        index_elements=["sha256"], set_={"sha256": insert.excluded.sha256}
    ).returning(Blob.id)
    return int(session.execute(upsert).scalar_one())


def iter_blob(session: Session, store: BlobStore, sha256: str) -> Iterator[bytes]:
    with store.open(session, sha256) as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def copy_blob_to(
    session: Session, store: BlobStore, sha256: str, dest: BinaryIO
) -> None:
    with store.open(session, sha256) as fh:
        shutil.copyfileobj(fh, dest, CHUNK)


def make_blob_store(backend: str, blob_dir: Path) -> BlobStore:
    if backend == "database":
        return DatabaseBlobStore(blob_dir / "spool")
    return LocalBlobStore(blob_dir)


def erase_unused(session: Session, store: BlobStore, blob_ids: set[int]) -> int:
    """Erase the bytes and the row of each blob no submission, form media or
    XLSForm refers to any more; how many were erased.

    Content addressing shares one blob between records that sent the same
    bytes, so a blob goes only when nothing names it. Called in its own
    transaction once the references were dropped and committed.
    """
    erased = 0
    for blob_id in sorted(blob_ids):
        used = session.scalar(
            sa.select(
                sa.exists().where(SubmissionAttachment.blob_id == blob_id)
                | sa.exists().where(FormAttachment.blob_id == blob_id)
                | sa.exists().where(FormVersion.xlsform_blob_id == blob_id)
            )
        )
        blob = session.get(Blob, blob_id)
        if used or blob is None:
            continue
        store.erase(session, blob.sha256)
        session.delete(blob)
        erased += 1
    session.flush()
    return erased
