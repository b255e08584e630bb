"""Settings: every knob Ayni has, read from environment variables.

Each variable is named and coerced beside its declaration, with a default that is
safe for the embedded deployment (one laptop, SQLite under `instance/`). The grown
deployment changes only environment variables, never code.

Also owns how Ayni's own files are made private (`private_dir`, `private_file`):
`instance/` holds the database, blobs (photos of people, recorded knowledge),
tablets' QR codes (their tokens) and the secret key, so on a shared laptop only
the account running Ayni may read them. The umask is left alone: each place
that creates such a file or directory asks for the mode it needs.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"
ENVIRONMENTS = ("development", "production", "test")
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


class ConfigurationError(RuntimeError):
    """The environment describes a deployment that must not start."""


def normalize_database_url(url: str) -> str:
    """Accept the `postgres://` URLs hosting providers hand out; use psycopg 3."""
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def env_flag(value: str) -> bool:
    """An environment variable read as yes/no (`1`, `true`, `yes`, `on`, `si`)."""
    return value.strip().lower() in {"1", "true", "yes", "on", "si", "sí"}


def _tighten(path: Path, mode: int) -> None:
    """Give an existing file or directory of ours exactly `mode` if group or
    others may use it. Someone else's (chmod would be refused) and a sticky
    directory (shared by design, like /tmp) are left alone; a refusal (a
    read-only disk) is logged, not fatal: the data is no less safe than before.
    """
    try:
        found = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(found.st_mode)
    if not current & 0o077 or found.st_uid != os.geteuid():
        return
    if stat.S_ISDIR(found.st_mode) and current & stat.S_ISVTX:
        return
    try:
        path.chmod(mode)
    except OSError as exc:
        log.warning("could not make %s private (%s): %s", path, oct(mode), exc)


def private_dir(path: Path, *, tighten: bool = True) -> Path:
    """`path` as a directory only Ayni's user may list or enter (0700).

    Missing directories, parents included, are created 0700. With `tighten`,
    an existing `path` is brought to 0700 too (`instance/`, the blob store, made
    by an older Ayni or by hand); without it, an existing directory the operator
    chose (a home directory, a desktop) keeps its mode and only what Ayni puts
    in it is private.
    """
    path = Path(path)
    missing: list[Path] = []
    current = path
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # another worker made it at the same moment, also 0700
        # mkdir's mode passes through the umask; set it exactly.
        directory.chmod(PRIVATE_DIR_MODE)
    if tighten:
        _tighten(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path, *, create: bool = True) -> Path:
    """`path` as a file only Ayni's user may read (0600): created empty if
    missing (never truncated if present), an existing one tightened. With
    `create=False` only an existing file is tightened."""
    path = Path(path)
    if create:
        # O_CREAT without O_EXCL: several workers may do this at once. Read-only:
        # an existing file (a database on a read-only disk) needs no write access.
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, PRIVATE_FILE_MODE)
        os.close(fd)
    _tighten(path, PRIVATE_FILE_MODE)
    return path


def _secret_key(instance_dir: Path) -> str:
    """Development secret kept under `instance/`, so sessions survive restarts."""
    path = instance_dir / "secret_key"
    if path.exists():
        return private_file(path, create=False).read_text().strip()
    private_dir(instance_dir)
    key = secrets.token_hex(32)
    # O_EXCL: when several workers start at once only one writes; the rest read it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


@dataclass(frozen=True)
class SubmissionLimits:
    """What one OpenRosa submission may be (README "Límites").

    Far above anything Collect or Enketo writes for the CdP's forms, far
    below what would let one request occupy a worker: a 5 MB attribute or
    50 000 attributes on one element are refused, never parsed into values.
    """

    instance_id_length: int = 255  # the database column everywhere
    xml_depth: int = 64
    xml_elements: int = 200_000
    attributes_per_element: int = 64
    attribute_bytes: int = 4_096
    xml_text_bytes: int = 20_000_000
    attachments: int = 1_000  # files in one POST (Collect sends at most 101)


@dataclass(frozen=True)
class Settings:
    instance_dir: Path = DEFAULT_INSTANCE_DIR
    app_env: str = "development"
    database_url: str = ""
    blob_dir: Path | None = None
    blob_backend: str = "filesystem"  # "filesystem" | "database"
    secret_key: str = ""
    public_url: str | None = None
    max_submission_bytes: int = 100_000_000
    host: str = "0.0.0.0"  # noqa: S104 - tablets on the LAN must reach the laptop
    port: int = 8000
    workers: int = 2
    log_level: str = "INFO"
    default_project_name: str = "CdP Chipaya"
    admin_user: str = "admin"
    admin_email: str = "admin@localhost"
    admin_password: str | None = None
    trusted_proxy: bool = False  # honour X-Forwarded-Proto/-Host from a reverse proxy
    # Basic auth on plain HTTP for the API and OData (Excel, Power BI and ruODK
    # only speak Basic); off unless an administrator turns it on for a LAN.
    basic_over_http: bool = False
    forms_dir: Path = PROJECT_ROOT / "forms"
    load_forms_on_start: bool = True
    login_attempts_per_minute: int = 10
    limits: SubmissionLimits = field(default_factory=SubmissionLimits)
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.app_env not in ENVIRONMENTS:
            raise ConfigurationError(f"APP_ENV must be one of {ENVIRONMENTS}")
        if self.instance_dir.is_dir():
            # An instance/ left open by an older Ayni or made by hand: close it
            # now. A missing one is created 0700 by whatever first writes there.
            private_dir(self.instance_dir)
        if not self.database_url:
            url = f"sqlite:///{self.instance_dir / 'ayni.sqlite3'}"
            object.__setattr__(self, "database_url", url)
        object.__setattr__(
            self, "database_url", normalize_database_url(self.database_url)
        )
        if self.blob_dir is None:
            object.__setattr__(self, "blob_dir", self.instance_dir / "blobs")
        if self.blob_backend not in ("filesystem", "database"):
            raise ConfigurationError("BLOB_BACKEND must be filesystem or database")
        if not self.secret_key:
            if self.app_env == "production":
                raise ConfigurationError(
                    "SECRET_KEY is required when APP_ENV=production"
                )
            object.__setattr__(self, "secret_key", _secret_key(self.instance_dir))
        if self.app_env == "production" and self.is_sqlite:
            log.warning("production on SQLite: fine for one laptop, not for several")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance_dir = Path(env.get("AYNI_INSTANCE_DIR", str(DEFAULT_INSTANCE_DIR)))
        blob_dir = env.get("BLOB_DIR")
        return cls(
            instance_dir=instance_dir,
            app_env=env.get("APP_ENV", "development"),
            database_url=env.get("DATABASE_URL", ""),
            blob_dir=Path(blob_dir) if blob_dir else None,
            blob_backend=env.get("BLOB_BACKEND", "filesystem"),
            secret_key=env.get("SECRET_KEY", ""),
            public_url=(env.get("PUBLIC_URL") or None),
            max_submission_bytes=int(env.get("MAX_SUBMISSION_BYTES", "100000000")),
            host=env.get("HOST", "0.0.0.0"),  # noqa: S104 - LAN service by design
            port=int(env.get("PORT", "8000")),
            workers=int(env.get("WORKERS", "2")),
            log_level=env.get("LOG_LEVEL", "INFO"),
            admin_user=env.get("AYNI_ADMIN_USER", "admin"),
            admin_email=env.get("AYNI_ADMIN_EMAIL", "admin@localhost"),
            admin_password=env.get("AYNI_ADMIN_PASSWORD") or None,
            trusted_proxy=env_flag(env.get("TRUSTED_PROXY", "0")),
            basic_over_http=env_flag(env.get("BASIC_OVER_HTTP", "0")),
            forms_dir=Path(env.get("AYNI_FORMS_DIR", str(PROJECT_ROOT / "forms"))),
            load_forms_on_start=env_flag(env.get("AYNI_LOAD_FORMS", "1")),
        )
