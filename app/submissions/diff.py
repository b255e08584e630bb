"""What an edit changed: the differences between two versions' values.

Pure: no session. Paths read like the console shows them (`grupo/campo`,
`repeticion[2]/campo`, repeat entries numbered from 1); `meta/` is left out
(every edit changes its instanceID).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    path: str  # "grupo/campo" or "repeticion[2]/campo"
    before: Any
    after: Any


def flatten(values: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths of a values dict; repeat entries numbered from 1."""
    flat: dict[str, Any] = {}
    if isinstance(values, Mapping):
        for key, value in values.items():
            path = f"{prefix}/{key}" if prefix else str(key)
            flat.update(flatten(value, path))
    elif isinstance(values, list):
        for index, entry in enumerate(values, start=1):
            flat.update(flatten(entry, f"{prefix}[{index}]"))
    else:
        flat[prefix] = values
    return flat


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Change, ...]:
    """Every leaf whose value differs, sorted by path."""
    old, new = flatten(before), flatten(after)
    return tuple(
        Change(path, old.get(path), new.get(path))
        for path in sorted(set(old) | set(new))
        if old.get(path) != new.get(path) and not path.startswith("meta/")
    )
