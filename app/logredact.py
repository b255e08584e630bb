"""Redaction of app-user tokens in logs.

An app-user token is a password in the URL (`/v1/key/<token>/…`, `?st=<token>`);
anyone reading the access log could act as that tablet, so it is masked before
any log line is written (openrosa.md §5, Beyond Central).
"""

from __future__ import annotations

import re

_KEY_SEGMENT = re.compile(r"(/v1/key/)[^/?#\s]+")
_ST_PARAM = re.compile(r"([?&]st=)[^&#\s]+")


def redact(text: str) -> str:
    return _ST_PARAM.sub(r"\1***", _KEY_SEGMENT.sub(r"\1***", text))
