"""The streaming XLSX writer: a package openpyxl opens, one sheet per table,
labels, numbers, the formula guard, flat memory and bytes before the end."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from app.exports.tables import build_tables
from app.exports.xlsx import Sheet, sheet_names, xlsx_chunks, xlsx_from_tables
from app.forms.compiler import compile_markdown
from app.forms.xform import parse_xform
from app.governance.records import SubmissionRecord
from tests.unit.exports import sample


@pytest.fixture(scope="module")
def form():
    return sample.schema()


def _workbook(data: bytes):
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    return load_workbook(io.BytesIO(data))


def _values(sheet) -> list[list[object]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_one_sheet_per_table_with_central_headers_and_values(form, tmp_path):
    tables = build_tables(form, "encuentro")
    data = b"".join(xlsx_from_tables(tables, sample.records(form), tmp_path))
    book = _workbook(data)
    assert book.sheetnames == ["encuentro", "familia", "persona", "visitante"]

    root = book["encuentro"]
    assert root.freeze_panes == "A2"
    assert all(cell.font.b for cell in root[1])
    rows = _values(root)
    assert rows[0] == [c.header for c in tables[0].columns]
    r1 = dict(zip(rows[0], rows[1], strict=True))
    assert r1["datos-titulo"] == "Ayni & minka"
    assert r1["datos-lugar-punto-Latitude"] == -19.0432  # a number, not text
    assert r1["asistentes"] == 12
    assert r1["temas"] == "agua pesca"
    assert r1["SubmissionDate"] == "2026-11-24T13:31:04.123Z"  # raw text, as CSV
    assert r1["ReviewState"] is None  # received: empty
    r3 = dict(zip(rows[0], rows[3], strict=True))
    assert r3["datos-titulo"] == 'Línea 1, "dos"\nLínea 2'
    assert r3["KEY"] == "uuid:r3"

    assert _values(book["persona"]) == [
        ["nombre", "edad", "PARENT_KEY", "KEY"],
        ["Ana", 34, "uuid:r1/familia[1]", "uuid:r1/familia[1]/persona[1]"],
        ["Luis", 8.5, "uuid:r1/familia[1]", "uuid:r1/familia[1]/persona[2]"],
        ["Eva", 61, "uuid:r1/familia[2]", "uuid:r1/familia[2]/persona[1]"],
    ]
    assert _values(book["visitante"])[3] == [
        "'-",
        "uuid:r3",
        "uuid:r3/visita/visitante[2]",
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("lang", "headers", "temas", "ayllu"),
    [
        ("es", ["Fecha de envío", "inicio", "Título"], "Agua; Pesca", "Manasaya"),
        ("en", ["Submission date", "inicio", "Title"], "Water; Fishing", "Manasaya"),
    ],
)
def test_labels_and_headers_in_a_language(form, tmp_path, lang, headers, temas, ayllu):
    tables = build_tables(form, "encuentro", split_select_multiples=True)
    data = b"".join(
        xlsx_from_tables(
            tables, sample.records(form), tmp_path, labels_lang=lang, header_lang=lang
        )
    )
    rows = _values(_workbook(data)["encuentro"])
    assert rows[0][:3] == headers
    assert (rows[1][8], rows[1][9:12]) == (temas, [1, 0, 1])
    assert rows[1][3] == ayllu
    person = _values(_workbook(data)["persona"])[0]
    assert person == (
        ["Nombre", "Edad", "Clave del registro padre", "Clave"]
        if lang == "es"
        else ["Name", "Age", "Parent key", "Key"]
    )


def test_formula_cells_are_neutralized(form, tmp_path):
    values = sample.values_of(sample.R1_XML, form)
    values["nota"] = '=HYPERLINK("http://evil","clic")'
    values["datos"]["titulo"] = "+cmd"
    values["asistentes"] = "=1+1"  # an int column: not a number, so text
    rec = sample.record("uuid:f", values=values, submitter_name="@me")
    tables = build_tables(form, "encuentro")
    rows = _values(
        _workbook(b"".join(xlsx_from_tables(tables, [rec], tmp_path)))["encuentro"]
    )
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["nota"] == '\'=HYPERLINK("http://evil","clic")'
    assert row["datos-titulo"] == "'+cmd"
    assert row["asistentes"] == "'=1+1"
    assert row["SubmitterName"] == "'@me"
    assert row["datos-lugar-punto-Longitude"] == -68.1291


def test_hidden_content_gives_header_rows_only(form, tmp_path):
    hidden = [replace(r, content_hidden=True) for r in sample.records(form)]
    data = b"".join(xlsx_from_tables(build_tables(form, "encuentro"), hidden, tmp_path))
    book = _workbook(data)
    assert [len(_values(ws)) for ws in book.worksheets] == [1, 1, 1, 1]


@pytest.mark.parametrize(
    ("value", "numeric", "expected"),
    [
        ("12", True, 12),
        ("-3.5", True, -3.5),
        ("1e3", True, 1000.0),
        ("12", False, "12"),
        ("1234567890123456", True, "1234567890123456"),  # > 15 digits stays text
        ("12 a", True, "12 a"),
        ("NaN", True, "NaN"),
        ("a\x00b\x1fc\ufffe", False, "abc"),  # characters XML 1.0 forbids
        ("<b>&amp;</b>", False, "<b>&amp;</b>"),
        ("  padded  ", False, "  padded  "),
        ("x" * 40000, False, "x" * 32767),  # Excel's limit for one cell
    ],
)
def test_cell_values(value, numeric, expected):
    data = b"".join(xlsx_chunks([Sheet("s", ["h"], iter([[value]]), [numeric])]))
    assert _values(_workbook(data).active)[1] == [expected]


def test_excel_escapes_in_text_stay_literal():
    data = b"".join(xlsx_chunks([("s", ["h"], iter([["a_x0041_b"]]))]))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b">a_x005F_x0041_b<" in sheet


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a", "b"], ["a", "b"]),
        (["Datos", "datos"], ["Datos", "datos~2"]),
        (["a[1]:b*c?d/e\\f"], ["a1bcdef"]),
        (["x" * 40, "x" * 40], ["x" * 31, "x" * 29 + "~2"]),
        (["'quoted'", "", "History"], ["quoted", "Hoja", "History~2"]),
    ],
)
def test_sheet_names_are_valid_unique_and_short(names, expected):
    assert sheet_names(names) == expected


def test_a_workbook_needs_a_sheet():
    with pytest.raises(ValueError, match="at least one sheet"):
        list(xlsx_chunks([]))


BIG_FORM_MD = """
| survey |
| | type | name | label |
| | text | titulo | Título |
| | integer | asistentes | Asistentes |
| | geopoint | punto | Punto |
| | begin_repeat | persona | Persona |
| | text | nombre | Nombre |
| | end_repeat | | |
| settings |
| | form_id | version |
| | grande | 1 |
"""


class _Counting:
    """Records made on demand, counting how many were read."""

    def __init__(self, total: int) -> None:
        self.read = 0
        self.total = total
        self.date = datetime(2026, 11, 24, 13, 31, 4, 123000, tzinfo=UTC)

    def __iter__(self) -> Iterator[SubmissionRecord]:
        for i in range(self.total):
            self.read += 1
            values = {
                "titulo": f"Reunión {i}",
                "asistentes": str(i % 50),
                "punto": "-19.04 -68.13 3650 5",
                "persona": [{"nombre": f"Persona {i}"}],
                "meta": {"instanceID": f"uuid:{i:08d}"},
            }
            yield SubmissionRecord(
                instance_id=f"uuid:{i:08d}",
                submission_id=i,
                submission_date=self.date,
                updated_at=None,
                submitter_id=7,
                submitter_name="Juana Mamani",
                attachments_present=0,
                attachments_expected=0,
                status="",
                review_state="received",
                device_id="collect:AbCdEfGh12345678",
                edits=0,
                form_version="1",
                values=values,
            )


def test_a_big_export_streams_with_flat_memory(tmp_path):
    total = 20_000
    form = parse_xform(compile_markdown(BIG_FORM_MD).xml)
    source = _Counting(total)
    tables = build_tables(form, "grande")
    spool = tmp_path / "spool"
    spool.mkdir()
    read_at_chunk: list[int] = []
    tracemalloc.start()
    try:
        with (tmp_path / "grande.xlsx").open("wb") as out:
            for chunk in xlsx_from_tables(tables, source, spool, labels_lang="es"):
                read_at_chunk.append(source.read)
                out.write(chunk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert source.read == total
    assert peak < 2 * 1024 * 1024, peak
    # Bytes of the first sheet left while records were still being read.
    assert read_at_chunk[0] == 0
    assert any(0 < n < total for n in read_at_chunk)
    assert list(spool.iterdir()) == []
    with zipfile.ZipFile(tmp_path / "grande.xlsx") as package:
        assert package.testzip() is None
        rows = [
            package.read(f"xl/worksheets/sheet{n}.xml").count(b"<row ") for n in (1, 2)
        ]
    assert rows == [total + 1, total + 1]
