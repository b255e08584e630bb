"""A streaming XLSX writer: one sheet per table, bytes out as rows are read.

Owns the SpreadsheetML package of the XLSX export (openrosa.md §8, Beyond
Central): `[Content_Types].xml`, the relationships, `xl/workbook.xml`,
`xl/styles.xml` (a bold header) and one `xl/worksheets/sheetN.xml` per sheet,
written row by row with inline strings, a frozen header row, numbers only in
int/decimal-like columns, and every text cell through `neutralize()`.

Why not a library:
- XlsxWriter, even with `constant_memory`, writes the zip in `close()`: no byte
  could leave before the last row was read, so a large export would hold the
  response (and the worker) until the end.
- zipstream-ng streams, but an entry of unknown size always gets Zip64 local
  headers (`force_zip64 = bool(iterable) and size is None` in zipstream/ng.py),
  and Microsoft Excel refuses packages with Zip64 entries that do not need it
  (zlib-ng/minizip-ng#894, duckdb/duckdb-excel#64). The zip here is the layout
  Go's archive/zip (excelize) writes and Excel opens: deflated entries, local
  headers with zero sizes, a signed data descriptor, a central directory. An
  entry past 4 GiB would need Zip64: the writer stops instead (Excel cannot
  hold such a sheet anyway: 1,048,576 rows).
"""

from __future__ import annotations

import functools
import math
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import quoteattr

from app.cells import neutralize
from app.exports.tables import Table, TableSpool, header_row
from app.governance.records import SubmissionRecord

CHUNK_SIZE = 32 * 1024
MAX_SHEET_NAME = 31
MAX_CELL_TEXT = 32767  # Excel's limit for the text of one cell
_SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")
# XML 1.0 forbids these characters; lone surrogates cannot be UTF-8 encoded.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel reads `_xHHHH_` in a string as an escaped character; `_x005F_` keeps
# the underscore literal (ECMA-376 Part 1, 22.9.2.19 ST_Xstring).
_EXCEL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_NEEDS_ESCAPING = re.compile(
    "[&<>\r_\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
)
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_MAX_DIGITS = 15  # Excel keeps 15 significant digits: longer ids stay text

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_DECL}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="2">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    "</cellStyleXfs>"
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)
_SHEET_START = (
    f'{_DECL}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    "</sheetView></sheetViews>"
    '<sheetFormatPr defaultRowHeight="15"/><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"
_HEADER_STYLE = 1


class Sheet(NamedTuple):
    name: str
    header: Sequence[str]
    rows: Iterable[Sequence[str]]
    # Per column: write values that are numbers as numbers (int/decimal fields).
    numeric: Sequence[bool] = ()


def xlsx_chunks(sheets: Sequence[Sheet | tuple]) -> Iterator[bytes]:
    """An XLSX package, produced as each sheet's rows are read, in order.

    A sheet's rows are not touched before the sheets ahead of it are written,
    so later sheets can be fed from files spooled while the first is read.

    Raises: ValueError without sheets.
    """
    items = [s if isinstance(s, Sheet) else Sheet(*s) for s in sheets]
    if not items:
        raise ValueError("An XLSX workbook needs at least one sheet.")
    names = sheet_names([s.name for s in items])
    package = _Zip(datetime.now())
    yield from package.entry("[Content_Types].xml", [_content_types(len(items))])
    yield from package.entry("_rels/.rels", [_root_rels()])
    yield from package.entry("xl/workbook.xml", [_workbook(names)])
    yield from package.entry("xl/_rels/workbook.xml.rels", [_workbook_rels(len(items))])
    yield from package.entry("xl/styles.xml", [_STYLES.encode()])
    for n, sheet in enumerate(items, 1):
        yield from package.entry(
            f"xl/worksheets/sheet{n}.xml",
            _sheet_xml(sheet.header, sheet.rows, sheet.numeric),
        )
    yield package.finish()


def xlsx_from_tables(
    tables: list[Table],
    records: Iterable[SubmissionRecord],
    spool_dir: Path,
    *,
    labels_lang: str | None = None,
    header_lang: str | None = None,
) -> Iterator[bytes]:
    """The export's tables as one workbook, reading the records once.

    The first sheet streams as records are read; the repeat tables' rows are
    spooled meanwhile (`TableSpool`) and written after it.
    """
    spool = TableSpool(tables, records, spool_dir, labels_lang=labels_lang)
    root = tables[0]

    def sheet(table: Table, source: Iterable[Sequence[str]]) -> Sheet:
        # Repeat sheets are named by the repeat alone: "{fid}-" would eat the
        # 31 characters a sheet name may have.
        name = table.name
        if table is not root and name.startswith(f"{root.name}-"):
            name = name[len(root.name) + 1 :]
        return Sheet(
            name=name,
            header=header_row(table.columns, header_lang),
            rows=source,
            numeric=[c.numeric for c in table.columns],
        )

    sheets = [sheet(root, spool.root_rows())]
    sheets += [sheet(t, _spooled_later(spool, t)) for t in tables[1:]]
    return xlsx_chunks(sheets)


def _spooled_later(spool: TableSpool, table: Table) -> Iterator[list[str]]:
    # A generator: the spool is opened only when this sheet is written.
    yield from spool.spooled(table)


def sheet_names(names: Iterable[str]) -> list[str]:
    """Valid, unique (case-insensitive) sheet names of at most 31 characters."""
    result: list[str] = []
    seen: set[str] = set()
    for raw in names:
        base = _SHEET_NAME_UNSAFE.sub("", _XML_INVALID.sub("", raw)).strip().strip("'")
        base = base[:MAX_SHEET_NAME] or "Hoja"
        name, n = base, 1
        while name.lower() in seen or name.lower() == "history":
            n += 1
            suffix = f"~{n}"
            name = base[: MAX_SHEET_NAME - len(suffix)] + suffix
        seen.add(name.lower())
        result.append(name)
    return result


# --- worksheet XML ------------------------------------------------------------------


def _sheet_xml(
    header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool]
) -> Iterator[bytes]:
    # The start and the header leave before the first row is asked for.
    yield (_SHEET_START + _row_xml(1, header, (), _HEADER_STYLE)).encode()
    numeric = list(numeric) + [False] * (len(header) - len(numeric))
    buffer: list[str] = []
    size = 0
    for n, row in enumerate(rows, 2):
        xml = _row_xml(n, row, numeric, None)
        buffer.append(xml)
        size += len(xml)
        if size >= CHUNK_SIZE:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    buffer.append(_SHEET_END)
    yield "".join(buffer).encode()


def _row_xml(
    n: int, cells: Sequence[str], numeric: Sequence[bool], style: int | None
) -> str:
    out = [f'<row r="{n}">']
    s = f' s="{style}"' if style is not None else ""
    width = len(numeric)
    for i, value in enumerate(cells):
        if not value:
            continue
        letters = _column_letters(i)
        number = _as_number(value) if i < width and numeric[i] else None
        if number is not None:
            out.append(f'<c r="{letters}{n}"{s}><v>{number}</v></c>')
        else:
            out.append(
                f'<c r="{letters}{n}"{s} t="inlineStr"><is><t xml:space="preserve">'
                f"{_xml_text(value)}</t></is></c>"
            )
    out.append("</row>")
    return "".join(out)


def _as_number(value: str) -> str | None:
    """`value` if it can be an Excel number without losing digits, else None."""
    if not _NUMBER.fullmatch(value):
        return None
    if len(value) <= _MAX_DIGITS and "e" not in value and "E" not in value:
        return value  # the usual case: few digits, finite
    mantissa = re.split("[eE]", value, maxsplit=1)[0]
    digits = mantissa.replace("-", "").replace(".", "").lstrip("0")
    if len(digits) > _MAX_DIGITS or not math.isfinite(float(value)):
        return None
    return value


def _xml_text(value: str) -> str:
    """Cell text as XML: invalid characters out, neutralized, escaped."""
    if len(value) < MAX_CELL_TEXT and not _NEEDS_ESCAPING.search(value):
        return neutralize(value)  # the usual case: plain text
    text = neutralize(_XML_INVALID.sub("", value))[:MAX_CELL_TEXT]
    text = _EXCEL_ESCAPE.sub("_x005F_", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


@functools.cache
def _column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (cached: the same few columns on every row)."""
    n, letters = index + 1, ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- package parts ------------------------------------------------------------------


def _content_types(count: int) -> bytes:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        f'ContentType="{_CT}.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        f'{_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        f"{sheets}</Types>"
    ).encode()


def _root_rels() -> bytes:
    return (
        f'{_DECL}<Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ).encode()


def _workbook(names: Sequence[str]) -> bytes:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, 1)
    )
    return (
        f'{_DECL}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
    ).encode()


def _workbook_rels(count: int) -> bytes:
    sheets = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" '
        f'Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    return (
        f'{_DECL}<Relationships xmlns="{_PKG_REL_NS}">{sheets}'
        f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" '
        'Target="styles.xml"/></Relationships>'
    ).encode()


# --- the zip ------------------------------------------------------------------------

_ZIP32_LIMIT = 0xFFFFFFFF
_VERSION = 20  # 2.0: deflate, data descriptors
_FLAG_DATA_DESCRIPTOR = 0x08
_DEFLATED = 8


class _Zip:
    """A zip written front to back: entries as their data comes, then the
    central directory (APPNOTE 4.3; sizes in a data descriptor, bit 3)."""

    def __init__(self, when: datetime) -> None:
        year = min(max(when.year, 1980), 2107)
        self._date = ((year - 1980) << 9) | (when.month << 5) | when.day
        self._time = (when.hour << 11) | (when.minute << 5) | (when.second // 2)
        self._offset = 0
        self._central: list[bytes] = []

    def _emit(self, data: bytes) -> bytes:
        self._offset += len(data)
        return data

    def entry(self, name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        encoded = name.encode("ascii")  # part names here are plain ASCII
        start = self._offset
        if start > _ZIP32_LIMIT:
            raise RuntimeError("The XLSX package is too large for a zip without Zip64.")
        yield self._emit(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                _VERSION,
                _FLAG_DATA_DESCRIPTOR,
                _DEFLATED,
                self._time,
                self._date,
                0,  # CRC, sizes: in the data descriptor
                0,
                0,
                len(encoded),
                0,
            )
            + encoded
        )
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        crc = size = compressed = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out = compressor.compress(chunk)
            if out:
                compressed += len(out)
                yield self._emit(out)
        out = compressor.flush()
        compressed += len(out)
        if out:
            yield self._emit(out)
        if max(size, compressed) > _ZIP32_LIMIT:
            raise RuntimeError(f"{name} is too large for a zip without Zip64.")
        yield self._emit(struct.pack("<IIII", 0x08074B50, crc, compressed, size))
        self._central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                _VERSION,
                _VERSION,
                _FLAG_DATA_DESCRIPTOR,
                _DEFLATED,
                self._time,
                self._date,
                crc,
                compressed,
                size,
                len(encoded),
                0,  # extra field length
                0,  # comment length
                0,  # disk number
                0,  # internal attributes
                0,  # external attributes
                start,
            )
            + encoded
        )

    def finish(self) -> bytes:
        directory = b"".join(self._central)
        if self._offset > _ZIP32_LIMIT or len(self._central) > 0xFFFF:
            raise RuntimeError("The XLSX package is too large for a zip without Zip64.")
        end = struct.pack(
            "<IHHHHIIH",
            0x06054B50,
            0,
            0,
            len(self._central),
            len(self._central),
            len(directory),
            self._offset,
            0,
        )
        return directory + end
