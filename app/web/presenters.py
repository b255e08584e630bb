"""Shapes for templates: a form's questions as a tree, a submission's answers
laid out by the form (groups, repeats, labels, choices), dates in Bolivian
time, and the media files an XForm refers to.

Pure: no session, no Flask request. Labels are chosen with the console's
language through `label_of`, which is the only thing read from the request.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from app.forms.xform import Field, FormSchema
from app.web.geo import parse_points
from app.web.i18n import gettext, label_of

# Bolivia keeps UTC-4 all year (no daylight saving since 1932): a fixed offset
# needs no time-zone database on the laptop.
BOLIVIA = timezone(timedelta(hours=-4), "BOT")
_MEDIA_REF = re.compile(rb"jr://(?:images|audio|video|file|file-csv)/([^\"'<>\s)]+)")
GEO_TYPES = ("geopoint", "geotrace", "geoshape")


def local_time(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(BOLIVIA).strftime("%Y-%m-%d %H:%M")


def local_date(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(BOLIVIA).strftime("%Y-%m-%d")


def day_start_utc(day: date) -> datetime:
    """Midnight of a Bolivian calendar day, as an aware UTC datetime.

    `day` comes from `app.datebounds` (9998-12-31 at the latest), so the day
    after it, in UTC, is still a datetime.
    """
    return datetime(day.year, day.month, day.day, tzinfo=BOLIVIA).astimezone(UTC)


def media_references(xform: bytes) -> list[str]:
    """File names the XForm refers to (jr://images/x.png, jr://file/y.csv …):
    the form media a coordinator must upload for it to work in Collect."""
    names = {match.decode("utf-8", "replace") for match in _MEDIA_REF.findall(xform)}
    return sorted(names)


# --- a form's questions ------------------------------------------------------------


@dataclass
class Node:
    field: Field
    children: list[Node] = dataclasses.field(default_factory=list)


def _children_of(schema: FormSchema) -> dict[str, list[Field]]:
    children: dict[str, list[Field]] = {}
    for item in schema.fields:
        parent = item.path.rsplit("/", 1)[0] if "/" in item.path else ""
        children.setdefault(parent, []).append(item)
    return children


def form_tree(schema: FormSchema, *, include_meta: bool = False) -> list[Node]:
    """The questions as a tree, in form order (groups and repeats hold theirs)."""
    children = _children_of(schema)

    def build(parent: str) -> list[Node]:
        nodes = []
        for item in children.get(parent, []):
            if not include_meta and item.path == "meta":
                continue
            nodes.append(Node(item, build(item.path) if item.kind != "field" else []))
        return nodes

    return build("")


def field_label(item: Field) -> str:
    return label_of(item.labels, item.name)


def choice_label(item: Field, value: str) -> str:
    for choice in item.choices:
        if choice.name == value:
            return label_of(choice.labels, value)
    return value


# --- a submission's answers -----------------------------------------------------------


@dataclass
class Answer:
    kind: str  # "field" | "group" | "repeat"
    field: Field
    label: str
    text: str = ""  # what to show for a leaf
    raw: Any = None
    points: list[tuple[float, float, float | None]] = dataclasses.field(
        default_factory=list
    )
    children: list[Answer] = dataclasses.field(default_factory=list)
    entries: list[list[Answer]] = dataclasses.field(default_factory=list)


def _leaf_text(item: Field, raw: Any) -> str:
    if raw is None:
        return ""
    text = str(raw)
    if item.type == "select1":
        return choice_label(item, text)
    if item.type in ("select", "rank"):
        return ", ".join(choice_label(item, token) for token in text.split())
    return text


def _has_value(raw: Any) -> bool:
    return raw not in (None, "", [], {})


def answers(schema: FormSchema, values: Mapping[str, Any]) -> list[Answer]:
    """The answered questions of a record, laid out as the form is: groups
    nest, repeats list their entries, unanswered questions and `meta` are
    left out."""
    children = _children_of(schema)

    def walk(parent: str, node: Mapping[str, Any]) -> list[Answer]:
        out: list[Answer] = []
        for item in children.get(parent, []):
            if item.path == "meta":
                continue
            raw = node.get(item.name) if isinstance(node, Mapping) else None
            if not _has_value(raw):
                continue
            if item.kind == "group":
                inner = walk(item.path, raw if isinstance(raw, Mapping) else {})
                if inner:
                    out.append(Answer("group", item, field_label(item), children=inner))
            elif item.kind == "repeat":
                rows = raw if isinstance(raw, list) else [raw]
                entries = [
                    walk(item.path, row) for row in rows if isinstance(row, Mapping)
                ]
                if any(entries):
                    out.append(
                        Answer("repeat", item, field_label(item), entries=entries)
                    )
            else:
                answer = Answer(
                    "field", item, field_label(item), _leaf_text(item, raw), raw
                )
                if item.type in GEO_TYPES:
                    answer.points = parse_points(str(raw))
                out.append(answer)
        return out

    return walk("", values)


def type_label(item: Field) -> str:
    """A question's type in words: "Foto", "Selección única", "Grupo"…"""
    if item.kind in ("group", "repeat"):
        key = f"type.{item.kind}"
    elif item.type == "binary":
        key = f"type.binary.{item.media or 'file'}"
    elif item.calculate and item.type == "string":
        key = "type.calculate"
    else:
        key = f"type.{item.type}"
    text = gettext(key)
    return item.type if text == key else text
