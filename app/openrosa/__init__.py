"""OpenRosa endpoints for ODK Collect and Enketo (openrosa.md)."""

from __future__ import annotations

import re

# Central's OpenRosa routes, with or without the app-user prefix, plus the root
# aliases of the default project (openrosa.md §1).
_OPENROSA_PATH = re.compile(
    r"^(/v1(/key/[^/]+)?/projects/\d+)?"
    r"/(formList|submission|forms/[^/]+/manifest|datasets/[^/]+/integrity)$"
)


def is_openrosa_path(path: str) -> bool:
    return bool(_OPENROSA_PATH.match(path))
