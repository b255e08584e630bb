"""JSON lines: one submission per line, OData-style __system, values nested as
stored, optional labels, nothing for hidden content."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from app.exports.jsonl import jsonl_chunks
from tests.unit.exports import sample


@pytest.fixture(scope="module")
def form():
    return sample.schema()


def _lines(records, **kwargs) -> list[dict]:
    text = b"".join(jsonl_chunks(records, **kwargs)).decode()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_one_object_per_record_with_system_fields(form):
    r1, r2, r3 = _lines(sample.records(form))
    assert r1["__id"] == "uuid:r1"
    assert r1["__system"] == {
        "submissionDate": "2026-11-24T13:31:04.123Z",
        "updatedAt": None,
        "submitterId": "7",
        "submitterName": "Juana Mamani",
        "attachmentsPresent": 0,
        "attachmentsExpected": 0,
        "status": None,
        "reviewState": None,
        "deviceId": "collect:AbCdEfGh12345678",
        "edits": 0,
        "formVersion": "2026-1",
    }
    assert r2["__system"]["reviewState"] == "approved"
    assert r2["__system"]["submitterId"] is None
    assert r3["__system"]["updatedAt"] == "2026-11-23T09:00:00.000Z"
    assert r3["__system"]["edits"] == 1


def test_values_are_nested_as_stored(form):
    records = sample.records(form)
    r1, r2, _r3 = _lines(records)
    assert {k: v for k, v in r1.items() if not k.startswith("__")} == records[0].values
    assert r1["familia"][0]["persona"][1] == {"nombre": "Luis", "edad": "8.5"}
    assert r2["datos"] == {"titulo": None, "lugar": {"ayllu": None, "punto": None}}


@pytest.mark.parametrize(
    ("lang", "ayllu", "temas"),
    [("es", "Manasaya", "Agua; Pesca"), ("en", "Manasaya", "Water; Fishing")],
)
def test_labels_need_the_schema(form, lang, ayllu, temas):
    (r1, *_rest) = _lines(sample.records(form), labels_lang=lang, schema=form)
    assert (r1["datos"]["lugar"]["ayllu"], r1["temas"]) == (ayllu, temas)
    assert r1["familia"][0]["jefe"] == "Pedro Condori"
    (raw, *_rest) = _lines(sample.records(form), labels_lang=lang)
    assert raw["temas"] == "agua pesca"


def test_hidden_content_gives_no_line(form):
    hidden = [replace(r, content_hidden=True) for r in sample.records(form)]
    assert b"".join(jsonl_chunks(hidden)) == b""


def test_a_field_named_like_a_system_key_cannot_overwrite_it():
    rec = sample.record("uuid:a", values={"__id": "forged", "x": "1"})
    (line,) = _lines([rec])
    assert (line["__id"], line["x"]) == ("uuid:a", "1")


def test_formula_text_stays_raw_as_json_is_never_run():
    rec = sample.record("uuid:a", values={"nota": "=1+2"})
    (line,) = _lines([rec])
    assert line["nota"] == "=1+2"
