"""The OData system query options of a request, read as Central reads them.

Before anything else (Central's `odataPreprocessor`): `$format`, or else the
`Accept` header, must allow the resource's format (406.1); an
`OData-MaxVersion` below 4.0 is not served (404.1); a query parameter Central
does not know is 501.1; `$expand` other than `*` is 501.6; `$select` with
`$expand` is 501.11. Then the paging options: `$top` and `$skip` are whole
numbers (Central reads them with parseInt), and `$skiptoken` is Central's
opaque cursor: `01` and base64 JSON, `{"instanceId"}` on `Submissions`,
`{"repeatId"}` on a repeat's table (400.35 when it is not). Booleans are
case-insensitive (pyODK sends `True`).

`next_link` writes the `@odata.nextLink` Central writes: the request's own
path and parameters, `$skip` dropped and `$skiptoken` set, encoded as
JavaScript's URLSearchParams encodes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import InvalidDataTypeError, UnexpectedValueError
from app.odata.errors import (
    InvalidSkiptokenError,
    NotImplementedFeatureError,
    ODataNotFoundError,
    OutOfRangeError,
    SelectWithExpandError,
    UnacceptableFormatError,
    UnsupportedExpandError,
)

SUPPORTED = (
    "$format",
    "$count",
    "$skip",
    "$top",
    "$filter",
    "$wkt",
    "$expand",
    "$select",
    "$skiptoken",
    "$orderby",
    "$search",
)
FORMATS = {"json": ("application/json", "json"), "xml": ("application/xml", "atom")}
_JSON = re.compile(r"(^|,)(application/json|json)($|;|,)", re.I)
_XML = re.compile(r"(^|,)(application/(atom(svc)?\+)?xml|atom|xml)($|;|,)", re.I)
_LEADING_INT = re.compile(r"\s*([+-]?\d+)")
BIGINT_MAX = 2**63 - 1
SKIPTOKEN_VERSION = "01"
# What URLSearchParams leaves as it is (space becomes `+`).
_FORM_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-._"
)

Params = Sequence[tuple[str, str]]


def check_request(params: Params, *, headers: Mapping[str, str], serves: str) -> None:
    """Central's checks before the resource: format, version, options.

    `serves`: "json" for the service and data documents, "xml" for
    `$metadata`.

    Raises: UnacceptableFormatError (406.1), ODataNotFoundError (404.1),
    NotImplementedFeatureError (501.1), UnsupportedExpandError (501.6),
    SelectWithExpandError (501.11).
    """
    query = first_values(params)
    asked = query.get("$format") or headers.get("Accept") or ""
    wants_json = bool(_JSON.search(asked))
    wants_xml = bool(_XML.search(asked))
    if (wants_json and serves == "xml") or (wants_xml and serves == "json"):
        raise UnacceptableFormatError(FORMATS[serves], asked)
    max_version = headers.get("OData-MaxVersion")
    if max_version is not None and _parse_float(max_version) < 4.0:
        raise ODataNotFoundError()
    for key, _value in params:
        if key not in SUPPORTED:
            raise NotImplementedFeatureError(key)
    expand = query.get("$expand")
    if expand and expand != "*":
        raise UnsupportedExpandError(expand)
    if expand and query.get("$select"):
        raise SelectWithExpandError()


def _parse_float(text: str) -> float:
    match = re.match(r"\s*([+-]?\d+(?:\.\d*)?)", text)
    return float(match.group(1)) if match else float("nan")


def first_values(params: Params) -> dict[str, str]:
    """Each parameter's first value."""
    found: dict[str, str] = {}
    for key, value in params:
        found.setdefault(key, value)
    return found


def is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def _whole(name: str, text: str) -> int:
    match = _LEADING_INT.match(text)
    if match is None:
        raise InvalidDataTypeError(name, "integer")
    number = int(match.group(1))
    if number < 0:
        raise UnexpectedValueError(
            name, text, "no puede ser negativo.", "must not be negative."
        )
    if number > BIGINT_MAX:
        raise OutOfRangeError(match.group(1).lstrip("+"), "bigint")
    return number


@dataclass(frozen=True)
class ODataQuery:
    params: tuple[tuple[str, str], ...]  # as the request gave them, in order
    top: int | None = None
    skip: int = 0
    count: bool = False
    wkt: bool = False
    expand: bool = False
    select: str | None = None
    filter: str | None = None
    orderby: str | None = None
    skiptoken: dict[str, Any] | None = None


def read_query(params: Params) -> ODataQuery:
    """The paging and shaping options.

    Raises: InvalidDataTypeError (400.11), UnexpectedValueError (400.8),
    OutOfRangeError (400.22), InvalidSkiptokenError (400.35).
    """
    query = first_values(params)
    top = _whole("$top", query["$top"]) if query.get("$top") is not None else None
    token = query.get("$skiptoken")
    skip = 0
    if query.get("$skip") is not None:
        skip = _whole("$skip", query["$skip"])
    return ODataQuery(
        params=tuple(params),
        top=top,
        # Central ignores $skip when a $skiptoken says where to go on.
        skip=0 if token else skip,
        count=is_true(query.get("$count")),
        wkt=is_true(query.get("$wkt")),
        expand=query.get("$expand") == "*",
        select=query.get("$select") or None,
        filter=query.get("$filter") or None,
        orderby=query.get("$orderby"),
        skiptoken=decode_skiptoken(token) if token else None,
    )


def decode_skiptoken(token: str) -> dict[str, Any]:
    """Raises: InvalidSkiptokenError (400.35)."""
    if not token.startswith(SKIPTOKEN_VERSION):
        raise InvalidSkiptokenError()
    body = token[len(SKIPTOKEN_VERSION) :]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise InvalidSkiptokenError() from exc
    if not isinstance(data, dict):
        raise InvalidSkiptokenError()
    return data


def encode_skiptoken(data: Mapping[str, Any]) -> str:
    """`01` + base64 of the JSON, as Central writes it."""
    text = json.dumps(dict(data), separators=(",", ":"), ensure_ascii=False)
    return SKIPTOKEN_VERSION + base64.b64encode(text.encode()).decode()


def _form_encode(text: str) -> str:
    out = []
    for byte in text.encode():
        char = chr(byte)
        if char in _FORM_SAFE:
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def next_link(domain: str, path: str, params: Params, token: str) -> str:
    """The URL of the next page: this request's, `$skip` dropped and
    `$skiptoken` set (replacing one given)."""
    pairs = [(k, v) for k, v in params if k != "$skip"]
    placed = False
    kept: list[tuple[str, str]] = []
    for key, value in pairs:
        if key == "$skiptoken":
            if not placed:
                kept.append((key, token))
                placed = True
            continue
        kept.append((key, value))
    if not placed:
        kept.append(("$skiptoken", token))
    query = "&".join(f"{_form_encode(k)}={_form_encode(v)}" for k, v in kept)
    return f"{domain}{path}?{query}"


def skip_link(domain: str, path: str, params: Params, skip: int) -> str:
    """The URL of the next page of an ordered request: this request's, with
    `$skip` set (where a `$skiptoken` cannot follow an `$orderby`)."""
    kept = [(k, v) for k, v in params if k not in ("$skip", "$skiptoken")]
    kept.append(("$skip", str(skip)))
    query = "&".join(f"{_form_encode(k)}={_form_encode(v)}" for k, v in kept)
    return f"{domain}{path}?{query}"
