"""Forms: Central's Form object (and, later, its extended shape, versions,
drafts and attachments)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from app.api.schemas.common import IsoDateTime


class FormSchema(Schema):
    """Central's Form: every key present, `null` when empty; `version` is
    `""` for a form without one (pyODK refuses `null` there)."""

    projectId = fields.Integer(attribute="project_id")  # noqa: N815
    xmlFormId = fields.String(attribute="xml_form_id")  # noqa: N815
    name = fields.Method("_name")
    version = fields.Method("_version")
    enketoId = fields.Constant(None)  # noqa: N815 - no Enketo on the LAN
    enketoOnceId = fields.Constant(None)  # noqa: N815
    hash = fields.Method("_hash")
    keyId = fields.Constant(None)  # noqa: N815
    state = fields.String()
    publishedAt = fields.Method("_published_at")  # noqa: N815
    createdAt = IsoDateTime(attribute="created_at")  # noqa: N815
    updatedAt = IsoDateTime(attribute="updated_at")  # noqa: N815
    webformsEnabled = fields.Constant(False)  # noqa: N815

    def _shown(self, form: Any) -> Any:
        return form.current_version

    def _name(self, form: Any) -> str | None:
        version = self._shown(form)
        return version.title if version is not None else form.title  # type: ignore[no-any-return]

    def _version(self, form: Any) -> str:
        version = self._shown(form)
        return (version.version or "") if version is not None else ""

    def _hash(self, form: Any) -> str | None:
        version = self._shown(form)
        return version.md5 if version is not None else None

    def _published_at(self, form: Any) -> str | None:
        version = self._shown(form)
        stamp = version.published_at if version is not None else None
        return IsoDateTime()._serialize(stamp, None, None)  # type: ignore[no-any-return]
