"""Tablet onboarding: the ODK Collect settings QR code (openrosa.md §6).

Pure: builds the payload Collect scans and renders it with segno. Payload =
base64 (standard alphabet, one line) of a zlib stream (with header) of the
UTF-8 JSON; error correction L; `general` and `admin` are required keys.
The one side effect, `write_qr_files`, writes them private (0600): the code
carries the tablet's token, and whoever copies the image can submit as it.
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from pathlib import Path

import segno

from app.config import private_dir, private_file

MAX_PAYLOAD_CHARS = 4000  # Collect reads at most this many characters


def app_user_server_url(base_url: str, token: str, project_id: int) -> str:
    return f"{base_url.rstrip('/')}/v1/key/{token}/projects/{project_id}"


def collect_settings(server_url: str, project_name: str) -> dict:
    return {
        "general": {
            "server_url": server_url,
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
        },
        "admin": {},
        "project": {"name": project_name, "icon": project_name[:1].upper() or "A"},
    }


def qr_payload(settings: dict) -> str:
    raw = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode()
    payload = base64.b64encode(zlib.compress(raw)).decode("ascii")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise ValueError("QR payload longer than Collect reads")
    return payload


def decode_payload(payload: str) -> dict:
    """The inverse of `qr_payload`, as Collect decodes it."""
    return json.loads(zlib.decompress(base64.b64decode(payload)))  # type: ignore[no-any-return]


def qr_code(payload: str) -> segno.QRCode:
    return segno.make(payload, error="l", micro=False, boost_error=False)


def qr_terminal(payload: str) -> str:
    out = io.StringIO()
    qr_code(payload).terminal(out=out, compact=True)
    return out.getvalue()


def write_qr_files(payload: str, directory: Path, stem: str) -> tuple[Path, Path]:
    """PNG and SVG of the QR code, 0600, in `directory` (created 0700 if
    missing; an existing one, which the operator may have chosen, keeps its
    mode)."""
    private_dir(directory, tighten=False)
    code = qr_code(payload)
    png, svg = directory / f"{stem}.png", directory / f"{stem}.svg"
    for path in (png, svg):
        # Made 0600 before a byte is written; segno then writes into it and
        # opening for writing keeps the mode.
        private_file(path)
        code.save(path, scale=8, border=4)
    return png, svg


def qr_svg(payload: str) -> str:
    out = io.BytesIO()
    qr_code(payload).save(out, kind="svg", scale=6, border=4, xmldecl=False)
    return out.getvalue().decode()
