"""The address tablets will really reach: what `ayni urls` and the QR code of
`ayni create-app-user` print.

The LAN addresses are read from the network interfaces themselves (no packet
is sent): the embedded deployment has no internet and often no DNS.

The port is the running server's, which a command in another shell cannot see
in its own environment: `make run PORT=8080` exports PORT to gunicorn, not to
the shell where `.venv/bin/ayni create-app-user` is typed later. So each
gunicorn process records where it listens (and its PUBLIC_URL) in
`instance/listening.json` when it starts (`record_listening`), and the commands
read it back. The rule, first that applies (`tablet_address`):

1. `--server-url` given to the command;
2. PUBLIC_URL of this command's settings (this shell);
3. PORT (and HOST) set in this shell: `make run` exports them to `ayni urls`
   and to the gunicorn it starts next, so there they are the server's own;
4. the record of the server last started on this instance directory: its
   PUBLIC_URL, else its LAN addresses with its port;
5. otherwise the defaults (port 8000), with a warning naming `--server-url`
   and PUBLIC_URL.

Recording is multi-process safe: every worker writes the same content to its
own temporary file and renames it into place. The record is not removed when
the server stops: the last server's address is still the best guess. It
describes what HOST/PORT say (gunicorn's bind in `app.gunicorn_conf`); a
server bound otherwise (`--bind`) should set PUBLIC_URL.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.config import Settings, private_dir

log = logging.getLogger(__name__)

_SIOCGIFADDR = 0x8915
RECORD_NAME = "listening.json"
_ANY_HOST = ("0.0.0.0", "", "::")  # noqa: S104 - comparing, not binding


def lan_addresses() -> list[str]:
    addresses: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in socket.if_nameindex():
            packed = struct.pack("256s", name.encode()[:15])
            try:
                raw = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, packed)
            except OSError:
                continue  # interface without IPv4
            address = socket.inet_ntoa(raw[20:24])
            if not address.startswith("127.") and address not in addresses:
                addresses.append(address)
    return addresses


def server_urls(host: str, port: int) -> list[str]:
    """URLs to type into ODK Collect's server setting, best first."""
    if host not in _ANY_HOST:
        return [f"http://{host}:{port}"]
    urls = [f"http://{address}:{port}" for address in lan_addresses()]
    return urls or [f"http://127.0.0.1:{port}"]


def running_under_server(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is a gunicorn worker (gunicorn's master exports
    SERVER_SOFTWARE before it forks them), not a command or a test."""
    env = os.environ if environ is None else environ
    return env.get("SERVER_SOFTWARE", "").startswith("gunicorn")


def record_listening(settings: Settings) -> None:
    """Write where this server listens into `instance/listening.json`.

    A failure (a read-only disk) is logged, never fatal: serving tablets
    matters more than what a later command prints.
    """
    directory = settings.instance_dir
    content = json.dumps(
        {
            "host": settings.host,
            "port": settings.port,
            "public_url": settings.public_url,
        }
    )
    try:
        private_dir(directory)
        fd, tmp = tempfile.mkstemp(prefix=".listening-", dir=directory)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(content)
            os.replace(tmp, directory / RECORD_NAME)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not record the server's address in %s: %s", directory, exc)


@dataclass(frozen=True)
class Listening:
    host: str
    port: int
    public_url: str | None


def recorded_listening(instance_dir: Path) -> Listening | None:
    """The last started server's record, or None (none, or unreadable)."""
    try:
        found = json.loads((instance_dir / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict):
        return None
    host, port, public_url = (found.get(k) for k in ("host", "port", "public_url"))
    if not isinstance(host, str) or not isinstance(port, int):
        return None
    return Listening(host, port, public_url if isinstance(public_url, str) else None)


@dataclass(frozen=True)
class TabletAddress:
    """Where tablets reach the server: URLs best first, how that was decided,
    and warnings (Spanish, English) when it is a guess."""

    urls: list[str]
    source: str  # option | public_url | environment | server | default
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _unreachable(urls: list[str]) -> list[tuple[str, str]]:
    if any(not url.startswith(("http://127.", "http://localhost")) for url in urls):
        return []
    return [
        (
            "Esta dirección solo sirve en esta computadora; una tableta no la "
            "alcanza. Conecte la laptop a la red Wi-Fi o use --server-url.",
            "This address works only on this computer; a tablet cannot reach "
            "it. Connect the laptop to the Wi-Fi network or use --server-url.",
        )
    ]


def tablet_address(
    settings: Settings,
    *,
    server_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> TabletAddress:
    """The base URL(s) to give tablets, by the rule in this module's docstring."""
    env = os.environ if environ is None else environ
    if server_url:
        return TabletAddress([server_url.rstrip("/")], "option")
    if settings.public_url:
        return TabletAddress([settings.public_url.rstrip("/")], "public_url")
    if "PORT" in env:
        urls = server_urls(settings.host, settings.port)
        return TabletAddress(urls, "environment", _unreachable(urls))
    record = recorded_listening(settings.instance_dir)
    if record is not None:
        if record.public_url:
            return TabletAddress([record.public_url.rstrip("/")], "server")
        urls = server_urls(record.host, record.port)
        return TabletAddress(urls, "server", _unreachable(urls))
    urls = server_urls(settings.host, settings.port)
    warning = (
        "No se sabe en qué puerto escucha el servidor (no se inició en esta "
        "carpeta instance/ y PORT no está definido en esta terminal): se supone "
        f"{settings.port}. Si las tabletas no llegan, indique la dirección con "
        "--server-url o con PUBLIC_URL.",
        "The server's port is not known (it was not started on this instance/ "
        "folder and PORT is not set in this shell): assuming "
        f"{settings.port}. If tablets cannot connect, give the address with "
        "--server-url or PUBLIC_URL.",
    )
    return TabletAddress(urls, "default", [warning, *_unreachable(urls)])
