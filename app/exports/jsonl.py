"""JSON-lines export: one submission per line, values nested as stored.

Owns the bytes of the `jsonl` export (Beyond Central): each line is
`{"__id", "__system": {...}, ...values}`, with `__system` keyed as OData's
(openrosa.md §9: camelCase, reviewState null = received, dates ISO-8601 UTC
with ms) and the values as extracted from the instance (groups as objects,
repeats as arrays, raw text or null). With `labels_lang` and the schema, select
values become choice labels. Pure and streaming; records with hidden content
give no line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from app.exports.tables import SELECT_TYPES, choice_map, iso_utc, labelled
from app.forms.xform import FormSchema
from app.governance.records import SubmissionRecord

CHUNK_SIZE = 32 * 1024
_RESERVED = ("__id", "__system")


def jsonl_chunks(
    records: Iterable[SubmissionRecord],
    *,
    labels_lang: str | None = None,
    schema: FormSchema | None = None,
) -> Iterator[bytes]:
    """One JSON object per record and line, produced as records are read.

    Labels need the schema: without it, values stay raw.
    """
    selects: dict[str, tuple[str, Mapping[str, Mapping[str, str]]]] = {}
    if labels_lang and schema is not None:
        selects = {
            f.path: (f.type, choice_map(f))
            for f in schema.fields
            if f.kind == "field" and f.type in SELECT_TYPES
        }
    buffer: list[str] = []
    size = 0
    for record in records:
        if record.content_hidden:
            continue
        values = record.values
        if selects and labels_lang:
            values = _labelled(values, "", selects, labels_lang)
        line = json.dumps(_document(record, values), ensure_ascii=False) + "\n"
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_SIZE:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def _document(record: SubmissionRecord, values: Mapping[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "__id": record.instance_id,
        "__system": {
            "submissionDate": iso_utc(record.submission_date),
            "updatedAt": iso_utc(record.updated_at) if record.updated_at else None,
            "submitterId": (
                None if record.submitter_id is None else str(record.submitter_id)
            ),
            "submitterName": record.submitter_name,
            "attachmentsPresent": record.attachments_present,
            "attachmentsExpected": record.attachments_expected,
            "status": record.status or None,
            "reviewState": (
                None if record.review_state == "received" else record.review_state
            ),
            "deviceId": record.device_id,
            "edits": record.edits,
            "formVersion": record.form_version,
        },
    }
    for name, value in values.items():
        if name not in _RESERVED:
            document[name] = value
    return document


def _labelled(
    values: Mapping[str, Any],
    prefix: str,
    selects: Mapping[str, tuple[str, Mapping[str, Mapping[str, str]]]],
    lang: str,
) -> dict[str, Any]:
    """A copy of `values` with select answers as labels in `lang`."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        path = f"{prefix}/{name}" if prefix else name
        if isinstance(value, dict):
            out[name] = _labelled(value, path, selects, lang)
        elif isinstance(value, list):
            out[name] = [
                _labelled(item, path, selects, lang) if isinstance(item, dict) else item
                for item in value
            ]
        elif isinstance(value, str) and path in selects:
            type_, choices = selects[path]
            out[name] = labelled(type_, value, choices, lang)
        else:
            out[name] = value
    return out
