"""GeoJSON export: one Point per answered geopoint, streamed (Beyond Central).

Owns the bytes of a GeoJSON FeatureCollection (RFC 7946) built from the
geopoints of a form's records, at the top level and inside repeats. Each
feature carries where it comes from (instanceID, KEY as in the CSV, field
path), SubmissionDate, ReviewState (null = received, as OData), the accuracy,
and the submission's main fields: the top-level scalar questions, keyed by
path with `-` as in the CSV. Pure and streaming: features leave as records are
read; no database. Records with hidden content give no feature.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from app.exports.tables import (
    SELECT_TYPES,
    choice_map,
    instances,
    iso_utc,
    labelled,
    steps_to,
    value_at,
)
from app.forms.xform import Field, FormSchema
from app.governance.records import SubmissionRecord

CHUNK_SIZE = 32 * 1024
# Not scalar: files and shapes have no place in a point's properties.
_NOT_MAIN = ("binary", "geopoint", "geotrace", "geoshape")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def point(raw: str) -> tuple[list[float], float | None] | None:
    """GeoJSON coordinates [lon, lat(, alt)] and the accuracy of "lat lon alt acc".

    None when latitude or longitude is missing, not a number or out of range.
    """
    numbers: list[float | None] = []
    for part in raw.split()[:4]:
        try:
            number = float(part)
        except ValueError:
            number = None
        numbers.append(number if number is not None and math.isfinite(number) else None)
    numbers += [None] * (4 - len(numbers))
    lat, lon, alt, acc = numbers
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    coordinates = [lon, lat] if alt is None else [lon, lat, alt]
    return coordinates, acc


def geojson_chunks(
    schema: FormSchema,
    records: Iterable[SubmissionRecord],
    *,
    labels_lang: str | None = None,
) -> Iterator[bytes]:
    """A FeatureCollection of the records' geopoints, produced as they are read."""
    geopoints = [f for f in schema.fields if f.kind == "field" and f.type == "geopoint"]
    main = [
        f
        for f in schema.fields
        if f.kind == "field" and f.repeat is None and f.type not in _NOT_MAIN
    ]
    choices = {f.path: choice_map(f) for f in main if f.type in SELECT_TYPES}
    steps = {f.repeat: steps_to(schema, f.repeat) for f in geopoints if f.repeat}
    # The opening leaves at once; the collection is valid JSON with no feature.
    yield b'{"type":"FeatureCollection","features":['
    buffer: list[str] = []
    size = 0
    first = True
    for record in records:
        if record.content_hidden:
            continue
        properties: dict[str, Any] | None = None
        for f in geopoints:
            for key, raw in _occurrences(record, f, steps):
                located = point(raw)
                if located is None:
                    continue
                if properties is None:
                    properties = _main_properties(record, main, choices, labels_lang)
                feature = _feature(record, f, key, located, properties)
                text = feature if first else "," + feature
                first = False
                buffer.append(text)
                size += len(text)
        if size >= CHUNK_SIZE:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    buffer.append("]}\n")
    yield "".join(buffer).encode()


def _occurrences(
    record: SubmissionRecord, f: Field, steps: Mapping[str, tuple[tuple[str, str], ...]]
) -> Iterator[tuple[str, str]]:
    """(KEY, raw text) of each non-empty answer to `f` in the record."""
    if f.repeat is None:
        raw = value_at(record.values, tuple(f.path.split("/")))
        if raw and raw.strip():
            yield record.instance_id, raw
        return
    rel = tuple(f.path[len(f.repeat) + 1 :].split("/"))
    for values, key, _parent in instances(
        record.values, steps[f.repeat], record.instance_id
    ):
        raw = value_at(values, rel)
        if raw and raw.strip():
            yield key, raw


def _main_properties(
    record: SubmissionRecord,
    main: list[Field],
    choices: Mapping[str, Mapping[str, Mapping[str, str]]],
    labels_lang: str | None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for f in main:
        raw = value_at(record.values, tuple(f.path.split("/")))
        if raw is not None and labels_lang and f.path in choices:
            raw = labelled(f.type, raw, choices[f.path], labels_lang)
        properties[f.path.replace("/", "-")] = raw
    return properties


def _feature(
    record: SubmissionRecord,
    f: Field,
    key: str,
    located: tuple[list[float], float | None],
    main: Mapping[str, Any],
) -> str:
    coordinates, accuracy = located
    review_state = record.review_state
    properties: dict[str, Any] = {
        "instanceID": record.instance_id,
        "KEY": key,
        "field": f.path,
        "SubmissionDate": iso_utc(record.submission_date),
        "ReviewState": None if review_state == "received" else review_state,
        "accuracy": accuracy,
    }
    # The fixed properties win over a question that happens to share a name.
    for name, value in main.items():
        properties.setdefault(name, value)
    return _dumps(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": coordinates},
            "properties": properties,
        }
    )
