"""`instance/` is private: what Ayni keeps on disk (database, its WAL and
shared-memory files, blobs, tablets' QR codes, the secret key) is readable only
by the account running it. Directories 0700, files 0600, whatever the umask.

Checked on the real paths Ayni writes: a new `Settings`, migrating a new
SQLite database, the app's own blob store, `ayni create-app-user`.
"""

from __future__ import annotations

import io
import sqlite3
import stat
from pathlib import Path

import pytest

from app import create_app
from app.blobs import LocalBlobStore, make_blob_store, save_blob
from app.config import Settings
from app.db import create_db_engine
from app.db.migrate import upgrade
from tests.conftest import is_postgres
from tests.support import seed

sqlite_only = pytest.mark.skipif(is_postgres(), reason="SQLite files only")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def open_dir(path: Path) -> Path:
    """A directory as an older Ayni (or `mkdir` by hand) left it: 0755."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


# --- the instance directory and the secret key -------------------------------


def test_a_new_instance_directory_and_its_secret_key_are_private(tmp_path):
    instance = tmp_path / "datos" / "instance"  # neither exists yet

    settings = Settings(instance_dir=instance, app_env="test")

    assert mode(tmp_path / "datos") == 0o700
    assert mode(instance) == 0o700
    key = instance / "secret_key"
    assert mode(key) == 0o600
    assert key.read_text() == settings.secret_key


def test_an_open_instance_directory_and_key_are_tightened_and_the_key_kept(
    tmp_path,
):
    instance = open_dir(tmp_path / "instance")
    key = instance / "secret_key"
    key.write_text("clave-antigua")
    key.chmod(0o644)

    settings = Settings(instance_dir=instance, app_env="test")

    assert settings.secret_key == "clave-antigua"
    assert mode(instance) == 0o700
    assert mode(key) == 0o600


def test_an_instance_directory_is_tightened_even_with_a_given_secret_key(tmp_path):
    instance = open_dir(tmp_path / "instance")

    Settings(instance_dir=instance, app_env="test", secret_key="dada")

    assert mode(instance) == 0o700
    assert not (instance / "secret_key").exists()


# --- the SQLite database ------------------------------------------------------


@sqlite_only
def test_a_new_sqlite_database_and_its_wal_and_shm_are_private_after_a_write(
    tmp_path,
):
    settings = Settings(
        instance_dir=tmp_path / "instance",
        app_env="test",
        blob_dir=tmp_path / "blobs",
        load_forms_on_start=False,
    )
    database = Path(settings.database_url.removeprefix("sqlite:///"))
    assert database.parent == settings.instance_dir

    upgrade(settings.database_url)  # `ayni migrate` on a new laptop creates it
    app = create_app(settings)
    try:
        runtime = app.extensions["ayni"]
        seed(runtime)  # writes; the pooled connection keeps -wal and -shm open
        wal = database.with_name(database.name + "-wal")
        shm = database.with_name(database.name + "-shm")
        assert wal.exists() and shm.exists()
        assert mode(database) == 0o600
        assert mode(wal) == 0o600
        assert mode(shm) == 0o600
        assert mode(settings.instance_dir) == 0o700
    finally:
        app.extensions["ayni"].db.dispose()


@sqlite_only
def test_a_new_database_in_a_new_directory_gets_a_private_directory(tmp_path):
    database = tmp_path / "otro" / "lugar" / "ayni.sqlite3"

    engine = create_db_engine(f"sqlite:///{database}")
    engine.dispose()

    assert mode(tmp_path / "otro") == 0o700
    assert mode(database.parent) == 0o700
    assert mode(database) == 0o600


@sqlite_only
def test_an_open_database_and_its_open_wal_and_shm_are_tightened(database_url):
    database = Path(database_url.removeprefix("sqlite:///"))
    database.chmod(0o644)
    # Another program (or an older Ayni) has it open in WAL mode: SQLite made
    # its -wal and -shm with the database file's 0644.
    other = sqlite3.connect(database)
    try:
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("CREATE TABLE otra_cosa (x INTEGER)")
        other.commit()
        wal = database.with_name(database.name + "-wal")
        shm = database.with_name(database.name + "-shm")
        assert mode(wal) == 0o644 and mode(shm) == 0o644

        engine = create_db_engine(database_url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM otra_cosa").scalar() == 0
        engine.dispose()

        assert mode(database) == 0o600
        assert mode(wal) == 0o600
        assert mode(shm) == 0o600
    finally:
        other.close()


# --- blobs ------------------------------------------------------------------------


def test_blob_directories_and_files_are_private(runtime, settings):
    # The app's own store, on both legs (blobs are files unless BLOB_BACKEND=database).
    root = settings.blob_dir
    assert mode(root) == 0o700
    with runtime.db.transaction() as session:
        blob = save_blob(session, runtime.blobs, io.BytesIO(b"foto de la feria"))
        sha256 = blob.sha256
    stored = root / sha256[:2] / sha256[2:4] / sha256
    assert stored.read_bytes() == b"foto de la feria"
    assert mode(stored) == 0o600
    assert mode(stored.parent) == 0o700
    assert mode(stored.parent.parent) == 0o700
    # Nothing else was left behind in the store (no temporary file).
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == [sha256]


def test_a_blob_store_in_new_directories_creates_them_private(tmp_path):
    LocalBlobStore(tmp_path / "disco" / "blobs")

    assert mode(tmp_path / "disco") == 0o700
    assert mode(tmp_path / "disco" / "blobs") == 0o700


def test_an_open_blob_directory_is_tightened(tmp_path):
    root = open_dir(tmp_path / "blobs")

    LocalBlobStore(root)

    assert mode(root) == 0o700


def test_the_database_blob_store_spools_in_a_private_directory(tmp_path):
    store = make_blob_store("database", tmp_path / "blobs")

    assert store.spool_dir == tmp_path / "blobs" / "spool"  # type: ignore[attr-defined]
    assert mode(tmp_path / "blobs") == 0o700
    assert mode(tmp_path / "blobs" / "spool") == 0o700


# --- QR codes of tablets ---------------------------------------------------------


def create_app_user(app, *args: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(
        args=[
            "create-app-user",
            "Tableta de la feria",
            "--server-url",
            "http://192.168.1.10:8000",
            *args,
        ]
    )
    assert result.exit_code == 0, result.output
    return result


def qr_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("tableta-*.*"))


def test_qr_files_of_a_new_tablet_are_private_in_a_new_folder(app, runtime, tmp_path):
    seed(runtime)
    out = tmp_path / "entrega" / "qr"

    create_app_user(app, "--out-dir", str(out))

    files = qr_files(out)
    assert [f.suffix for f in files] == [".png", ".svg"]
    assert files[0].read_bytes().startswith(b"\x89PNG")
    assert all(mode(f) == 0o600 for f in files)
    assert mode(out) == 0o700
    assert mode(tmp_path / "entrega") == 0o700


def test_qr_files_go_to_the_private_instance_directory_by_default(
    app, runtime, settings
):
    seed(runtime)

    create_app_user(app)

    out = settings.instance_dir / "qr"
    files = qr_files(out)
    assert [f.suffix for f in files] == [".png", ".svg"]
    assert all(mode(f) == 0o600 for f in files)
    assert mode(out) == 0o700
    assert mode(settings.instance_dir) == 0o700


def test_an_operators_own_folder_keeps_its_mode_but_the_qr_files_are_private(
    app, runtime, tmp_path
):
    seed(runtime)
    desk = open_dir(tmp_path / "escritorio")

    create_app_user(app, "--out-dir", str(desk))

    assert mode(desk) == 0o755
    files = qr_files(desk)
    assert len(files) == 2
    assert all(mode(f) == 0o600 for f in files)
