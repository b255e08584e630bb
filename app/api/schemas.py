"""marshmallow schemas of the API: JSON in (load) and out (dump), Central's shapes.

Dates are ISO-8601 UTC with milliseconds and `Z`, as pyODK's models expect
(openrosa.md §9); every nullable key is present, `null` when empty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, fields


class IsoDateTime(fields.Field):
    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{value.microsecond // 1000:03d}Z"
        )


class SessionCreateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

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


class SubmissionSchema(Schema):
    instanceId = fields.String(attribute="instance_id")  # noqa: N815
    submitterId = fields.Method("_submitter")  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    deviceId = fields.String(attribute="device_id", allow_none=True)  # noqa: N815
    reviewState = fields.Method("_review_state")  # noqa: N815
    userAgent = fields.String(attribute="user_agent", allow_none=True)  # noqa: N815
    instanceName = fields.String(attribute="instance_name", allow_none=True)  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815

    def _submitter(self, obj: Any) -> int | None:
        return obj.submitter_user_id or obj.submitter_app_user_id  # type: ignore[no-any-return]

    def _review_state(self, obj: Any) -> str | None:
        # Central: null means "received".
        return None if obj.review_state == "received" else obj.review_state  # type: ignore[no-any-return]
