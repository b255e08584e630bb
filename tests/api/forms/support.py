"""What the form API tests share: forms as XForms and workbooks, the row
counts that prove nothing was half-stored, and Central's key sets."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook

from app.db.models import AuditLog, Blob, Form, FormAttachment, FormVersion
from app.forms.compiler import compile_markdown
from app.runtime import Runtime

XML = "application/xml"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"

# Central's Form (its `Form` frame, `forApi`): every key, always.
FORM_KEYS = {
    "projectId",
    "xmlFormId",
    "name",
    "version",
    "enketoId",
    "enketoOnceId",
    "hash",
    "sha",
    "sha256",
    "keyId",
    "state",
    "draftToken",
    "publishedAt",
    "createdAt",
    "updatedAt",
    "webformsEnabled",
}
EXTENDED_FORM_KEYS = FORM_KEYS | {
    "submissions",
    "reviewStates",
    "lastSubmission",
    "createdBy",
    "excelContentType",
    "entityRelated",
    "publicLinks",
}
ATTACHMENT_KEYS = {
    "name",
    "type",
    "exists",
    "blobExists",
    "datasetExists",
    "hash",
    "size",
    "updatedAt",
}
ACTOR_KEYS = {"id", "type", "displayName", "createdAt", "updatedAt", "deletedAt"}

SIMPLE_MD = """
| survey |
| | type | name | label |
| | text | nombre | Nombre |
| | integer | edad | Edad |
| settings |
| | form_id | version | form_title |
| | {form_id} | {version} | {title} |
"""

# A form naming media files: a label image, an external CSV and a choice file.
MEDIA_MD = """
| survey |
| | type | name | label | media::image |
| | text | nombre | Nombre | logo.png |
| | select_one_from_file lugares.csv | lugar | Lugar | |
| settings |
| | form_id | version | form_title |
| | {form_id} | {version} | Con medios |
"""


def simple_xml(
    form_id: str = "sencillo", version: str = "1", title: str = "Sencillo"
) -> bytes:
    md = SIMPLE_MD.format(form_id=form_id, version=version, title=title)
    return compile_markdown(md).xml


def media_xml(form_id: str = "con_medios", version: str = "1") -> bytes:
    return compile_markdown(MEDIA_MD.format(form_id=form_id, version=version)).xml


def workbook(
    survey: list[list[Any]],
    *,
    choices: list[list[Any]] | None = None,
    settings: list[list[Any]] | None = None,
) -> bytes:
    """An .xlsx XLSForm with these sheets (first row: the headers)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows:
            extra = book.create_sheet(title)
            for row in rows:
                extra.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def simple_workbook(form_id: str | None = "libro", version: str = "1") -> bytes:
    settings = [["form_id", "version"], [form_id, version]] if form_id else None
    return workbook(
        [["type", "name", "label"], ["text", "nombre", "Nombre"]], settings=settings
    )


def warning_workbook(form_id: str = "con_aviso") -> bytes:
    """Valid, but pyxform warns: a choice without a label."""
    return workbook(
        [["type", "name", "label"], ["select_one si_no", "acepta", "¿Acepta?"]],
        choices=[["list_name", "name", "label"], ["si_no", "si", None]],
        settings=[["form_id", "version"], [form_id, "1"]],
    )


def rows(runtime: Runtime) -> dict[str, int]:
    """How many forms, versions, media slots, blobs and audit entries exist."""
    with runtime.db.read() as session:
        return {
            model.__tablename__: session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
            for model in (Form, FormVersion, FormAttachment, Blob, AuditLog)
        }


def forms_url(project_id: int) -> str:
    return f"/v1/projects/{project_id}/forms"


def create_form(  # type: ignore[no-untyped-def]
    client,
    headers: dict[str, str],
    project_id: int,
    data: bytes,
    *,
    publish: bool = True,
    content_type: str = XML,
):
    """`POST …/forms` (published by default); the response, checked 200."""
    query = "?publish=true" if publish else ""
    response = client.post(
        f"{forms_url(project_id)}{query}",
        data=data,
        headers=headers,
        content_type=content_type,
    )
    assert response.status_code == 200, response.get_json()
    return response


def refused(runtime: Runtime, response_of, status: int, code: float):  # type: ignore[no-untyped-def]
    """Call `response_of()`, check Central's status and problem code, and
    that no form, version, media slot, blob or audit entry was stored."""
    before = rows(runtime)
    response = response_of()
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == code, body
    assert rows(runtime) == before
    return body


def blob_files(runtime: Runtime) -> list[str]:
    """Every file under the blob folder (finished or not)."""
    root = runtime.settings.blob_dir
    return sorted(str(p) for p in root.rglob("*") if p.is_file())
