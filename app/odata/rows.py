"""Records as the rows of Central's OData data documents.

A root row is the record's fields, every one present (null when empty), its
groups as nested objects, then `__id` (the instanceID) and `__system`; a
repeat row is one repeat entry's fields, `__id` (Central's join id: the
SHA-1 of the path of names and positions that leads to it) and the key of
its parent row. A repeat with entries shows as `<name>@odata.navigationLink`
in the object that holds it, and with `$expand=*` also inline as a list.
Values are typed as Central types them (`lib/data/odata.js`): `int` and
`decimal` as numbers (what JavaScript's parseInt/parseFloat read of them),
geopoints, geotraces and geoshapes as GeoJSON or, with `$wkt=true`, WKT,
date-times with a bare `+hh` offset completed to `+hh:00`; the rest as the
text received.

Pure: records in, dicts out. Governance already decided what each record
may show; a record whose content is hidden never reaches this module.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from app.governance.records import SubmissionRecord
from app.odata.schema import ROOT_TABLE, SYSTEM_PROPERTIES, Node, parent_key

# Where a row sits: each group or repeat from the root down, with the
# position (from 0, within its parent) of a repeat entry; None for groups
# and for a repeat named as a whole.
Context = tuple[tuple[Node, int | None], ...]

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_BARE_OFFSET = re.compile(r"[+-]\d\d$")
_SPACES = re.compile(r"\s+")
_POINT_SEPARATOR = re.compile(r"; ?")
# JavaScript's whitespace, which parseInt and parseFloat skip.
_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
_JS_SPACE += "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


@dataclass(frozen=True)
class RowOptions:
    expand: bool = False  # `$expand=*`: repeat entries inline
    wkt: bool = False  # `$wkt=true`: geodata as WKT
    # The `__` names `$select` asks for; None: all of them.
    metadata: frozenset[str] | None = None


# --- values -------------------------------------------------------------------------


def iso_instant(moment: datetime | None) -> str | None:
    """JavaScript's `toISOString`: UTC, milliseconds, `Z`."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def js_parse_int(text: str) -> int | None:
    """JavaScript's `parseInt(text, 10)`; None for NaN."""
    match = _INT.match(text.lstrip(_JS_SPACE))
    return int(match.group()) if match else None


def js_parse_float(text: str) -> float:
    """JavaScript's `parseFloat(text)` (NaN when nothing reads as a number)."""
    match = _FLOAT.match(text.lstrip(_JS_SPACE))
    if match is None:
        return math.nan
    found = match.group()
    if found.lstrip("+-") == "Infinity":
        return -math.inf if found.startswith("-") else math.inf
    return float(found)


def json_number(value: float) -> float | int | None:
    """A number as JSON.stringify writes it: NaN and infinities as null, and
    integral values without a fraction (3650, not 3650.0)."""
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def js_string(value: float) -> str:
    """A number as JavaScript prints it (in WKT)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = int(exponent)
    if -7 < power < 21:
        return format(Decimal(text), "f")
    return f"{mantissa}e{'+' if power > 0 else '-'}{abs(power)}"


def _point(text: str) -> tuple[float, float, float | None, float | None] | None:
    parts = [js_parse_float(p) for p in _SPACES.split(text)]
    if len(parts) < 2 or math.isnan(parts[0]) or math.isnan(parts[1]):
        return None
    altitude = parts[2] if len(parts) > 2 and not math.isnan(parts[2]) else None
    accuracy = parts[3] if len(parts) > 3 and not math.isnan(parts[3]) else None
    return parts[0], parts[1], altitude, accuracy


def _geopoint(text: str, wkt: bool) -> Any:
    point = _point(text)
    if point is None:
        return None
    lat, lon, altitude, accuracy = point
    coordinates = [lon, lat] if altitude is None else [lon, lat, altitude]
    if wkt:
        return f"POINT ({' '.join(js_string(c) for c in coordinates)})"
    found: dict[str, Any] = {
        "type": "Point",
        "coordinates": [json_number(c) for c in coordinates],
    }
    if accuracy is not None:
        found["properties"] = {"accuracy": json_number(accuracy)}
    return found


def _geoshape(text: str, kind: str, wkt: bool) -> Any:
    pieces = _POINT_SEPARATOR.split(text)
    points = []
    accuracies: list[float | None] = []
    for piece in pieces:
        parts = [js_parse_float(p) for p in _SPACES.split(piece)]
        if len(parts) < 2 and len(pieces) == 1:
            return None  # an empty element gives no point at all
        if len(parts) < 2 or math.isnan(parts[0]) or math.isnan(parts[1]):
            continue  # a trailing `;`
        point = [parts[1], parts[0]]
        if len(parts) > 2 and not math.isnan(parts[2]):
            point.append(parts[2])
        points.append(point)
        accuracy = parts[3] if len(parts) > 3 else None
        # JavaScript's `accuracy || null`: 0 and NaN count as no accuracy.
        accuracies.append(None if not accuracy or math.isnan(accuracy) else accuracy)
    if wkt:
        joined = ",".join(" ".join(js_string(c) for c in p) for p in points)
        return (
            f"LINESTRING ({joined})" if kind == "geotrace" else f"POLYGON (({joined}))"
        )
    coordinates = [[json_number(c) for c in p] for p in points]
    found: dict[str, Any] = (
        {"type": "LineString", "coordinates": coordinates}
        if kind == "geotrace"
        else {"type": "Polygon", "coordinates": [coordinates]}
    )
    if any(a is not None for a in accuracies):
        found["properties"] = {
            "accuracies": [None if a is None else json_number(a) for a in accuracies]
        }
    return found


def typed(node: Node, raw: Any, wkt: bool) -> Any:
    """A field's stored text as Central writes it in OData."""
    if raw is None or isinstance(raw, dict | list):
        return None
    text = raw if isinstance(raw, str) else str(raw)
    kind = node.type
    if kind == "int":
        return js_parse_int(text)
    if kind == "decimal":
        return json_number(js_parse_float(text))
    if kind == "geopoint":
        return _geopoint(text, wkt)
    if kind in ("geotrace", "geoshape"):
        return _geoshape(text, kind, wkt)
    if kind == "dateTime":
        trimmed = text.strip()
        return f"{trimmed}:00" if _BARE_OFFSET.search(trimmed) else trimmed
    return text


# --- ids and links --------------------------------------------------------------


def join_id(context: Context, instance_id: str) -> str:
    """The id of the row at `context`: the instanceID at the root, else the
    SHA-1 of `Submissions#<instanceID>%%<group>#%%<repeat>#<position>...`
    (Central's `hashId`), stable as long as the record is."""
    if not context:
        return instance_id
    parts = [f"{ROOT_TABLE}#{instance_id}"]
    for node, position in context:
        parts.append(
            f"{node.name}#" if node.kind == "group" else f"{node.name}#{position}"
        )
    return hashlib.sha1("%%".join(parts).encode(), usedforsecurity=False).hexdigest()


def navigation_link(context: Context, instance_id: str) -> str:
    """The relative URL of a repeat's rows: `Submissions('<id>')/children/
    child('<join id>')/toys/toy` (the repeat last in `context`)."""
    link = [f"{ROOT_TABLE}('{_quoted(instance_id)}')"]
    for n, (node, _position) in enumerate(context):
        if node.kind == "repeat" and n < len(context) - 1:
            link.append(f"{node.ident}('{join_id(context[: n + 1], instance_id)}')")
        else:
            link.append(node.ident)
    return "/".join(link)


# encodeURIComponent leaves these as they are.
_URI_SAFE = "-_.!~*'()"


@lru_cache(maxsize=256)
def _quoted(instance_id: str) -> str:
    # A record's repeats each link to it: quote its id once, not per repeat.
    return quote(instance_id, safe=_URI_SAFE)


# --- rows ---------------------------------------------------------------------------


def _child(values: Any, name: str) -> Any:
    return values.get(name) if isinstance(values, Mapping) else None


def _nothing(_name: str) -> None:
    return None


def _getter(values: Any) -> Callable[[str], Any]:
    """`values.get`, or a getter of nothing for a value that holds no fields."""
    if values.__class__ is dict or isinstance(values, Mapping):
        return values.get  # type: ignore[no-any-return]
    return _nothing


# Field types whose stored text Central rewrites; every other type is the
# text as received (the common case, kept off `typed` for speed: OData pages
# of meetings with their repeats build about a hundred fields per record).
_REWRITTEN = frozenset(
    {"int", "decimal", "geopoint", "geotrace", "geoshape", "dateTime"}
)


def _entries(value: Any) -> list[Any]:
    """A repeat's stored entries; one stored under another version as a
    group counts as one entry."""
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    return []


def _frame(
    nodes: tuple[Node, ...],
    values: Any,
    context: Context,
    instance_id: str,
    options: RowOptions,
) -> dict[str, Any]:
    """An object's fields and groups (each group with its own repeats)."""
    found: dict[str, Any] = {}
    get = _getter(values)
    for node in nodes:
        kind = node.kind
        if kind == "field":
            raw = get(node.name)
            if raw.__class__ is str and node.type not in _REWRITTEN:
                found[node.ident] = raw
            else:
                found[node.ident] = typed(node, raw, options.wkt)
        elif kind == "group":
            inner_values = get(node.name)
            inner_context = (*context, (node, None))
            inner = _frame(
                node.children, inner_values, inner_context, instance_id, options
            )
            _repeats(
                node.children, inner_values, inner, inner_context, instance_id, options
            )
            found[node.ident] = inner
    return found


def _repeats(
    nodes: tuple[Node, ...],
    values: Any,
    into: dict[str, Any],
    context: Context,
    instance_id: str,
    options: RowOptions,
) -> None:
    """The links to (and, expanded, the entries of) an object's repeats."""
    for node in nodes:
        if node.kind != "repeat":
            continue
        entries = _entries(_child(values, node.name))
        if not entries:
            continue
        into[f"{node.ident}@odata.navigationLink"] = navigation_link(
            (*context, (node, None)), instance_id
        )
        if options.expand:
            into[node.ident] = [
                _entry(node, entry, (*context, (node, n)), instance_id, options)
                for n, entry in enumerate(entries)
            ]


def _entry(
    node: Node, values: Any, context: Context, instance_id: str, options: RowOptions
) -> dict[str, Any]:
    found = _frame(node.children, values, context, instance_id, options)
    found["__id"] = join_id(context, instance_id)
    _repeats(node.children, values, found, context, instance_id, options)
    return found


def system_fields(record: SubmissionRecord) -> dict[str, Any]:
    """`__system`, in Central's order."""
    review = record.review_state
    return {
        "submissionDate": iso_instant(record.submission_date),
        "updatedAt": iso_instant(record.updated_at),
        "submitterId": None
        if record.submitter_id is None
        else str(record.submitter_id),
        "submitterName": record.submitter_name or None,
        "attachmentsPresent": record.attachments_present or 0,
        "attachmentsExpected": record.attachments_expected or 0,
        "status": record.status or None,
        "reviewState": None if review in (None, "", "received") else review,
        "deviceId": record.device_id or None,
        "edits": record.edits,
        "formVersion": record.form_version,
        "deletedAt": iso_instant(record.deleted_at),
    }


def root_row(
    tree: tuple[Node, ...], record: SubmissionRecord, options: RowOptions
) -> dict[str, Any]:
    """The record's row in `Submissions`."""
    iid = record.instance_id
    row = _frame(tree, record.values, (), iid, options)
    wanted = options.metadata
    if wanted is None or "__id" in wanted:
        row["__id"] = iid
    system = system_fields(record)
    if wanted is None or "__system" in wanted:
        row["__system"] = system
    elif any(name.startswith("__system/") for name in wanted):
        row["__system"] = {
            name: system[name]
            for name in SYSTEM_PROPERTIES
            if f"__system/{name}" in wanted
        }
    _repeats(tree, record.values, row, (), iid, options)
    return row


def _reach(
    steps: tuple[Node, ...], values: Any, context: Context
) -> Iterator[tuple[Any, Context]]:
    """Each entry of the repeat `steps` ends with, with its context."""
    node, rest = steps[0], steps[1:]
    value = _child(values, node.name)
    if node.kind == "group":
        yield from _reach(rest, value, (*context, (node, None)))
        return
    for n, entry in enumerate(_entries(value)):
        here = (*context, (node, n))
        if rest:
            yield from _reach(rest, entry, here)
        else:
            yield entry, here


def table_rows(
    steps: tuple[Node, ...], record: SubmissionRecord, options: RowOptions
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The record's rows in the table of the repeat `steps` leads to, in the
    order the entries were recorded, each with its join id and its parent's
    (also when `$select` leaves them out: paging and navigation go by them)."""
    iid = record.instance_id
    target = steps[-1]
    key = parent_key(steps)
    wanted = options.metadata
    for entry, context in _reach(steps, record.values, ()):
        row = _frame(target.children, entry, context, iid, options)
        row_id = join_id(context, iid)
        parent_id = join_id(_parent_context(context), iid)
        if wanted is None or "__id" in wanted:
            row["__id"] = row_id
        if wanted is None or key in wanted:
            row[key] = parent_id
        _repeats(target.children, entry, row, context, iid, options)
        yield row_id, parent_id, row


def _parent_context(context: Context) -> Context:
    """The context of the repeat entry that holds the last one (() for the
    record itself)."""
    for n in range(len(context) - 2, -1, -1):
        if context[n][0].kind == "repeat":
            return context[: n + 1]
    return ()
