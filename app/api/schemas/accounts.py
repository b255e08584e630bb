"""Users, roles, assignments and the audit log: Central's User (plain and
extended), Actor, Role, Assignment (plain, extended, per form) and Audit
(plain and extended).

Every key Central sends is present, `null` when empty (pyODK's models are
strict). Request bodies are read with `fields.Raw` and checked by the views,
because Central answers a wrong type with its own problem (400.11) naming the
field, not with a list of messages.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump

from app.api.schemas.common import InputSchema, IsoDateTime
from app.api.schemas.forms import FormSchema


def _is_app_user(actor: Any) -> bool:
    # App users belong to a project; web users do not.
    return getattr(actor, "project_id", None) is not None


class CentralActorSchema(Schema):
    """Central's Actor, of either type: a web user (`user`, no e-mail here)
    or an app user (`field_key`; a revoked one is deleted for Central)."""

    id = fields.Integer()
    type = fields.Method("_type")
    displayName = fields.String(attribute="display_name")  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = fields.Method("_deleted_at")  # noqa: N815

    def _type(self, actor: Any) -> str:
        return "field_key" if _is_app_user(actor) else "user"

    def _deleted_at(self, actor: Any) -> str | None:
        stamp = actor.revoked_at if _is_app_user(actor) else actor.deleted_at
        return IsoDateTime()._serialize(stamp, None, None)  # type: ignore[no-any-return]


def user_row(user: Any, last_login_at: Any = None, **extra: Any) -> dict[str, Any]:
    """A web user as `UserSchema` dumps it; `extra` feeds the extended keys."""
    return {
        "id": user.id,
        "display_name": user.display_name,
        "email": user.email,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "deleted_at": user.deleted_at,
        "last_login_at": last_login_at,
        **extra,
    }


class UserSchema(Schema):
    """Central's User, dumped from `user_row`."""

    id = fields.Integer()
    type = fields.Constant("user")
    displayName = fields.String(attribute="display_name")  # noqa: N815
    email = fields.String()
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815
    lastLoginAt = IsoDateTime(attribute="last_login_at")  # noqa: N815


class ExtendedUserSchema(UserSchema):
    """`GET /v1/users/current` with `X-Extended-Metadata: true`: the site-wide
    verbs the user holds and their preferences (Ayni keeps none)."""

    verbs = fields.List(fields.String())
    preferences = fields.Raw()


class UserCreateSchema(InputSchema):
    """`POST /v1/users`: `{email, password?, displayName?}`."""

    email = fields.Raw(allow_none=True)
    password = fields.Raw(allow_none=True, load_only=True)
    displayName = fields.Raw(allow_none=True)  # noqa: N815


class UserUpdateSchema(InputSchema):
    """`PATCH /v1/users/<id>`: `displayName` and `email`; other keys ignored."""

    displayName = fields.Raw(allow_none=True)  # noqa: N815
    email = fields.Raw(allow_none=True)


class PasswordChangeSchema(InputSchema):
    """`PUT /v1/users/<id>/password`: `{old, new}`."""

    old = fields.Raw(allow_none=True, load_only=True)
    new = fields.Raw(allow_none=True, load_only=True)


class RoleSchema(Schema):
    """Central's Role, from the permission table: `id` is Central's numeric id
    (Ayni's own roles from 101), `system` its system name. Ayni's roles are
    code, not rows, so they have no creation or change dates (`null`)."""

    id = fields.Integer(attribute="central_id")
    name = fields.String(attribute="title")
    system = fields.String()
    verbs = fields.Method("_verbs")
    createdAt = fields.Constant(None)  # noqa: N815
    updatedAt = fields.Constant(None)  # noqa: N815

    def _verbs(self, role: Any) -> list[str]:
        return sorted(role.verbs)


class _WithAyllu(Schema):
    """A guardian's grant also names its ayllu (Ayni's); Central's roles have
    none, so for them the key is left out and the shape is Central's exactly."""

    ayllu = fields.String(allow_none=True)

    @post_dump
    def _drop_empty_ayllu(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data.get("ayllu") is None:
            data.pop("ayllu", None)
        return data


class AssignmentSchema(_WithAyllu):
    """Central's Assignment: `{actorId, roleId}`."""

    actorId = fields.Integer(attribute="actor_id")  # noqa: N815
    roleId = fields.Integer(attribute="role.central_id")  # noqa: N815


class ExtendedAssignmentSchema(AssignmentSchema):
    """With `X-Extended-Metadata: true`: the whole actor too."""

    actor = fields.Nested(CentralActorSchema)


class FormAssignmentSchema(_WithAyllu):
    """Central's FormSummaryAssignment: `{actorId, xmlFormId, roleId}`."""

    actorId = fields.Integer(attribute="actor_id")  # noqa: N815
    xmlFormId = fields.String(attribute="xml_form_id")  # noqa: N815
    roleId = fields.Integer(attribute="role.central_id")  # noqa: N815


class ExtendedFormAssignmentSchema(FormAssignmentSchema):
    actor = fields.Nested(CentralActorSchema)


class AuditProjectSchema(Schema):
    """A project as an audit entry's `actee`."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    archived = fields.Boolean()
    keyId = fields.Constant(None)  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815


class AuditSchema(Schema):
    """Central's Audit."""

    actorId = fields.Integer(attribute="actor_id", allow_none=True)  # noqa: N815
    action = fields.String()
    acteeId = fields.String(attribute="actee_id", allow_none=True)  # noqa: N815
    details = fields.Raw(allow_none=True)
    loggedAt = IsoDateTime(attribute="logged_at")  # noqa: N815


class ExtendedAuditSchema(AuditSchema):
    """With `X-Extended-Metadata: true`: the actor, and the actee: an actor,
    a project or a form (a submission's entries act on its form, as in
    Central), `null` when there is none."""

    actor = fields.Nested(CentralActorSchema, allow_none=True)
    actee = fields.Method("_actee")

    def _actee(self, entry: Any) -> dict[str, Any] | None:
        actee = entry.actee
        if actee is None:
            return None
        if hasattr(actee, "xml_form_id"):
            shown: dict[str, Any] = FormSchema().dump(actee)
            shown["deletedAt"] = IsoDateTime()._serialize(actee.deleted_at, None, None)
            return shown
        if hasattr(actee, "archived"):
            return AuditProjectSchema().dump(actee)  # type: ignore[no-any-return]
        return CentralActorSchema().dump(actee)  # type: ignore[no-any-return]
