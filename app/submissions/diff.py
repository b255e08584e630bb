"""What an edit changed: the differences between two versions.

Two readings, both pure (no session):

- `changes`, for the console, on the versions' extracted values: paths read
  like the console shows them (`grupo/campo`, `repeticion[2]/campo`, repeat
  entries numbered from 1); `meta/` is left out (every edit changes its
  instanceID).
- `central_diffs`, ODK Central's `GET …/submissions/<id>/diffs`, on the
  versions' XML: for each version after the first, keyed by its instanceID,
  the list of `{old, new, path}` against the version before it. A path is
  the element names below the root, a repeat entry written `[name, index]`
  (from 0); `old` is left out for what was added and `new` for what was
  removed; a group or repeat entry added or removed whole is given as its
  tree (groups as objects, repeats as lists, leaves as their text). `meta/`
  is included, as in Central (`instanceID`, `deprecatedID`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from app.xmlutil import child_elements, local_name, parse_xml


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


# --- ODK Central's diffs, on the XML ------------------------------------------------

Tree = dict[str, Any]


def xml_tree(xml: bytes, repeats: frozenset[str]) -> Tree:
    """A version's XML as Central diffs it: an element with element children
    is an object, every entry of a repeat (`repeats`: the form's repeat
    paths, from any of its versions) goes into a list, a leaf is its text
    (`""` when empty). Names are local: namespace prefixes are dropped."""
    return _tree(parse_xml(xml), "", repeats)


def _tree(element: etree._Element, prefix: str, repeats: frozenset[str]) -> Tree:
    node: Tree = {}
    for child in child_elements(element):
        name = local_name(child)
        path = f"{prefix}/{name}" if prefix else name
        if path in repeats:
            entries = node.setdefault(name, [])
            if isinstance(entries, list):
                entries.append(_tree(child, path, repeats))
        elif child_elements(child):
            node[name] = _tree(child, path, repeats)
        else:
            node[name] = child.text or ""
    return node


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _diff_object(old: Tree, new: Tree, path: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for name in dict.fromkeys([*old, *new]):
        here = [*path, name]
        if name not in old:
            found.append({"new": new[name], "path": here})
        elif name not in new:
            found.append({"old": old[name], "path": here})
        elif old[name] == new[name]:
            continue
        elif isinstance(old[name], dict) and isinstance(new[name], dict):
            found += _diff_object(old[name], new[name], here)
        elif isinstance(old[name], list) and isinstance(new[name], list):
            found += _diff_repeat(old[name], new[name], path, name)
        else:
            found.append({"old": old[name], "new": new[name], "path": here})
    return found


def _diff_repeat(
    old: list[Tree], new: list[Tree], path: list[Any], name: str
) -> list[dict[str, Any]]:
    """Entries matched by content, as Central does with a Myers diff: equal
    runs are skipped, pure additions and removals given whole, and entries
    replaced one for one diffed field by field. Where a run replaces more
    entries than it brings (or fewer), the first ones are paired and the
    rest given whole (Central pairs the closest; both agree when one entry
    changes)."""
    found: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(
        None, [_key(e) for e in old], [_key(e) for e in new], autojunk=False
    )
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(a1 - a0, b1 - b0)
        for offset in range(paired):
            here = [*path, [name, a0 + offset]]
            found += _diff_object(old[a0 + offset], new[b0 + offset], here)
        for index in range(a0 + paired, a1):
            found.append({"old": old[index], "path": [*path, [name, index]]})
        for index in range(b0 + paired, b1):
            found.append({"new": new[index], "path": [*path, [name, index]]})
    return found


def central_diffs(
    versions: Iterable[tuple[str, bytes | None]], repeats: frozenset[str]
) -> dict[str, list[dict[str, Any]]]:
    """Central's diffs of a record's versions, given oldest first as
    (instanceID, XML). A version whose XML is None (one the reader may not
    see) is never diffed, on either side."""
    found: dict[str, list[dict[str, Any]]] = {}
    previous: Tree | None = None
    for instance_id, xml in versions:
        tree = xml_tree(xml, repeats) if xml is not None else None
        if previous is not None and tree is not None:
            found[instance_id] = _diff_object(previous, tree, [])
        previous = tree
    return found
