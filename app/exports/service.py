"""Exports of a form's submissions, streamed: the database is read once, row by
row, and bytes leave as they are made.

`plan_export` checks everything that can fail (form, rights, options) before
the first byte, so errors are clean problem responses; `export_chunks` then
streams. Every record passes through knowledge governance (one service decides,
`app.governance.service`) before any writer sees it, and every export is
written to the audit log (domain.md §4: copies that left cannot be called back).

Memory stays flat: records come from a server-side cursor in batches; tables
other than the first (repeats) are spooled to temporary files while the first
streams, then appended (see `app.exports.csvfmt`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from zipstream import ZIP_DEFLATED, ZipStream

from app.auth.actors import Actor
from app.blobs import BlobStore, iter_blob
from app.db.models import (
    AuditLog,
    Blob,
    FormVersion,
    Submission,
    SubmissionAttachment,
)
from app.errors import InvalidInputError, PermissionDeniedError
from app.exports import csvfmt, geojson, jsonl, xlsx
from app.exports.query import current_records
from app.exports.records import ExportRecord
from app.exports.tables import build_tables
from app.forms import service as forms_service
from app.forms.xform import FormSchema
from app.governance import rules
from app.governance.service import Viewer, governance_context

FORMATS = {
    "csv.zip": "application/zip",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "jsonl": "application/x-ndjson",
}
REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")
EXPORT_ROLES = ("manager", "analyst", "guardian")
BATCH = 500


class ExportOptionError(InvalidInputError):
    code = "export_option_invalid"


@dataclass(frozen=True)
class ExportFilters:
    since: datetime | None = None
    until: datetime | None = None
    review_states: tuple[str, ...] = ()
    ayllu: str | None = None
    mesa: str | None = None
    include_deleted: bool = False


@dataclass(frozen=True)
class ExportOptions:
    format: str = "csv.zip"
    filters: ExportFilters = field(default_factory=ExportFilters)
    group_paths: bool = True
    split_select_multiples: bool = False
    labels_lang: str | None = None  # choice values as labels in "es"/"en"
    header_lang: str | None = None  # column headers as labels in "es"/"en"
    attachments: bool = False  # media/ folder in the CSV zip
    bom: bool = False  # a UTF-8 BOM so Excel opens CSV as UTF-8


@dataclass(frozen=True)
class ExportPlan:
    project_id: int
    form_id: int
    xml_form_id: str
    schemas: dict[int, FormSchema]  # form_version_id -> schema
    schema: FormSchema  # the current version's: columns follow it
    governed: bool
    viewer: Viewer
    options: ExportOptions
    filename: str
    content_type: str


def can_export(actor: Actor, project_id: int) -> bool:
    return actor.kind == "user" and (
        actor.site_admin or actor.has_project_role(project_id, *EXPORT_ROLES)
    )


def _check_options(options: ExportOptions) -> None:
    if options.format not in FORMATS:
        raise ExportOptionError(
            f"Formato de exportación desconocido: «{options.format}».",
            f"Unknown export format '{options.format}'.",
        )
    for lang in (options.labels_lang, options.header_lang):
        if lang not in (None, "es", "en"):
            raise ExportOptionError(
                "El idioma de las etiquetas debe ser es o en.",
                "The label language must be es or en.",
            )
    unknown = set(options.filters.review_states) - set(REVIEW_STATES)
    if unknown:
        raise ExportOptionError(
            f"Estado de revisión desconocido: {', '.join(sorted(unknown))}.",
            f"Unknown review state: {', '.join(sorted(unknown))}.",
        )


def plan_export(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    actor: Actor,
    options: ExportOptions,
) -> ExportPlan:
    """Check the request and describe the export, before any byte is sent.

    Raises: FormNotFoundError, PermissionDeniedError, ExportOptionError.
    """
    _check_options(options)
    form = forms_service.get_form(session, project_id, xml_form_id)
    if not can_export(actor, project_id):
        raise PermissionDeniedError(
            "No tiene permiso para exportar los datos de este proyecto.",
            "You are not allowed to export this project's data.",
        )
    current = forms_service.current_version(session, form)
    versions = session.scalars(
        sa.select(FormVersion).where(FormVersion.form_id == form.id)
    ).all()
    schemas = {v.id: forms_service.schema_of(v) for v in versions}
    schema = schemas[current.id]
    suffix = {"csv.zip": ".zip", "csv": ".csv"}.get(
        options.format, f".{options.format}"
    )
    if options.format == "csv.zip" and not options.attachments:
        suffix = ".csv.zip"
    return ExportPlan(
        project_id=project_id,
        form_id=form.id,
        xml_form_id=form.xml_form_id,
        schemas=schemas,
        schema=schema,
        governed=rules.is_governed(schema),
        viewer=Viewer(actor=actor, project_id=project_id),
        options=options,
        filename=f"{form.xml_form_id}{suffix}",
        content_type=FORMATS[options.format],
    )


def record_export(session: Session, plan: ExportPlan) -> None:
    """Every export is logged: who took which data out, how, with which filters."""
    actor = plan.viewer.actor
    filters = plan.options.filters
    session.add(
        AuditLog(
            action="export.create",
            actor_user_id=actor.id if actor is not None else None,
            target_type="form",
            target_id=f"{plan.project_id}/{plan.xml_form_id}",
            details={
                "format": plan.options.format,
                "since": filters.since.isoformat() if filters.since else None,
                "until": filters.until.isoformat() if filters.until else None,
                "review_states": list(filters.review_states),
                "ayllu": filters.ayllu,
                "mesa": filters.mesa,
                "include_deleted": filters.include_deleted,
                "attachments": plan.options.attachments,
            },
        )
    )
    session.flush()


# --- reading records -----------------------------------------------------------


def _first_value(values: dict[str, Any], name: str) -> Any:
    """The value of the first field called `name` outside repeats (any group)."""
    if name in values and not isinstance(values[name], list | dict):
        return values[name]
    for value in values.values():
        if isinstance(value, dict):
            found = _first_value(value, name)
            if found is not None:
                return found
    return None


def _matches(values: dict[str, Any], filters: ExportFilters) -> bool:
    if filters.ayllu and _first_value(values, "ayllu") != filters.ayllu:
        return False
    if filters.mesa:
        mesa = _first_value(values, "mesa") or _first_value(values, "mesas") or ""
        if filters.mesa not in str(mesa).split():
            return False
    return True


def _records_query(plan: ExportPlan) -> sa.Select[Any]:
    filters = plan.options.filters
    # Newest first, as Central; id breaks ties so the order is total.
    stmt = current_records(plan.form_id).order_by(
        Submission.created_at.desc(), Submission.id.desc()
    )
    if not filters.include_deleted:
        stmt = stmt.where(Submission.deleted_at.is_(None))
    if filters.since is not None:
        stmt = stmt.where(Submission.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(Submission.created_at < filters.until)
    if filters.review_states:
        stmt = stmt.where(Submission.review_state.in_(filters.review_states))
    return stmt


def _attachments_of(session: Session, version_id: int) -> dict[str, tuple[str, str]]:
    rows = session.execute(
        sa.select(SubmissionAttachment.name, Blob.sha256, Blob.content_type)
        .join(Blob, Blob.id == SubmissionAttachment.blob_id)
        .where(SubmissionAttachment.submission_version_id == version_id)
    ).all()
    return {name: (sha, content_type) for name, sha, content_type in rows}


def iter_records(
    session: Session, plan: ExportPlan, *, with_attachments: bool = False
) -> Iterator[ExportRecord]:
    """The form's records as governance lets this viewer see them, streamed."""
    context = governance_context(session, plan.project_id, plan.form_id, plan.viewer)
    stmt = _records_query(plan).execution_options(yield_per=BATCH)
    for row in session.execute(stmt):
        values = row.field_values or {}
        if not _matches(values, plan.options.filters):
            continue
        record = ExportRecord(
            instance_id=row.instance_id,
            submission_id=row.id,
            submission_date=row.created_at,
            updated_at=row.updated_at,
            submitter_id=row.submitter_id,
            submitter_name=row.submitter_name,
            attachments_present=row.present,
            attachments_expected=row.expected,
            status="",
            review_state=row.review_state,
            device_id=row.device_id,
            edits=row.edits,
            form_version=row.form_version,
            values=values,
            deleted=row.deleted_at is not None,
        )
        governed = context.apply(record, plan.governed)
        if governed is None:
            continue
        if with_attachments and not governed.content_hidden:
            governed = replace(
                governed, attachments=_attachments_of(session, row.version_id)
            )
        yield governed


# --- the formats -----------------------------------------------------------------


def export_chunks(
    session: Session, store: BlobStore, plan: ExportPlan, spool_dir: Path | None = None
) -> Iterator[bytes]:
    """The export's bytes, produced as records are read."""
    options = plan.options
    with tempfile.TemporaryDirectory(prefix="ayni-export-", dir=spool_dir) as tmp:
        records = iter_records(session, plan, with_attachments=options.attachments)
        tables = build_tables(
            plan.schema,
            plan.xml_form_id,
            group_paths=options.group_paths,
            split_select_multiples=options.split_select_multiples,
        )
        kwargs = {
            "labels_lang": options.labels_lang,
            "header_lang": options.header_lang,
        }
        if options.format == "csv":
            yield from csvfmt.csv_chunks(tables[0], records, bom=options.bom, **kwargs)
        elif options.format == "csv.zip":
            yield from _csv_zip(
                session, store, tables, records, Path(tmp), plan, kwargs
            )
        elif options.format == "xlsx":
            yield from xlsx.xlsx_from_tables(tables, records, Path(tmp), **kwargs)
        elif options.format == "geojson":
            yield from geojson.geojson_chunks(
                plan.schema, records, labels_lang=options.labels_lang
            )
        else:
            yield from jsonl.jsonl_chunks(
                records, labels_lang=options.labels_lang, schema=plan.schema
            )


def _csv_zip(
    session: Session,
    store: BlobStore,
    tables: list[Any],
    records: Iterator[ExportRecord],
    tmp: Path,
    plan: ExportPlan,
    kwargs: dict[str, Any],
) -> Iterator[bytes]:
    media: dict[str, str] = {}

    def collecting(source: Iterator[ExportRecord]) -> Iterator[ExportRecord]:
        for record in source:
            for name, (sha, _type) in record.attachments.items():
                media.setdefault(name, sha)
            yield record

    if plan.options.attachments:
        records = collecting(records)
    multi = csvfmt.csv_multi(tables, records, tmp, bom=plan.options.bom, **kwargs)
    zip_stream = ZipStream(compress_type=ZIP_DEFLATED, compress_level=6)
    zip_stream.add(multi.root, f"{tables[0].name}.csv")
    # The root table streams first; the repeat tables (spooled meanwhile) and
    # the media files are known only once it is read, so they are added after.
    yield from zip_stream.all_files()
    for name, chunks in multi.others:
        zip_stream.add(chunks, f"{name}.csv")
    for name, sha in sorted(media.items()):
        zip_stream.add(iter_blob(session, store, sha), f"media/{name}")
    yield from zip_stream.finalize()
