"""Central's Briefcase-compatible CSV: the exact text of every table file, one
pass over the records for the zip, streaming, quoting and the formula guard."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.exports.csvfmt import csv_chunks, csv_multi, encode_row
from app.exports.tables import build_tables
from app.governance.records import SubmissionRecord
from tests.unit.exports import sample

DATA = Path(__file__).resolve().parents[2] / "data" / "exports"


@pytest.fixture(scope="module")
def form():
    return sample.schema()


def test_every_table_file_matches_the_hand_written_central_export(form, tmp_path):
    tables = build_tables(form, "encuentro")
    multi = csv_multi(tables, sample.records(form), tmp_path)
    files = {"encuentro": b"".join(multi.root)}
    files.update({name: b"".join(chunks) for name, chunks in multi.others})

    expected = {p.stem: p.read_bytes() for p in (DATA / "encuentro").glob("*.csv")}
    assert sorted(files) == sorted(expected)
    for name, text in files.items():
        assert text.decode() == expected[name].decode(), name
    assert list(tmp_path.iterdir()) == []  # spooled files deleted once read


def test_labels_headers_and_split_columns_in_spanish_match_the_expected_file(form):
    (root, *_rest) = build_tables(form, "encuentro", split_select_multiples=True)
    text = b"".join(
        csv_chunks(root, sample.records(form), labels_lang="es", header_lang="es")
    )
    assert text.decode() == (DATA / "encuentro-es" / "encuentro.csv").read_text()


def test_csv_chunks_gives_the_root_table_alone_as_the_zip_does(form, tmp_path):
    tables = build_tables(form, "encuentro")
    single = b"".join(csv_chunks(tables[0], sample.records(form)))
    assert single == (DATA / "encuentro" / "encuentro.csv").read_bytes()


@pytest.mark.parametrize(
    ("cells", "line"),
    [
        (["a", "b"], "a,b\n"),
        (["", ""], ",\n"),
        (["a,b"], '"a,b"\n'),
        (['say "hi"'], '"say ""hi"""\n'),
        (["two\nlines"], '"two\nlines"\n'),
        (["bare\rCR"], '"bare\rCR"\n'),
        (["  spaces kept  "], "  spaces kept  \n"),
    ],
)
def test_encode_row_quotes_minimally_as_csv_stringify(cells, line):
    assert encode_row(cells) == line
    assert next(csv.reader(io.StringIO(line, newline=""))) == cells


@pytest.mark.parametrize(
    ("cells", "line"),
    [
        (["=1+2", "-3.5"], "'=1+2,-3.5\n"),
        (['=HYPERLINK("http://x")'], '"\'=HYPERLINK(""http://x"")"\n'),
        (["\t=1"], "'\t=1\n"),
    ],
)
def test_encode_row_neutralizes_formulas_before_quoting(cells, line):
    assert encode_row(cells) == line


def test_formula_cells_are_neutralized_in_headers_and_values(form):
    (root, *_rest) = build_tables(form, "encuentro")
    values = sample.values_of(sample.R1_XML, form)
    values["nota"] = "=cmd|' /C calc'!A0"
    values["datos"]["titulo"] = "@SUM(A1)"
    rec = sample.record("uuid:f", values=values, submitter_name="+Juana")
    rows = list(csv.reader(io.StringIO(b"".join(csv_chunks(root, [rec])).decode())))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["nota"] == "'=cmd|' /C calc'!A0"
    assert row["datos-titulo"] == "'@SUM(A1)"
    assert row["SubmitterName"] == "'+Juana"
    assert row["datos-lugar-punto-Latitude"] == "-19.0432"  # numbers stay numbers


def test_bom_only_when_asked(form):
    (root, *_rest) = build_tables(form, "encuentro")
    assert not b"".join(csv_chunks(root, [])).startswith(b"\xef\xbb\xbf")
    with_bom = b"".join(csv_chunks(root, [], bom=True))
    assert with_bom.startswith(b"\xef\xbb\xbfSubmissionDate,")


def test_hidden_content_gives_no_row_in_any_table(form, tmp_path):
    tables = build_tables(form, "encuentro")
    hidden = [replace(r, content_hidden=True) for r in sample.records(form)]
    multi = csv_multi(tables, hidden, tmp_path)
    root = b"".join(multi.root).decode()
    assert root.count("\n") == 1  # the header alone
    for _name, chunks in multi.others:
        assert b"".join(chunks).decode().count("\n") == 1


def _failing_after(n: int, form) -> Iterator[SubmissionRecord]:
    values = sample.values_of(sample.R1_XML, form)
    for i in range(n):
        yield sample.record(f"uuid:{i:06d}", values=values)
    raise RuntimeError("database went away")


def test_csv_chunks_yields_rows_before_the_records_are_all_read(form):
    (root, *_rest) = build_tables(form, "encuentro")
    received: list[bytes] = []
    with pytest.raises(RuntimeError, match="database went away"):
        for chunk in csv_chunks(root, _failing_after(2000, form)):
            received.append(chunk)
    text = b"".join(received).decode()
    assert text.startswith("SubmissionDate,")
    assert "uuid:000000" in text  # rows left before the failure


def test_csv_multi_streams_the_root_and_spools_the_repeats(form, tmp_path):
    tables = build_tables(form, "encuentro")
    multi = csv_multi(tables, _failing_after(2000, form), tmp_path)
    received: list[bytes] = []
    with pytest.raises(RuntimeError, match="database went away"):
        for chunk in multi.root:
            received.append(chunk)
    assert "uuid:000000" in b"".join(received).decode()
    assert list(tmp_path.iterdir()) == []  # an abandoned export leaves no spool


def test_others_before_the_root_is_read_is_an_error(form, tmp_path):
    multi = csv_multi(build_tables(form, "encuentro"), [], tmp_path)
    with pytest.raises(RuntimeError):
        _ = multi.others


def test_header_row_in_english(form):
    tables = build_tables(form, "encuentro")
    header = b"".join(csv_chunks(tables[2], [], header_lang="en")).decode()
    assert header == "Name,Age,Parent key,Key\n"
