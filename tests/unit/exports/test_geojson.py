"""GeoJSON: one Point per answered geopoint (top level and in repeats), with
where it comes from and the submission's main fields; valid when empty."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from app.exports.geojson import geojson_chunks, point
from tests.unit.exports import sample


@pytest.fixture(scope="module")
def form():
    return sample.schema()


def _collection(form, records, **kwargs) -> dict:
    return json.loads(b"".join(geojson_chunks(form, records, **kwargs)))


def test_one_point_per_answered_geopoint_in_document_order(form):
    collection = _collection(form, sample.records(form))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert [
        (f["properties"]["KEY"], f["properties"]["field"], f["geometry"]["coordinates"])
        for f in features
    ] == [
        ("uuid:r1", "datos/lugar/punto", [-68.1291, -19.0432, 3650.5]),
        ("uuid:r1/familia[1]", "familia/casa", [-68.13, -19.05, 3651.0]),
        ("uuid:r3", "datos/lugar/punto", [-68.2, -19.1]),  # no altitude
    ]
    assert all(f["type"] == "Feature" for f in features)
    assert all(f["geometry"]["type"] == "Point" for f in features)


def test_properties_carry_origin_review_accuracy_and_main_fields(form):
    first, _house, third = _collection(form, sample.records(form))["features"]
    assert first["properties"] == {
        "instanceID": "uuid:r1",
        "KEY": "uuid:r1",
        "field": "datos/lugar/punto",
        "SubmissionDate": "2026-11-24T13:31:04.123Z",
        "ReviewState": None,
        "accuracy": 4.8,
        "inicio": "2026-11-24T09:15:00.000-04:00",
        "datos-titulo": "Ayni & minka",
        "datos-lugar-ayllu": "manasaya",
        "temas": "agua pesca",
        "asistentes": "12",
        "nota": "Primera reunión",
        "meta-instanceID": "uuid:r1",
    }
    assert third["properties"]["ReviewState"] == "hasIssues"
    assert third["properties"]["accuracy"] is None


def test_labels_in_a_language(form):
    first = _collection(form, sample.records(form), labels_lang="en")["features"][0]
    assert first["properties"]["temas"] == "Water; Fishing"
    assert first["properties"]["datos-lugar-ayllu"] == "Manasaya"


@pytest.mark.parametrize("records", [[], "hidden"])
def test_no_feature_is_still_a_valid_collection(form, records):
    if records == "hidden":
        records = [replace(r, content_hidden=True) for r in sample.records(form)]
    assert _collection(form, records) == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-19.04 -68.13 3650 5", ([-68.13, -19.04, 3650.0], 5.0)),
        ("-19.04 -68.13", ([-68.13, -19.04], None)),
        ("-19.04 -68.13 x 5", ([-68.13, -19.04], 5.0)),
        ("-19.04", None),
        ("91 0 0 0", None),
        ("0 181 0 0", None),
        ("nan 0", None),
        ("", None),
    ],
)
def test_point_reads_lat_lon_alt_acc(raw, expected):
    assert point(raw) == expected


def test_formula_text_is_json_not_a_spreadsheet_concern(form):
    values = sample.values_of(sample.R1_XML, form)
    values["nota"] = "=1+2"
    rec = sample.record("uuid:f", values=values)
    (feature, _house) = _collection(form, [rec])["features"]
    assert feature["properties"]["nota"] == "=1+2"  # JSON data is never run
