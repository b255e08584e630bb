"""Cell text that a spreadsheet must not run: the formula-injection guard.

Owns the one rule every spreadsheet-bound writer (CSV, XLSX) applies to every
cell, headers included. Pure and per cell: it never reformats data and knows
nothing about tables or forms.

A cell that starts with `=`, `+`, `-` or `@` (and, as OWASP's "CSV Injection"
page adds, TAB or CR) is taken as a formula by Excel, LibreOffice and Google
Sheets, so it gets a leading `'`, which they show as text. Plain numbers are
the exception: `-3.5`, a negative latitude split out of a geopoint, or a
geotrace `-19.04 -68.08 3650 5;-19.05 -68.09 3651 5` keep their exact text.
A run of numbers separated by spaces or `;` has no name, call or reference for
a spreadsheet to execute, and quoting it would corrupt Briefcase-compatible
data that R and Stata scripts read as numbers (openrosa.md §8).
"""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
# One number, or numbers separated by single spaces and `;` (geopoint,
# geotrace, geoshape text as ODK writes it).
_NUMBERS = re.compile(rf"{_NUMBER}(?:(?: |; ?){_NUMBER})*;?")


def neutralize(value: str) -> str:
    """`value`, with a leading `'` if a spreadsheet would read it as a formula."""
    if value.startswith(_TRIGGERS) and _NUMBERS.fullmatch(value) is None:
        return "'" + value
    return value
