"""The one rule for date filters: a day or ISO datetime from 1900-01-01 to
9998-12-31, as typed and in UTC; anything else a 400 saying so."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.datebounds import DateBoundError, parse_day, parse_instant


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC)),
        ("1900-01-01", datetime(1900, 1, 1, tzinfo=UTC)),
        ("9998-12-31T23:59:59", datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (
            "2026-11-24T08:00:00-04:00",
            datetime(2026, 11, 24, 8, tzinfo=timezone(timedelta(hours=-4))),
        ),
    ],
)
def test_dates_inside_the_window_are_read(value, expected):
    assert parse_instant(value, "since") == expected


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31",
        "0001-01-01",
        "1899-12-31T23:59:59",
        "9998-12-31T23:00:00-12:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+05:00",  # year 0 in UTC
        "1900-01-01T00:00:00+01:00",  # 1899 in UTC
    ],
)
def test_dates_outside_the_window_are_refused_with_both_languages(value):
    with pytest.raises(DateBoundError) as refused:
        parse_instant(value, "until")
    assert refused.value.status == 400
    assert "«until» está fuera del rango admitido" in refused.value.es
    assert "'until' is out of range" in refused.value.en


@pytest.mark.parametrize("value", ["99999-01-01", "-2026-01-01", "2026-13-01", "", "x"])
def test_what_is_not_a_date_is_refused(value):
    with pytest.raises(DateBoundError) as refused:
        parse_instant(value, "since")
    assert "Fecha no válida en «since»" in refused.value.es
    assert "Invalid date in 'since'" in refused.value.en


def test_a_console_day_is_a_day_in_the_window():
    assert parse_day(" 9998-12-31 ", "until") == date(9998, 12, 31)
    # The inclusive end of the last day is still a datetime.
    assert date(9998, 12, 31) + timedelta(days=1) == date(9999, 1, 1)
    for value in ("9999-12-31", "2026-11-24T00:00:00"):
        with pytest.raises(DateBoundError):
            parse_day(value, "until")
