"""Sessions: `POST /v1/sessions` and `GET /v1/sessions/restore`."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.api.schemas.common import InputSchema, IsoDateTime


class SessionCreateSchema(InputSchema):
    """`{email, password}`; blank values are checked by the view, as Central
    answers a missing and a blank value alike (400.3)."""

    email = fields.Raw(allow_none=True)
    password = fields.Raw(allow_none=True, load_only=True)


class SessionSchema(Schema):
    token = fields.String()
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815 - Central's name
    expiresAt = IsoDateTime(attribute="expires_at")  # noqa: N815


class SessionRestoreSchema(Schema):
    """The current session's dates, never its token."""

    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    expiresAt = IsoDateTime(attribute="expires_at")  # noqa: N815
