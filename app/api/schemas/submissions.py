"""Submissions: Central's Submission, its versions, attachments, comments,
audit entries and submitters, plain and extended (`X-Extended-Metadata`).

Keys are exactly Central's (its `lib/model/frames` readable fields, with the
extended joins of `lib/model/query/submissions.js`): pyODK's models are
strict, so every key is present, `null` when empty.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from app.api.schemas.common import InputSchema, IsoDateTime


class SubmitterSchema(Schema):
    """Central's Actor: who submitted, commented or acted."""

    id = fields.Integer()
    type = fields.String(attribute="kind")
    displayName = fields.String(attribute="display_name")  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815


class SubmissionVersionSchema(Schema):
    """Central's submission version (`submission_defs`)."""

    instanceId = fields.String(attribute="instance_id")  # noqa: N815
    instanceName = fields.String(attribute="instance_name", allow_none=True)  # noqa: N815
    submitterId = fields.Integer(attribute="submitter_id", allow_none=True)  # noqa: N815
    deviceId = fields.String(attribute="device_id", allow_none=True)  # noqa: N815
    userAgent = fields.String(attribute="user_agent", allow_none=True)  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    current = fields.Boolean()


class CurrentVersionExtendedSchema(SubmissionVersionSchema):
    """A submission's current version, extended: with its submitter."""

    submitter = fields.Nested(SubmitterSchema, allow_none=True)


class ExtendedSubmissionVersionSchema(CurrentVersionExtendedSchema):
    """A version as `…/versions` gives it extended: its submitter and the
    version of the form it was sent against."""

    formVersion = fields.String(attribute="form_version")  # noqa: N815


class SubmissionSchema(Schema):
    """Central's Submission: the first version's identity, device and user
    agent, the review state (`null`: received) and the current version."""

    instanceId = fields.String(attribute="instance_id")  # noqa: N815
    submitterId = fields.Integer(attribute="submitter_id", allow_none=True)  # noqa: N815
    deviceId = fields.String(attribute="device_id", allow_none=True)  # noqa: N815
    userAgent = fields.String(attribute="user_agent", allow_none=True)  # noqa: N815
    reviewState = fields.String(attribute="review_state", allow_none=True)  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815
    currentVersion = fields.Nested(  # noqa: N815
        SubmissionVersionSchema, attribute="current_version"
    )


class ExtendedSubmissionSchema(SubmissionSchema):
    submitter = fields.Nested(SubmitterSchema, allow_none=True)
    currentVersion = fields.Nested(  # noqa: N815
        CurrentVersionExtendedSchema, attribute="current_version"
    )


class SubmissionAttachmentSchema(Schema):
    """A file the submission names, and whether the server has it."""

    name = fields.String()
    exists = fields.Boolean(attribute="present")


class CommentSchema(Schema):
    body = fields.String()
    actorId = fields.Integer(attribute="author_id", allow_none=True)  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815


class ExtendedCommentSchema(CommentSchema):
    actor = fields.Nested(SubmitterSchema, attribute="author", allow_none=True)


class CommentInputSchema(InputSchema):
    body = fields.String(required=True)


class ReviewInputSchema(InputSchema):
    """`{"reviewState": …}`: the value is checked by the review service, so a
    wrong one gets Central's 400.8 with its details."""

    reviewState = fields.Raw(allow_none=True)  # noqa: N815


def dump_submission(info: Any, *, extended: bool) -> dict[str, Any]:
    schema = ExtendedSubmissionSchema() if extended else SubmissionSchema()
    return schema.dump(info)  # type: ignore[no-any-return]
