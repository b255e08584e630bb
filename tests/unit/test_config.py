"""Settings from the environment, with embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigurationError, Settings


def test_defaults_describe_the_embedded_deployment(tmp_path: Path):
    settings = Settings.from_env({"AYNI_INSTANCE_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'ayni.sqlite3'}"
    assert settings.blob_dir == tmp_path / "blobs"
    assert (settings.host, settings.port) == ("0.0.0.0", 8000)
    assert settings.max_submission_bytes == 100_000_000
    assert (tmp_path / "secret_key").read_text() == settings.secret_key


def test_the_secret_key_survives_a_restart(tmp_path: Path):
    env = {"AYNI_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(env).secret_key == Settings.from_env(env).secret_key


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_postgres_urls_use_psycopg_3(tmp_path: Path, given: str, expected: str):
    env = {"AYNI_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": given}
    assert Settings.from_env(env).database_url == expected


def test_production_without_secret_key_refuses_to_start(tmp_path: Path):
    env = {"AYNI_INSTANCE_DIR": str(tmp_path), "APP_ENV": "production"}
    with pytest.raises(ConfigurationError):
        Settings.from_env(env)
