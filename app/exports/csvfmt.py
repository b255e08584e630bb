"""Central's Briefcase-compatible CSV, streamed (openrosa.md §8).

Owns the bytes of CSV tables: the header row (Central's names, or labels in a
language), then the rows of `app.exports.tables`, every cell through
`neutralize()`. It must not hold a table in memory: chunks leave as rows are
made, and `csv_multi` reads the records once for all tables of the zip.

Encoding, as Central (csv-stringify with its defaults): UTF-8, no BOM unless
asked (Excel needs one to read UTF-8), records ended by `\\n`, a field quoted
only when it holds `,`, `"`, CR or LF, quotes doubled. The `csv` module is not
used: with `\\n` as terminator Python 3.11 leaves a bare CR unquoted, which
splits the record for readers that end lines at CR.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.cells import neutralize
from app.exports.tables import Column, Table, TableSpool, header_row, rows
from app.governance.records import SubmissionRecord

BOM = "\ufeff".encode()
CHUNK_SIZE = 32 * 1024
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def encode_row(cells: Iterable[str]) -> str:
    """One CSV record, neutralized and quoted, with its `\\n`."""
    out = []
    for cell in cells:
        text = neutralize(cell)
        if _NEEDS_QUOTES.search(text):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\n"


def _chunks(
    columns: Sequence[Column],
    source: Iterable[list[str]],
    *,
    bom: bool,
    header_lang: str | None,
) -> Iterator[bytes]:
    # The header leaves at once, before any record is read.
    yield (BOM if bom else b"") + encode_row(header_row(columns, header_lang)).encode()
    buffer: list[str] = []
    size = 0
    for row in source:
        line = encode_row(row)
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_SIZE:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def csv_chunks(
    table: Table,
    records: Iterable[SubmissionRecord],
    *,
    labels_lang: str | None = None,
    bom: bool = False,
    header_lang: str | None = None,
) -> Iterator[bytes]:
    """One table as CSV bytes, produced as the records are read."""

    def source() -> Iterator[list[str]]:
        for record in records:
            yield from rows(table, record, labels_lang=labels_lang)

    return _chunks(table.columns, source(), bom=bom, header_lang=header_lang)


@dataclass
class CsvMulti:
    """The tables of one export from one pass over the records.

    Read `root` to the end first; `others` is then each repeat table's name
    and bytes, read back from the spool (files deleted as they are read).
    """

    root: Iterator[bytes]
    _spool: TableSpool
    _bom: bool
    _header_lang: str | None

    @property
    def others(self) -> list[tuple[str, Iterator[bytes]]]:
        """Raises: RuntimeError if `root` has not been read to the end."""
        return [
            (
                table.name,
                _chunks(
                    table.columns,
                    self._spool.spooled(table),
                    bom=self._bom,
                    header_lang=self._header_lang,
                ),
            )
            for table in self._spool.others
        ]


def csv_multi(
    tables: list[Table],
    records: Iterable[SubmissionRecord],
    spool_dir: Path,
    *,
    labels_lang: str | None = None,
    bom: bool = False,
    header_lang: str | None = None,
) -> CsvMulti:
    """The root table streamed now, the repeat tables spooled for later."""
    spool = TableSpool(tables, records, spool_dir, labels_lang=labels_lang)
    root = _chunks(
        tables[0].columns, spool.root_rows(), bom=bom, header_lang=header_lang
    )
    return CsvMulti(root=root, _spool=spool, _bom=bom, _header_lang=header_lang)
