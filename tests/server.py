"""A real gunicorn server for protocol tests, on 127.0.0.1 only.

Started in its own process group so that a test can SIGKILL the master and its
workers together, and stopped by that group id only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import requests

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    settings: Settings
    workers: int = 2
    threads: int = 4
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    _log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        settings = self.settings
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AYNI_", "TEST_"))
        }
        env.update(
            {
                "DATABASE_URL": settings.database_url,
                "BLOB_DIR": str(settings.blob_dir),
                "BLOB_BACKEND": settings.blob_backend,
                "SECRET_KEY": settings.secret_key,
                "AYNI_INSTANCE_DIR": str(settings.instance_dir),
                "APP_ENV": "test",
                "AYNI_LOAD_FORMS": "0",
                "MAX_SUBMISSION_BYTES": str(settings.max_submission_bytes),
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "WORKERS": str(self.workers),
                "THREADS": str(self.threads),
                "ACCESS_LOG": "-",
                "LOG_LEVEL": "WARNING",
                "TRUSTED_PROXY": "1" if settings.trusted_proxy else "0",
                **self.extra_env,
            }
        )
        return env

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.log_path = self.settings.instance_dir.parent / f"gunicorn-{self.port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:app.gunicorn_conf",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_text()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass  # not listening yet, or a worker still booting
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become healthy: {self.log_text()}")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill(self) -> None:
        """SIGKILL the master and every worker, as a power cut would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._close_log()
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()
