"""Central's table model: columns and their order, table names, KEY and
PARENT_KEY, labels, group paths, split select multiples, hidden content."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.exports.tables import (
    Table,
    build_tables,
    header_label,
    instances,
    iso_utc,
    rows,
)
from app.forms.xform import Choice, Field, FormSchema
from tests.unit.exports import sample

ROOT_META_LAST = [
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
]


@pytest.fixture(scope="module")
def form():
    return sample.schema()


def _headers(table: Table) -> list[str]:
    return [c.header for c in table.columns]


def _row(table: Table, record, **kwargs) -> dict[str, str]:
    (row,) = list(rows(table, record, **kwargs))
    return dict(zip(_headers(table), row, strict=True))


def test_root_columns_follow_central_order(form):
    root = build_tables(form, "encuentro")[0]
    assert _headers(root) == [
        "SubmissionDate",
        "inicio",
        "datos-titulo",
        "datos-lugar-ayllu",
        "datos-lugar-punto-Latitude",
        "datos-lugar-punto-Longitude",
        "datos-lugar-punto-Altitude",
        "datos-lugar-punto-Accuracy",
        "temas",
        "asistentes",
        "nota",
        "meta-instanceID",
        *ROOT_META_LAST,
    ]
    assert root.name == "encuentro"
    assert root.repeat_path == ""


def test_repeat_tables_come_depth_first_with_parent_key_then_key(form):
    tables = build_tables(form, "encuentro")
    assert [(t.name, t.repeat_path, _headers(t)) for t in tables[1:]] == [
        (
            "encuentro-familia",
            "familia",
            [
                "jefe",
                "casa-Latitude",
                "casa-Longitude",
                "casa-Altitude",
                "casa-Accuracy",
                "PARENT_KEY",
                "KEY",
            ],
        ),
        (
            "encuentro-persona",
            "familia/persona",
            ["nombre", "edad", "PARENT_KEY", "KEY"],
        ),
        ("encuentro-visitante", "visita/visitante", ["nombre", "PARENT_KEY", "KEY"]),
    ]


def test_group_paths_false_keeps_the_last_segment(form):
    root = build_tables(form, "encuentro", group_paths=False)[0]
    assert _headers(root)[1:12] == [
        "inicio",
        "titulo",
        "ayllu",
        "punto-Latitude",
        "punto-Longitude",
        "punto-Altitude",
        "punto-Accuracy",
        "temas",
        "asistentes",
        "nota",
        "instanceID",
    ]


def test_split_select_multiples_adds_every_choice_after_the_raw_column(form):
    root = build_tables(form, "encuentro", split_select_multiples=True)[0]
    headers = _headers(root)
    at = headers.index("temas")
    assert headers[at : at + 4] == ["temas", "temas/agua", "temas/suelo", "temas/pesca"]
    records = sample.records(form)
    assert [_row(root, r)["temas/suelo"] for r in records] == ["0", "", "1"]
    assert [_row(root, r)["temas/pesca"] for r in records] == ["1", "", "0"]
    # A select_one is never split.
    assert not [h for h in headers if h.startswith("datos-lugar-ayllu/")]


def test_repeats_with_the_same_name_are_numbered_from_one():
    def node(path: str, kind: str, repeat: str | None = None) -> Field:
        return Field(
            path=path,
            name=path.rsplit("/", 1)[-1],
            kind=kind,
            type="structure" if kind != "field" else "string",
            media=None,
            labels={},
            choices=(),
            repeat=repeat,
            relevant=None,
            required=False,
            calculate=None,
        )

    schema = FormSchema(
        xml_form_id="f",
        version="1",
        title="f",
        languages=(),
        fields=(
            node("a", "group"),
            node("a/person", "repeat"),
            node("a/person/n", "field", "a/person"),
            node("b", "group"),
            node("b/person", "repeat"),
            node("b/person/n", "field", "b/person"),
            node("child", "repeat"),
        ),
    )
    names = [t.name for t in build_tables(schema, "f")]
    assert names == ["f", "f-person~1", "f-person~2", "f-child"]


def test_keys_name_groups_and_number_repeats_within_their_parent(form):
    tables = {t.repeat_path: t for t in build_tables(form, "encuentro")}
    r1 = sample.records(form)[0]
    keys = {
        path: [(row[-2], row[-1]) for row in rows(table, r1)]
        for path, table in tables.items()
        if path
    }
    assert keys == {
        "familia": [
            ("uuid:r1", "uuid:r1/familia[1]"),
            ("uuid:r1", "uuid:r1/familia[2]"),
        ],
        "familia/persona": [
            ("uuid:r1/familia[1]", "uuid:r1/familia[1]/persona[1]"),
            ("uuid:r1/familia[1]", "uuid:r1/familia[1]/persona[2]"),
            ("uuid:r1/familia[2]", "uuid:r1/familia[2]/persona[1]"),
        ],
        "visita/visitante": [("uuid:r1", "uuid:r1/visita/visitante[1]")],
    }


def test_a_repeat_inside_a_group_inside_a_repeat_keeps_the_group_in_its_key():
    steps = (("hogar", "repeat"), ("datos", "group"), ("miembro", "repeat"))
    values = {"hogar": [{"datos": {"miembro": [{"n": "a"}, {"n": "b"}]}}]}
    assert [(k, p) for _v, k, p in instances(values, steps, "uuid:abc")] == [
        ("uuid:abc/hogar[1]/datos/miembro[1]", "uuid:abc/hogar[1]"),
        ("uuid:abc/hogar[1]/datos/miembro[2]", "uuid:abc/hogar[1]"),
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, []),
        ({"hogar": None}, []),
        ({"hogar": "text from another version"}, []),
        ({"hogar": {"n": "one"}}, ["uuid:abc/hogar[1]"]),
        ({"hogar": [{"n": "a"}, "junk"]}, ["uuid:abc/hogar[1]", "uuid:abc/hogar[2]"]),
    ],
)
def test_values_of_another_shape_never_break_the_rows(values, expected):
    steps = (("hogar", "repeat"),)
    assert [k for _v, k, _p in instances(values, steps, "uuid:abc")] == expected


def test_meta_values(form):
    root = build_tables(form, "encuentro")[0]
    r1, r2, r3 = sample.records(form)
    assert _row(root, r1)["SubmissionDate"] == "2026-11-24T13:31:04.123Z"
    assert _row(root, r2)["ReviewState"] == "approved"
    assert _row(root, r1)["ReviewState"] == ""  # received
    assert _row(root, r3)["KEY"] == "uuid:r3"  # the first version's instanceID
    assert _row(root, r3)["meta-instanceID"] == "uuid:r3v2"


def test_iso_utc_converts_to_utc_with_milliseconds():
    from datetime import datetime, timedelta, timezone

    bolivia = timezone(timedelta(hours=-4))
    assert iso_utc(datetime(2026, 11, 24, 9, 31, 4, 999999, bolivia)) == (
        "2026-11-24T13:31:04.999Z"
    )
    assert iso_utc(datetime(2026, 11, 24, 13, 31)) == "2026-11-24T13:31:00.000Z"


@pytest.mark.parametrize(
    ("lang", "ayllu", "temas"),
    [
        (None, "manasaya", "agua pesca"),
        ("es", "Manasaya", "Agua; Pesca"),
        ("en", "Manasaya", "Water; Fishing"),
    ],
)
def test_labels_replace_select_values(form, lang, ayllu, temas):
    root = build_tables(form, "encuentro")[0]
    row = _row(root, sample.records(form)[0], labels_lang=lang)
    assert (row["datos-lugar-ayllu"], row["temas"]) == (ayllu, temas)
    assert row["datos-titulo"] == "Ayni & minka"  # other values stay raw


def test_a_value_that_is_not_a_choice_stays_as_sent(form):
    root = build_tables(form, "encuentro")[0]
    values = sample.values_of(sample.R1_XML, form)
    values["temas"] = "agua desconocido"
    values["datos"]["lugar"]["ayllu"] = "otro"
    row = _row(root, sample.record(values=values), labels_lang="es")
    assert (row["temas"], row["datos-lugar-ayllu"]) == ("Agua; desconocido", "otro")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "es",
            [
                "Fecha de envío",
                "inicio",
                "Título",
                "Ayllu",
                "Ubicación - Latitud",
                "Ubicación - Longitud",
                "Ubicación - Altitud",
                "Ubicación - Precisión",
                "Temas",
                "Temas - Agua",
            ],
        ),
        (
            "en",
            [
                "Submission date",
                "inicio",
                "Title",
                "Ayllu",
                "Location - Latitude",
                "Location - Longitude",
                "Location - Altitude",
                "Location - Accuracy",
                "Topics",
                "Topics - Water",
            ],
        ),
        (
            None,
            [
                "SubmissionDate",
                "inicio",
                "datos-titulo",
                "datos-lugar-ayllu",
                "datos-lugar-punto-Latitude",
                "datos-lugar-punto-Longitude",
                "datos-lugar-punto-Altitude",
                "datos-lugar-punto-Accuracy",
                "temas",
                "temas/agua",
            ],
        ),
    ],
)
def test_header_label_in_a_language(form, lang, expected):
    root = build_tables(form, "encuentro", split_select_multiples=True)[0]
    assert [header_label(c, lang) for c in root.columns[:10]] == expected


def test_a_label_missing_in_the_language_falls_back_to_the_untranslated_one():
    f = Field(
        path="q",
        name="q",
        kind="field",
        type="select1",
        media=None,
        labels={"": "Pregunta"},
        choices=(Choice("a", {"es": "A es"}),),
        repeat=None,
        relevant=None,
        required=False,
        calculate=None,
    )
    schema = FormSchema("f", "1", "f", (), (f,))
    root = build_tables(schema, "f")[0]
    assert header_label(root.columns[1], "en") == "Pregunta"
    row = _row(root, sample.record(values={"q": "a"}), labels_lang="en")
    assert row["q"] == "a"


def test_numeric_columns_are_int_decimal_geo_split_and_counts(form):
    tables = build_tables(form, "encuentro", split_select_multiples=True)
    numeric = {c.header for t in tables for c in t.columns if c.numeric}
    assert numeric == {
        "datos-lugar-punto-Latitude",
        "datos-lugar-punto-Longitude",
        "datos-lugar-punto-Altitude",
        "datos-lugar-punto-Accuracy",
        "temas/agua",
        "temas/suelo",
        "temas/pesca",
        "asistentes",
        "casa-Latitude",
        "casa-Longitude",
        "casa-Altitude",
        "casa-Accuracy",
        "edad",
        "SubmitterID",
        "AttachmentsPresent",
        "AttachmentsExpected",
        "Edits",
    }


def test_hidden_content_gives_no_row_in_any_table(form):
    for table in build_tables(form, "encuentro", split_select_multiples=True):
        for record in sample.records(form):
            hidden = replace(record, content_hidden=True)
            assert list(rows(table, hidden, labels_lang="es")) == []
