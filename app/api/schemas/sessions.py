"""Sessions and users: `POST /v1/sessions`, `GET /v1/users/current`."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.api.schemas.common import InputSchema, IsoDateTime


class SessionCreateSchema(InputSchema):
    email = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class SessionSchema(Schema):
    token = fields.String()
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815 - Central's name
    expiresAt = IsoDateTime(attribute="expires_at")  # noqa: N815


class UserSchema(Schema):
    id = fields.Integer()
    type = fields.Constant("user")
    displayName = fields.String(attribute="display_name")  # noqa: N815
    email = fields.String()
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815
