"""Exports of a form's submissions, streamed: the database is read once, row by
row, and bytes leave as they are made.

`plan_export` checks everything that can fail (form, rights, options) before
the first byte, so errors are clean problem responses; `export_chunks` then
streams. Records come only from governance's one read
(`app.governance.visibility.governed_records`), so no writer sees what the
viewer may not, and every export is written to the audit log (domain.md §4:
copies that left cannot be called back).

Memory stays flat: records come from a server-side cursor in batches; tables
other than the first (repeats) are spooled to temporary files while the first
streams, then appended (see `app.exports.csvfmt`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from zipstream import ZIP_DEFLATED, ZipStream

from app import audit
from app.auth import permissions
from app.auth.actors import Actor
from app.blobs import BlobStore, iter_blob
from app.db.models import Form
from app.errors import InvalidInputError
from app.exports import csvfmt, geojson, jsonl, xlsx
from app.exports.tables import build_tables
from app.forms import service as forms_service
from app.forms.xform import FormSchema
from app.governance.records import RecordFilter, SubmissionRecord
from app.governance.visibility import Viewer, governed_records

FORMATS = {
    "csv.zip": "application/zip",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "jsonl": "application/x-ndjson",
}
REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")


class ExportOptionError(InvalidInputError):
    code = "export_option_invalid"


@dataclass(frozen=True)
class ExportOptions:
    format: str = "csv.zip"
    filters: RecordFilter = field(default_factory=RecordFilter)
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
    schema: FormSchema  # the current version's: columns follow it
    viewer: Viewer
    options: ExportOptions
    filename: str
    content_type: str


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
    permissions.require(actor, "export.create", permissions.Project(project_id))
    schema = forms_service.schema_of(forms_service.current_version(session, form))
    suffix = {"csv.zip": ".zip", "csv": ".csv"}.get(
        options.format, f".{options.format}"
    )
    if options.format == "csv.zip" and not options.attachments:
        suffix = ".csv.zip"
    return ExportPlan(
        project_id=project_id,
        form_id=form.id,
        xml_form_id=form.xml_form_id,
        schema=schema,
        viewer=Viewer(actor=actor, project_id=project_id),
        options=options,
        filename=f"{form.xml_form_id}{suffix}",
        content_type=FORMATS[options.format],
    )


def record_export(session: Session, plan: ExportPlan) -> None:
    """Every export is logged: who took which data out, how, with which filters."""
    filters = plan.options.filters
    audit.record(
        session,
        "export.create",
        by=plan.viewer.actor,
        target_type="form",
        target_id=f"{plan.project_id}/{plan.xml_form_id}",
        format=plan.options.format,
        since=filters.since.isoformat() if filters.since else None,
        until=filters.until.isoformat() if filters.until else None,
        review_states=list(filters.review_states),
        ayllu=filters.ayllu,
        mesa=filters.mesa,
        include_deleted=filters.include_deleted,
        attachments=plan.options.attachments,
    )
    session.flush()


def iter_records(
    session: Session, plan: ExportPlan, *, with_attachments: bool = False
) -> Iterator[SubmissionRecord]:
    """The form's records as governance lets this viewer have them, streamed."""
    form = session.get_one(Form, plan.form_id)
    return governed_records(
        session,
        plan.viewer,
        form,
        plan.options.filters,
        with_attachments=with_attachments,
    )


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
    records: Iterator[SubmissionRecord],
    tmp: Path,
    plan: ExportPlan,
    kwargs: dict[str, Any],
) -> Iterator[bytes]:
    media: dict[str, str] = {}

    def collecting(source: Iterator[SubmissionRecord]) -> Iterator[SubmissionRecord]:
        for record in source:
            for name, sha in record.present_files().items():
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
