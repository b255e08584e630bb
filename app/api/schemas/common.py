"""What every API schema shares: Central's date format and its key rules.

Dates are ISO-8601 UTC with milliseconds and `Z`, as pyODK's models expect
(openrosa.md §9). pyODK's pydantic models are strict, so every key a Central
response has is present, `null` when empty: dump schemas declare every key
and never skip a None. Load schemas ignore keys they do not know, as Central
does (`unknown = EXCLUDE`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, fields


class IsoDateTime(fields.Field):
    """A datetime as Central writes it: `2026-11-24T13:31:04.123Z`."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{value.microsecond // 1000:03d}Z"
        )


class InputSchema(Schema):
    """A request body: keys the schema does not name are ignored."""

    class Meta:
        unknown = EXCLUDE


class SuccessSchema(Schema):
    """Central's answer to an action with nothing to return."""

    success = fields.Boolean(dump_default=True)
