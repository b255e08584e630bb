"""The table model of Central's CSV export: tables, columns, and rows per record.

This module owns turning a `FormSchema` into Central's Briefcase-compatible
tables (openrosa.md §8: the root table, one table per repeat, depth-first;
column names and order; KEY and PARENT_KEY) and one `SubmissionRecord` into the
rows it contributes to each table. The CSV, XLSX, GeoJSON and JSON-lines
writers build on it. It is pure and streams: no database, no files except the
spool the caller hands to `TableSpool`, and never a list of every row.

Values are the raw XML text as stored (no reformatting), except where the
caller asks for choice labels. A record whose content governance hid
(`content_hidden`) gives no row at all, in any table: the service decides, the
writers enforce it again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from app.forms.xform import Field, FormSchema
from app.governance.records import SubmissionRecord

GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
SELECT_TYPES = ("select1", "select", "rank")
META_FIRST = ("SubmissionDate",)
META_LAST = (
    "KEY",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
)
# Multiple select values as labels: labels contain spaces, so the space that
# separates raw values would make them unreadable; "; " keeps them apart.
LABEL_SEPARATOR = "; "

_NUMERIC_TYPES = ("int", "decimal")
_NUMERIC_META = ("SubmitterID", "AttachmentsPresent", "AttachmentsExpected", "Edits")
_HEADER_LABELS = {
    "es": {
        "SubmissionDate": "Fecha de envío",
        "KEY": "Clave",
        "PARENT_KEY": "Clave del registro padre",
        "SubmitterID": "ID de quien envió",
        "SubmitterName": "Nombre de quien envió",
        "AttachmentsPresent": "Adjuntos presentes",
        "AttachmentsExpected": "Adjuntos esperados",
        "Status": "Estado",
        "ReviewState": "Estado de revisión",
        "DeviceID": "ID del dispositivo",
        "Edits": "Ediciones",
        "FormVersion": "Versión del formulario",
        "Latitude": "Latitud",
        "Longitude": "Longitud",
        "Altitude": "Altitud",
        "Accuracy": "Precisión",
    },
    "en": {
        "SubmissionDate": "Submission date",
        "KEY": "Key",
        "PARENT_KEY": "Parent key",
        "SubmitterID": "Submitter ID",
        "SubmitterName": "Submitter name",
        "AttachmentsPresent": "Attachments present",
        "AttachmentsExpected": "Attachments expected",
        "Status": "Status",
        "ReviewState": "Review state",
        "DeviceID": "Device ID",
        "Edits": "Edits",
        "FormVersion": "Form version",
        "Latitude": "Latitude",
        "Longitude": "Longitude",
        "Altitude": "Altitude",
        "Accuracy": "Accuracy",
    },
}
# Characters a file name must not carry (as Central's sanitize-filename).
_UNSAFE_NAME = str.maketrans(dict.fromkeys('/\\?<>:*|"', ""))


@dataclass(frozen=True)
class Column:
    key: str  # unique within its table: "#KEY", "grp/q", "grp/pt|Latitude"
    header: str  # Central's column name
    path: str  # the field's schema path; "" for meta and key columns
    kind: str  # "meta" | "field" | "geo" | "split" | "key" | "parent_key"
    field: Field | None = None
    part: str | None = None  # geopoint part, or the choice of a split column
    rel: tuple[str, ...] = ()  # path segments relative to the table's repeat
    # Choice name -> labels per language, for select fields.
    choices: Mapping[str, Mapping[str, str]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def numeric(self) -> bool:
        """Whether spreadsheets should get this column's values as numbers."""
        if self.kind == "meta":
            return self.header in _NUMERIC_META
        if self.kind in ("geo", "split"):
            return True
        return self.field is not None and self.field.type in _NUMERIC_TYPES


@dataclass(frozen=True)
class Table:
    name: str  # file stem: "{fid}", "{fid}-{repeat}", "{fid}-{repeat}~2"
    repeat_path: str  # "" for the root table
    columns: tuple[Column, ...]
    # (segment, "group" | "repeat") from the root down to the repeat.
    steps: tuple[tuple[str, str], ...] = ()


def build_tables(
    schema: FormSchema,
    xml_form_id: str,
    *,
    group_paths: bool = True,
    split_select_multiples: bool = False,
) -> list[Table]:
    """The root table, then one table per repeat (depth-first), as Central."""
    root_columns = [_meta_column(name) for name in META_FIRST]
    root_columns += _field_columns(schema, None, group_paths, split_select_multiples)
    root_columns += [_meta_column(name) for name in META_LAST]
    base = xml_form_id.translate(_UNSAFE_NAME)
    tables = [Table(name=base, repeat_path="", columns=tuple(root_columns))]

    repeats = schema.repeats()
    totals: dict[str, int] = {}
    for repeat in repeats:
        totals[repeat.name] = totals.get(repeat.name, 0) + 1
    counts: dict[str, int] = {}
    for repeat in repeats:
        # Central numbers every table of a repeated name, the first one too:
        # `{fid}-person~1`, `{fid}-person~2` (briefcase.js addSubstreamsToArchive).
        name = f"{base}-{repeat.name}".translate(_UNSAFE_NAME)
        if totals[repeat.name] > 1:
            counts[repeat.name] = counts.get(repeat.name, 0) + 1
            name = f"{name}~{counts[repeat.name]}"
        columns = _field_columns(
            schema, repeat.path, group_paths, split_select_multiples
        )
        columns += [
            Column(key="#PARENT_KEY", header="PARENT_KEY", path="", kind="parent_key"),
            Column(key="#KEY", header="KEY", path="", kind="key"),
        ]
        tables.append(
            Table(
                name=name,
                repeat_path=repeat.path,
                columns=tuple(columns),
                steps=steps_to(schema, repeat.path),
            )
        )
    return tables


def steps_to(schema: FormSchema, path: str) -> tuple[tuple[str, str], ...]:
    """Each segment of `path` with whether it is a group or a repeat."""
    segments = path.split("/") if path else []
    steps = []
    for i, segment in enumerate(segments):
        node = schema.field("/".join(segments[: i + 1]))
        kind = "repeat" if node is not None and node.kind == "repeat" else "group"
        steps.append((segment, kind))
    return tuple(steps)


def _meta_column(name: str) -> Column:
    kind = "key" if name == "KEY" else "meta"
    return Column(key=f"#{name}", header=name, path="", kind=kind)


def _field_columns(
    schema: FormSchema, repeat: str | None, group_paths: bool, split: bool
) -> list[Column]:
    columns: list[Column] = []
    prefix = f"{repeat}/" if repeat else ""
    for f in schema.fields:
        if f.kind != "field" or f.repeat != repeat:
            continue
        rel = tuple(f.path[len(prefix) :].split("/"))
        name = "-".join(rel) if group_paths else rel[-1]
        choices = choice_map(f)
        if f.type == "geopoint":
            # Split into four columns and no unsplit one (briefcase.js getHeader).
            columns += [
                Column(
                    key=f"{f.path}|{part}",
                    header=f"{name}-{part}",
                    path=f.path,
                    kind="geo",
                    field=f,
                    part=part,
                    rel=rel,
                )
                for part in GEO_PARTS
            ]
            continue
        columns.append(
            Column(
                key=f.path,
                header=name,
                path=f.path,
                kind="field",
                field=f,
                rel=rel,
                choices=choices,
            )
        )
        if split and f.type == "select":
            # Beyond Central: Central adds a column per value *seen in the data*,
            # which needs a first pass over every record. Ayni adds one for every
            # choice of the form instead, so the export streams in one pass.
            columns += [
                Column(
                    key=f"{f.path}|{choice}",
                    header=f"{name}/{choice}",
                    path=f.path,
                    kind="split",
                    field=f,
                    part=choice,
                    rel=rel,
                )
                for choice in dict.fromkeys(c.name for c in f.choices if c.name)
            ]
    return columns


# --- labels ---------------------------------------------------------------------


def text_in(labels: Mapping[str, str], lang: str | None, fallback: str) -> str:
    """A label in `lang`, else the form's untranslated label, else `fallback`."""
    if lang and labels.get(lang):
        return labels[lang]
    return labels.get("") or fallback


def header_label(column: Column, lang: str | None) -> str:
    """The column's header as a label: the question's label in `lang`.

    Meta columns get a Spanish or English name; geopoint parts keep Central's
    suffix, translated ("Ubicación - Latitud"); split columns add the choice's
    label. Without a label, or without a language, the Central name stays.
    """
    if not lang:
        return column.header
    names = _HEADER_LABELS.get(lang, {})
    if column.kind in ("meta", "key", "parent_key"):
        return names.get(column.header, column.header)
    if column.field is None:
        return column.header
    if column.kind == "field":
        return text_in(column.field.labels, lang, column.header)
    part = column.part or ""
    base = column.header[: -len(part) - 1]
    label = text_in(column.field.labels, lang, base)
    if column.kind == "geo":
        return f"{label} - {names.get(part, part)}"
    choice = next((c for c in column.field.choices if c.name == part), None)
    return f"{label} - {text_in(choice.labels, lang, part) if choice else part}"


def header_row(columns: Iterable[Column], header_lang: str | None) -> list[str]:
    """Central's column names, or their labels in `header_lang`."""
    if header_lang:
        return [header_label(c, header_lang) for c in columns]
    return [c.header for c in columns]


def choice_map(f: Field) -> dict[str, Mapping[str, str]]:
    """Choice name -> labels per language."""
    return {c.name: c.labels for c in f.choices}


def labelled(
    type_: str, raw: str, choices: Mapping[str, Mapping[str, str]], lang: str
) -> str:
    """A select value as its choice labels in `lang`; other values unchanged.

    A value that is not a choice of the form (another version, a choice file)
    stays as sent.
    """
    if type_ == "select1":
        labels = choices.get(raw)
        return text_in(labels, lang, raw) if labels is not None else raw
    if type_ in ("select", "rank"):
        return LABEL_SEPARATOR.join(
            text_in(choices[v], lang, v) if v in choices else v for v in raw.split()
        )
    return raw


# --- rows -------------------------------------------------------------------------


def iso_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and `Z`: 2026-11-24T13:31:04.123Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def instances(
    values: Mapping[str, Any], steps: tuple[tuple[str, str], ...], instance_id: str
) -> Iterator[tuple[Mapping[str, Any], str, str]]:
    """Each instance at the end of `steps`: (its values, KEY, PARENT_KEY).

    A KEY adds a group's name or a repeat's `name[n]`, n counted from 1 within
    its parent; PARENT_KEY is the enclosing repeat's KEY, or the instanceID
    (briefcase.js keyForStacks, parentKeyForStacks).
    """
    return _instances(values, steps, instance_id, instance_id, instance_id)


def _instances(
    container: Any,
    steps: tuple[tuple[str, str], ...],
    key: str,
    repeat_key: str,
    parent_key: str,
) -> Iterator[tuple[Mapping[str, Any], str, str]]:
    if not steps:
        yield (container if isinstance(container, dict) else {}), key, parent_key
        return
    (name, kind), rest = steps[0], steps[1:]
    value = container.get(name) if isinstance(container, dict) else None
    if kind == "group":
        yield from _instances(value, rest, f"{key}/{name}", repeat_key, parent_key)
        return
    # Values stored under another form version may have another shape:
    # a single dict is one instance, anything else none.
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        items = []
    for n, item in enumerate(items, 1):
        item_key = f"{key}/{name}[{n}]"
        yield from _instances(item, rest, item_key, item_key, repeat_key)


def value_at(container: Any, rel: tuple[str, ...]) -> str | None:
    """The raw text at `rel` below `container`; None if absent, empty or not a leaf."""
    value = container
    for segment in rel:
        if not isinstance(value, dict):
            return None
        value = value.get(segment)
    if value is None or isinstance(value, dict | list):
        return None
    return value if isinstance(value, str) else str(value)


def rows(
    table: Table, record: SubmissionRecord, *, labels_lang: str | None = None
) -> Iterator[list[str]]:
    """The rows `record` contributes to `table`: one for the root, one per
    instance of the repeat. Nothing when the record's content is hidden."""
    if record.content_hidden:
        return
    if not table.repeat_path:
        meta = _meta_values(record)
        yield [
            _cell(c, record.values, meta, record.instance_id, "", labels_lang)
            for c in table.columns
        ]
        return
    for values, key, parent_key in instances(
        record.values, table.steps, record.instance_id
    ):
        yield [
            _cell(c, values, {}, key, parent_key, labels_lang) for c in table.columns
        ]


def _meta_values(record: SubmissionRecord) -> dict[str, str]:
    return {
        "SubmissionDate": iso_utc(record.submission_date),
        "SubmitterID": "" if record.submitter_id is None else str(record.submitter_id),
        "SubmitterName": record.submitter_name or "",
        "AttachmentsPresent": str(record.attachments_present),
        "AttachmentsExpected": str(record.attachments_expected),
        "Status": record.status or "",
        # Central leaves ReviewState empty for a received submission.
        "ReviewState": "" if record.review_state == "received" else record.review_state,
        "DeviceID": record.device_id or "",
        "Edits": str(record.edits),
        "FormVersion": record.form_version or "",
    }


def _cell(
    column: Column,
    values: Mapping[str, Any],
    meta: Mapping[str, str],
    key: str,
    parent_key: str,
    labels_lang: str | None,
) -> str:
    kind = column.kind
    if kind == "key":
        return key
    if kind == "parent_key":
        return parent_key
    if kind == "meta":
        return meta[column.header]
    raw = value_at(values, column.rel)
    if raw is None:
        return ""
    if kind == "geo":
        # "lat lon alt acc"; missing parts stay empty (briefcase.js splits on \s+).
        parts = raw.split()
        index = GEO_PARTS.index(column.part or "")
        return parts[index] if index < len(parts) else ""
    if kind == "split":
        # 1/0 for an answered question; an unanswered one stays empty, so
        # "not asked" and "asked, not chosen" stay apart.
        return "1" if column.part in raw.split() else "0"
    if labels_lang and column.field is not None and column.field.type in SELECT_TYPES:
        return labelled(column.field.type, raw, column.choices, labels_lang)
    return raw


# --- one pass, several tables -------------------------------------------------------


class TableSpool:
    """Rows of several tables from ONE pass over the records.

    `root_rows()` gives the first table's rows as records are read, while the
    other tables' rows go to JSON-lines files in `spool_dir`; once it is
    exhausted, `spooled(table)` reads each file back and deletes it. Memory
    stays flat whatever the number of records. Files of an export abandoned
    half-way are deleted when the root generator closes; `spool_dir` should
    still be a temporary directory the caller removes.
    """

    def __init__(
        self,
        tables: list[Table],
        records: Iterable[SubmissionRecord],
        spool_dir: Path,
        *,
        labels_lang: str | None = None,
    ) -> None:
        self._tables = tables
        self._records = records
        self._spool_dir = Path(spool_dir)
        self._labels_lang = labels_lang
        self._paths: dict[str, Path] = {}
        self._done = False

    @property
    def others(self) -> list[Table]:
        return self._tables[1:]

    def root_rows(self) -> Iterator[list[str]]:
        root, others = self._tables[0], self._tables[1:]
        try:
            with contextlib.ExitStack() as stack:
                files: list[IO[str]] = []
                for table in others:
                    handle = stack.enter_context(
                        tempfile.NamedTemporaryFile(
                            "w",
                            encoding="utf-8",
                            dir=self._spool_dir,
                            prefix="table-",
                            suffix=".jsonl",
                            delete=False,
                        )
                    )
                    files.append(handle)
                    self._paths[table.name] = Path(handle.name)
                for record in self._records:
                    yield from rows(root, record, labels_lang=self._labels_lang)
                    for table, handle in zip(others, files, strict=True):
                        for row in rows(table, record, labels_lang=self._labels_lang):
                            handle.write(json.dumps(row, ensure_ascii=False))
                            handle.write("\n")
            self._done = True
        finally:
            if not self._done:
                # Abandoned half-way (an error, a client gone): no spool stays.
                for path in self._paths.values():
                    path.unlink(missing_ok=True)

    def spooled(self, table: Table) -> Iterator[list[str]]:
        """The spooled rows of `table` (read once, then the file is deleted).

        Raises: RuntimeError if `root_rows()` has not been read to the end.
        """
        if not self._done:
            raise RuntimeError("The root table must be read to the end first.")
        path = self._paths[table.name]
        return _read_spool(path)


def _read_spool(path: Path) -> Iterator[list[str]]:
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)
    finally:
        path.unlink(missing_ok=True)
