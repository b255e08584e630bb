"""`GET /v1/audits`: the server's audit log in Central's shape (`app.audit`).

Central's query: `action` (an action name, a category such as `user`,
`form` or `submission`, or `nonverbose`, which leaves out every single
submission), `start` (inclusive) and `end` (exclusive) as ISO dates or
timestamps (a day is its midnight; no zone means UTC, as on Central's Docker
install), `limit` and `offset`. `X-Extended-Metadata: true` adds `actor` and
`actee`. Needs `audit.read`. Entries name what was done, never submission
content (`app.audit.record`).
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, Response, jsonify, request

from app import audit
from app.api.common import central_routes, extended
from app.api.openapi import operation
from app.api.schemas.accounts import AuditSchema, ExtendedAuditSchema
from app.auth import permissions
from app.datebounds import parse_instant
from app.errors import InvalidDataTypeError
from app.httpauth import resolve_actor
from app.runtime import read_session

bp = Blueprint("api_audits", __name__)

# A day with an optional zone: `2000-01-01`, `2000-01-01z`, `2000-01-01+08`.
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:([zZ])|([+-]\d{2})(?::?(\d{2}))?)?$")


_route = central_routes(bp)


def _instant(name: str) -> datetime | None:
    """Central's `start`/`end`: ISO 8601, a bare day meaning its midnight;
    `z` in either case. Raises: DateBoundError (400.8)."""
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    day = _DAY.match(value)
    if day is not None:
        date, zulu, hours, minutes = day.groups()
        zone = "+00:00" if zulu or not hours else f"{hours}:{minutes or '00'}"
        value = f"{date}T00:00:00{zone}"
    elif value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    return parse_instant(value, name)


def _count(name: str) -> int | None:
    """`limit`/`offset`: a whole number. Raises: 400.11 (Central's)."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise InvalidDataTypeError(name, "integer")
    return int(value)


@_route("/audits", methods=["GET"])
@operation(
    "Read the audit log",
    tag="Audits",
    response=AuditSchema,
    many=True,
    query={
        "action": "an action, a category (user, field_key, project, form, "
        "submission, …) or nonverbose",
        "start": "ISO date or timestamp, inclusive",
        "end": "ISO date or timestamp, exclusive",
        "limit": "how many entries at most",
        "offset": "how many entries to skip",
    },
    headers={"X-Extended-Metadata": "`true`: with `actor` and `actee`"},
)
def audit_list(token: str | None = None) -> Response:
    """Newest first; Central's action names where Central logs the same
    event, Ayni's own (consent, governance) as they are."""
    actor = resolve_actor(token)
    permissions.require(actor, "audit.read", permissions.SITE)
    entries = audit.central_entries(
        read_session(),
        action=(request.args.get("action") or "").strip() or None,
        start=_instant("start"),
        end=_instant("end"),
        limit=_count("limit"),
        offset=_count("offset"),
    )
    schema = ExtendedAuditSchema if extended() else AuditSchema
    return jsonify(schema(many=True).dump(entries))
