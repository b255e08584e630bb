"""Forms: Central's Form object, its extended shapes (a form with its
submission counts, a version with who published it), form attachments,
schema fields and the bodies a client sends (`PATCH` of a form).

Every key of Central's Form is present, `null` when empty: `version` is `""`
for a form without one (pyODK refuses `null` there). A form dumps with the
version Central shows: the published one, or the draft of a form never
published (`publishedAt` null); a `FormView` names the version itself (a
draft, an older version).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump

from app.api.schemas.common import InputSchema, IsoDateTime
from app.forms.lifecycle import FormView

_ISO = IsoDateTime()


def _iso(value: Any) -> str | None:
    return _ISO._serialize(value, None, None)  # type: ignore[no-any-return]


def _form_of(obj: Any) -> Any:
    return obj.form if isinstance(obj, FormView) else obj


def _version_of(obj: Any) -> Any:
    if isinstance(obj, FormView):
        return obj.version
    return obj.current_version or obj.draft_version


class ActorSchema(Schema):
    """Central's Actor, as `createdBy` and `publishedBy` show a person."""

    id = fields.Integer()
    type = fields.Constant("user")
    displayName = fields.String(attribute="display_name")  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    deletedAt = IsoDateTime(attribute="deleted_at")  # noqa: N815


class FormSchema(Schema):
    """Central's Form: every key present, `null` when empty; `version` is
    `""` for a form without one (pyODK refuses `null` there). Dumps a form
    model (its published version, else its draft) or a `FormView`."""

    projectId = fields.Method("_project_id")  # noqa: N815
    xmlFormId = fields.Method("_xml_form_id")  # noqa: N815
    name = fields.Method("_name")
    version = fields.Method("_version")
    enketoId = fields.Constant(None)  # noqa: N815 - no Enketo on the LAN
    enketoOnceId = fields.Constant(None)  # noqa: N815
    hash = fields.Method("_hash")
    sha = fields.Method("_sha")
    sha256 = fields.Method("_sha256")
    keyId = fields.Constant(None)  # noqa: N815 - no managed encryption keys
    state = fields.Method("_state")
    # Draft testing (Central's /test/<token>/… routes) is not offered.
    draftToken = fields.Constant(None)  # noqa: N815
    publishedAt = fields.Method("_published_at")  # noqa: N815
    createdAt = fields.Method("_created_at")  # noqa: N815
    updatedAt = fields.Method("_updated_at")  # noqa: N815
    webformsEnabled = fields.Constant(False)  # noqa: N815

    def _project_id(self, obj: Any) -> int:
        return _form_of(obj).project_id  # type: ignore[no-any-return]

    def _xml_form_id(self, obj: Any) -> str:
        return _form_of(obj).xml_form_id  # type: ignore[no-any-return]

    def _state(self, obj: Any) -> str:
        return _form_of(obj).state  # type: ignore[no-any-return]

    def _name(self, obj: Any) -> str | None:
        version = _version_of(obj)
        return version.title if version is not None else _form_of(obj).title  # type: ignore[no-any-return]

    def _version(self, obj: Any) -> str:
        version = _version_of(obj)
        return (version.version or "") if version is not None else ""

    def _hash(self, obj: Any) -> str | None:
        version = _version_of(obj)
        return version.md5 if version is not None else None

    def _sha(self, obj: Any) -> str | None:
        version = _version_of(obj)
        return version.sha1 if version is not None else None

    def _sha256(self, obj: Any) -> str | None:
        version = _version_of(obj)
        return version.sha256 if version is not None else None

    def _published_at(self, obj: Any) -> str | None:
        version = _version_of(obj)
        return _iso(version.published_at if version is not None else None)

    def _created_at(self, obj: Any) -> str | None:
        return _iso(_form_of(obj).created_at)

    def _updated_at(self, obj: Any) -> str | None:
        return _iso(_form_of(obj).updated_at)

    @post_dump(pass_original=True)
    def _trash(self, data: dict[str, Any], original: Any, **_: Any) -> dict[str, Any]:
        # Central adds a deleted form's `deletedAt` and numeric `id` (the
        # restore route takes it), and nothing for a live one.
        form = _form_of(original)
        if getattr(form, "deleted_at", None) is not None:
            data["deletedAt"] = _iso(form.deleted_at)
            data["id"] = form.id
        return data


class ReviewStatesSchema(Schema):
    received = fields.Integer()
    hasIssues = fields.Integer()  # noqa: N815
    edited = fields.Integer()


class ExtendedFormSchema(FormSchema):
    """Central's extended Form (`X-Extended-Metadata: true`): the counts are
    of the submissions this caller may know of."""

    submissions = fields.Method("_submissions")
    reviewStates = fields.Method("_review_states")  # noqa: N815
    lastSubmission = fields.Method("_last_submission")  # noqa: N815
    createdBy = fields.Method("_created_by")  # noqa: N815
    excelContentType = fields.Method("_excel_content_type")  # noqa: N815
    entityRelated = fields.Constant(False)  # noqa: N815 - no entity lists yet
    publicLinks = fields.Constant(0)  # noqa: N815 - no public links

    def _stats(self, obj: Any) -> Any:
        return getattr(obj, "stats", None) if isinstance(obj, FormView) else None

    def _submissions(self, obj: Any) -> int:
        stats = self._stats(obj)
        return stats.submissions if stats is not None else 0

    def _review_states(self, obj: Any) -> dict[str, int]:
        stats = self._stats(obj)
        states = stats.review_states if stats is not None else {}
        return {
            "received": states.get("received", 0),
            "hasIssues": states.get("hasIssues", 0),
            "edited": states.get("edited", 0),
        }

    def _last_submission(self, obj: Any) -> str | None:
        stats = self._stats(obj)
        return _iso(stats.last_submission if stats is not None else None)

    def _created_by(self, obj: Any) -> dict[str, Any] | None:
        user = obj.created_by if isinstance(obj, FormView) else None
        return ActorSchema().dump(user) if user is not None else None

    def _excel_content_type(self, obj: Any) -> str | None:
        return obj.excel_content_type if isinstance(obj, FormView) else None


class ExtendedFormVersionSchema(FormSchema):
    """A published version with who published it and its workbook's type."""

    publishedBy = fields.Method("_published_by")  # noqa: N815
    excelContentType = fields.Method("_excel_content_type")  # noqa: N815

    def _published_by(self, obj: Any) -> dict[str, Any] | None:
        user = obj.published_by if isinstance(obj, FormView) else None
        return ActorSchema().dump(user) if user is not None else None

    def _excel_content_type(self, obj: Any) -> str | None:
        return obj.excel_content_type if isinstance(obj, FormView) else None


class FormAttachmentSchema(Schema):
    """Central's FormAttachment: a file the version expects or carries."""

    name = fields.String()
    type = fields.String()
    exists = fields.Boolean()
    blobExists = fields.Method("_blob_exists")  # noqa: N815
    datasetExists = fields.Constant(False)  # noqa: N815 - no entity lists yet
    hash = fields.Method("_hash")
    size = fields.Method("_size")
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815

    def _blob_exists(self, slot: Any) -> bool:
        return slot.blob is not None  # type: ignore[no-any-return]

    def _hash(self, slot: Any) -> str | None:
        return slot.blob.md5 if slot.blob is not None else None

    def _size(self, slot: Any) -> int | None:
        return slot.blob.size if slot.blob is not None else None


class FormFieldSchema(Schema):
    """One field of Central's `/fields`."""

    path = fields.String()
    name = fields.String()
    type = fields.String()
    binary = fields.Boolean(allow_none=True)
    selectMultiple = fields.Boolean(allow_none=True)  # noqa: N815


class FormPatchSchema(InputSchema):
    """`PATCH …/forms/<id>`: only `state` changes; other keys are ignored,
    as Central ignores what is not writable."""

    state = fields.Raw(load_default=None)
