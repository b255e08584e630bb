"""Submissions: Central's submission object."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from app.api.schemas.common import IsoDateTime


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
