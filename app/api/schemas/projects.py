"""Projects and app users: Central's Project (plain and extended, with
`verbs`, `formList` and `datasetList`) and App User (plain and extended).

Every key Central sends is present, `null` when empty (pyODK's models are
strict). Ayni has no managed encryption (`keyId` is always null) and no
entity lists yet (`datasets` is 0, `lastEntity` null, `datasetList` empty).
Request bodies are read with `fields.Raw` and checked by the views, because
Central answers a wrong type with its own problem (400.11) naming the field,
not with a list of messages.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from app.api.schemas.common import InputSchema, IsoDateTime
from app.api.schemas.forms import FormSchema


def project_row(project: Any, **extra: Any) -> dict[str, Any]:
    """A project as the schemas below dump it: its columns, plus the figures
    the view adds (`app_users`, `forms`, `last_submission`, `datasets`,
    `last_entity`, `verbs`, `form_list`, `dataset_list`). A key left out is
    left out of the answer, as Central leaves out what was not asked for."""
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "archived": bool(project.archived),
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "deleted_at": project.deleted_at,
        **extra,
    }


def extended_figures(
    *, app_users: int, forms: int, last_submission: Any
) -> dict[str, Any]:
    """The extended keys of a project; no entity lists in Ayni yet."""
    return {
        "app_users": app_users,
        "forms": forms,
        "last_submission": last_submission,
        "datasets": 0,
        "last_entity": None,
    }


class ProjectSchema(Schema):
    """Central's Project, dumped from `project_row`."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    archived = fields.Boolean()
    keyId = fields.Constant(None)  # noqa: N815 - no managed encryption
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815


class ExtendedProjectSchema(ProjectSchema):
    """With `X-Extended-Metadata: true`: counts and the last submission."""

    appUsers = fields.Integer(attribute="app_users")  # noqa: N815
    forms = fields.Integer()
    lastSubmission = IsoDateTime(attribute="last_submission")  # noqa: N815
    datasets = fields.Integer()
    lastEntity = IsoDateTime(attribute="last_entity")  # noqa: N815


class ExtendedProjectWithVerbsSchema(ExtendedProjectSchema):
    """`GET /v1/projects/<id>` extended: also the actor's verbs there."""

    verbs = fields.List(fields.String())


class ProjectListEntrySchema(ExtendedProjectWithVerbsSchema):
    """One project of `GET /v1/projects`: always its `verbs` (Central's
    listing joins them in), the extended keys when asked for, `formList` with
    `?forms=true` and `datasetList` with `?datasets=true`."""

    formList = fields.List(fields.Nested(FormSchema), attribute="form_list")  # noqa: N815
    datasetList = fields.List(fields.Raw(), attribute="dataset_list")  # noqa: N815


class ProjectInputSchema(InputSchema):
    """`POST`, `PATCH` and `PUT /v1/projects[/<id>]`."""

    name = fields.Raw(allow_none=True)
    description = fields.Raw(allow_none=True)
    archived = fields.Raw(allow_none=True)
    forms = fields.Raw(allow_none=True)


class KeyInputSchema(InputSchema):
    """`POST /v1/projects/<id>/key`: Central's managed encryption."""

    passphrase = fields.Raw(allow_none=True)
    hint = fields.Raw(allow_none=True)


def app_user_row(
    app_user: Any, *, created_by: Any = None, last_used: Any = None
) -> dict[str, Any]:
    """An app user as the schemas below dump it; `created_by` (a web user)
    and `last_used` feed the extended shape."""
    return {
        "project_id": app_user.project_id,
        "id": app_user.id,
        "display_name": app_user.display_name,
        # Central clears a revoked app user's token.
        "token": None if app_user.revoked_at is not None else app_user.token,
        "created_at": app_user.created_at,
        "updated_at": app_user.updated_at,
        "deleted_at": app_user.revoked_at,
        "created_by": created_by,
        "last_used": last_used,
    }


class ActorSchema(Schema):
    """Central's Actor as it embeds one (`createdBy`): no e-mail."""

    id = fields.Integer()
    type = fields.Constant("user")
    displayName = fields.String(attribute="display_name")  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815


class AppUserSchema(Schema):
    """Central's App User (a field key): pyODK's `ProjectAppUser`, dumped
    from `app_user_row`."""

    projectId = fields.Integer(attribute="project_id")  # noqa: N815
    id = fields.Integer()
    type = fields.Constant("field_key")
    displayName = fields.String(attribute="display_name")  # noqa: N815
    token = fields.String(allow_none=True)
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815


class ExtendedAppUserSchema(AppUserSchema):
    """With `X-Extended-Metadata: true`: who made it (null when the server
    did, from the command line), when it last sent a submission, and
    Central's actor properties (Ayni has none: null)."""

    createdBy = fields.Nested(ActorSchema, attribute="created_by", allow_none=True)  # noqa: N815
    lastUsed = IsoDateTime(attribute="last_used")  # noqa: N815
    properties = fields.Constant(None)


class AppUserInputSchema(InputSchema):
    """`POST /v1/projects/<id>/app-users`: `{displayName}`, as pyODK sends."""

    displayName = fields.Raw(allow_none=True)  # noqa: N815
