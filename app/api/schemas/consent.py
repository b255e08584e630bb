"""Consent withdrawals (domain.md §4) in the API: Ayni's addition beside
Central's resources, in Central's key style (camelCase, ISO dates, every key
present)."""

from __future__ import annotations

from marshmallow import fields, validate

from app.api.schemas.common import InputSchema, IsoDateTime

MAX_REASON = 2000


class WithdrawalSchema(InputSchema):
    """One line of a project's consent history. A record is named by form
    and instanceID only, never by content."""

    id = fields.Integer()
    layer = fields.String()
    ayllu = fields.String(allow_none=True)
    xmlFormId = fields.String(attribute="xml_form_id", allow_none=True)  # noqa: N815
    instanceId = fields.String(attribute="instance_id", allow_none=True)  # noqa: N815
    reason = fields.String()
    recordedBy = fields.String(attribute="recorded_by")  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    liftedAt = IsoDateTime(attribute="lifted_at", allow_none=True)  # noqa: N815
    liftedBy = fields.String(attribute="lifted_by", allow_none=True)  # noqa: N815
    liftReason = fields.String(attribute="lift_reason", allow_none=True)  # noqa: N815


class WithdrawalCreateSchema(InputSchema):
    """`individual` names one record (`xmlFormId` and `instanceId`);
    `colectivo` names an ayllu."""

    # The layer's values are the governance service's to check (one message).
    layer = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(max=MAX_REASON))
    ayllu = fields.String(load_default=None)
    xmlFormId = fields.String(load_default=None)  # noqa: N815
    instanceId = fields.String(load_default=None)  # noqa: N815


class WithdrawalLiftSchema(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(max=MAX_REASON))
