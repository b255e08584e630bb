"""A form's fields as OData sees them: identifiers, tables, and `$select`.

Central names every group and field by a sanitized identifier (a leading
non-letter gets `_`, every run of other characters becomes `_`), calls the
root table `Submissions` and each repeat's table `Submissions.<segments>`
(its path's identifiers joined by `.`). `$select` picks fields of one table
by their identifier paths, with Central's rules (`lib/formats/odata.js`
`filterFields`): groups bring their fields, a field brings the groups around
it, and nothing may reach into a repeat below the table.

Pure: a `FormSchema` in, `Node` trees out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.forms.xform import FormSchema
from app.odata.errors import (
    ODataNotFoundError,
    PropertyNotFoundError,
    UnsupportedSelectError,
)

ROOT_TABLE = "Submissions"
# `$select` names for the root table's metadata (Central's `systemFields`).
SYSTEM_PROPERTIES = (
    "submissionDate",
    "updatedAt",
    "submitterId",
    "submitterName",
    "attachmentsPresent",
    "attachmentsExpected",
    "status",
    "reviewState",
    "deviceId",
    "edits",
    "formVersion",
    "deletedAt",
)
SYSTEM_FIELDS = frozenset(
    {"__system", *(f"__system/{name}" for name in SYSTEM_PROPERTIES)}
)

_LEADING = re.compile(r"^([^a-zA-Z_])")
_OTHERS = re.compile(r"[^a-zA-Z0-9_]+")


def sanitize(name: str) -> str:
    """An OData identifier for an XML name: `q1.8-test` → `q1_8_test`,
    `42` → `_42` (Central's `sanitizeOdataIdentifier`)."""
    return _OTHERS.sub("_", _LEADING.sub(r"_\1", name))


@dataclass(frozen=True)
class Node:
    """One group, repeat or field of the form, with its children."""

    name: str  # the XML element name
    ident: str  # its OData identifier
    kind: str  # "group" | "repeat" | "field"
    type: str  # the bind type of a field ("int", "geopoint", ...)
    path: str  # the schema path ("children/child/name")
    idents: tuple[str, ...]  # the identifiers from the root down to it
    order: int  # position in the form, depth-first
    children: tuple[Node, ...] = ()

    @property
    def opath(self) -> str:
        """`/children/child`: the identifier path `$select` resolves."""
        return "/" + "/".join(self.idents)

    @property
    def table(self) -> str:
        """The table a repeat's rows make: `Submissions.children.child`."""
        return ".".join((ROOT_TABLE, *self.idents))


def build_tree(
    schema: FormSchema, keep: frozenset[str] | None = None
) -> tuple[Node, ...]:
    """The form's top-level nodes with their children, depth-first; only the
    fields whose schema path is in `keep`, when given."""
    fields = [f for f in schema.fields if keep is None or f.path in keep]
    order = {f.path: n for n, f in enumerate(schema.fields)}
    children: dict[str, list[str]] = {}
    for f in fields:
        parent = f.path.rsplit("/", 1)[0] if "/" in f.path else ""
        children.setdefault(parent, []).append(f.path)
    by_path = {f.path: f for f in fields}

    def make(path: str) -> Node:
        f = by_path[path]
        idents = tuple(sanitize(segment) for segment in path.split("/"))
        return Node(
            name=f.name,
            ident=idents[-1],
            kind=f.kind,
            type=f.type,
            path=path,
            idents=idents,
            order=order[path],
            children=tuple(make(child) for child in children.get(path, ())),
        )

    return tuple(make(path) for path in children.get("", ()))


def walk(nodes: Iterable[Node]) -> Iterable[Node]:
    """Every node, depth-first."""
    for node in nodes:
        yield node
        yield from walk(node.children)


def repeat_tables(tree: tuple[Node, ...]) -> list[Node]:
    """The repeats, depth-first: one table each after `Submissions`."""
    return [node for node in walk(tree) if node.kind == "repeat"]


def table_steps(tree: tuple[Node, ...], parts: list[str]) -> tuple[Node, ...]:
    """The nodes from the root to the repeat `parts` names (`["Submissions",
    "children", "child"]`); () for the root table.

    Raises: ODataNotFoundError when the path is not a repeat's table.
    """
    if not parts or parts[0] != ROOT_TABLE:
        raise ODataNotFoundError()
    steps: list[Node] = []
    level = tree
    for part in parts[1:]:
        # Central looks fields up by identifier path, so when two names
        # sanitize alike the later one answers.
        found = [node for node in level if node.ident == part]
        if not found:
            raise ODataNotFoundError()
        steps.append(found[-1])
        level = found[-1].children
    if steps and steps[-1].kind != "repeat":
        raise ODataNotFoundError()
    return tuple(steps)


def parent_key(steps: tuple[Node, ...]) -> str:
    """The name of a repeat row's key to its parent row: `__Submissions-id`
    for a repeat outside repeats, else `__Submissions-<path>-id` with the path
    of the enclosing repeat."""
    enclosing = [n for n, node in enumerate(steps[:-1]) if node.kind == "repeat"]
    names = [ROOT_TABLE]
    if enclosing:
        names += [node.ident for node in steps[: enclosing[-1] + 1]]
    return "__" + "-".join(names) + "-id"


def selection(
    schema: FormSchema, select: str, steps: tuple[Node, ...]
) -> frozenset[str]:
    """The schema paths `$select` keeps for the table `steps` leads to.

    Raises: PropertyNotFoundError (400.23) for a property the table does not
    have, UnsupportedSelectError (400.24) for one inside a repeat below it.
    """
    tree = build_tree(schema)
    by_opath = {node.opath: node for node in walk(tree)}
    parents = {child.path: node for node in walk(tree) for child in node.children}
    kept: set[str] = {node.path for node in steps}
    ids = {"__id"}
    prefix = ""
    if steps:
        prefix = steps[-1].opath
        ids.add(parent_key(steps))
    for wanted in (p.strip() for p in select.split(",")):
        if wanted in ids or (not steps and wanted in SYSTEM_FIELDS):
            continue
        node = by_opath.get(f"{prefix}/{wanted}")
        if node is None:
            raise PropertyNotFoundError(wanted)
        kept.add(node.path)
        parent = parents.get(node.path)
        while parent is not None and parent.path not in kept:
            if parent.kind == "repeat":
                raise UnsupportedSelectError(wanted)
            kept.add(parent.path)
            parent = parents.get(parent.path)
        if node.kind == "group":
            kept.update(_group_contents(node))
    return frozenset(kept)


def _group_contents(group: Node) -> set[str]:
    """A group's fields, groups and repeats at any depth, not what is inside
    its repeats (Central's `getChildren`)."""
    found: set[str] = set()
    for child in group.children:
        found.add(child.path)
        if child.kind == "group":
            found |= _group_contents(child)
    return found


def metadata_selected(select: str | None) -> frozenset[str] | None:
    """The `__` names a `$select` asks for (`__id`, `__system/...`, a parent
    key); None when every one is wanted (no `$select`, or `*`)."""
    if not select or select == "*":
        return None
    return frozenset(p.strip() for p in select.split(",") if p.strip().startswith("__"))
