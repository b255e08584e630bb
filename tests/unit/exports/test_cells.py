"""The formula-injection guard: formulas get a leading quote, numbers do not."""

from __future__ import annotations

import pytest

from app.cells import neutralize


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+591 71234567 call", "'+591 71234567 call"),
        ("-", "'-"),
        ("- nota", "'- nota"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("-1+cmd|x", "'-1+cmd|x"),
        ("-2e3x", "'-2e3x"),
    ],
)
def test_formula_like_text_gets_a_leading_quote(value, expected):
    assert neutralize(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Ayni",
        "a=b",
        "2026-11-24",
        "uuid:r1",
        "'already quoted",
        "-3.5",
        "+3",
        "-.5",
        "-19.04",
        "-2E-3",
        "-19.04 -68.08 3650 5",
        "-19.04 -68.08 3650 5;-19.05 -68.09 3651 5",
        "-19.04 -68.08 0 0; -19.05 -68.09 0 0;",
    ],
)
def test_plain_text_and_numbers_stay_as_they_are(value):
    assert neutralize(value) == value
