"""The date bounds people and scripts type into filters: `since` and `until`
of the API's exports and aggregates, of the console's submission list,
exports, dashboard and audit log, and `--since`/`--until` of the CLI.

One rule for all of them: a bound is a day (`YYYY-MM-DD`) or an ISO datetime
from 1900-01-01 to 9998-12-31, both as typed and in UTC; anything else is
refused with a 400 whose message says what to type (never clamped: a year
9999 or 0001 is a typo, and a silent "no limit" would export more than was
asked for). Pure: no Flask, no database.

Why those limits: every edge turns a bound into an instant with arithmetic
that must stay inside Python's datetime range (year 1 to 9999). The console's
days are Bolivian (UTC-4) with an inclusive `until` (+1 day); the aggregates
widen a timed `until` to the next day; the database binds each bound in UTC,
which moves a `+14:00` or `-12:00` datetime across a day. A day on the
1900-01-01 to 9998-12-31 window, in its zone and in UTC, leaves room for all
of these, so no bound can overflow later — in particular not while an export
is already streaming, where an error could only cut the download short after
its 200 was sent. Submissions' dates are never outside it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from app.errors import InvalidInputError

DAY_MIN = date(1900, 1, 1)
DAY_MAX = date(9998, 12, 31)


class DateBoundError(InvalidInputError):
    """A `since`/`until` that is not a date, or outside the window."""

    code = "invalid_date"


def _malformed(field: str) -> DateBoundError:
    return DateBoundError(
        f"Fecha no válida en «{field}»: use AAAA-MM-DD.",
        f"Invalid date in '{field}': use YYYY-MM-DD.",
    )


def _out_of_range(field: str) -> DateBoundError:
    return DateBoundError(
        f"La fecha de «{field}» está fuera del rango admitido: use una fecha "
        f"entre {DAY_MIN.isoformat()} y {DAY_MAX.isoformat()}.",
        f"The date in '{field}' is out of range: use a date between "
        f"{DAY_MIN.isoformat()} and {DAY_MAX.isoformat()}.",
    )


def _check_day(day: date, field: str) -> None:
    if not DAY_MIN <= day <= DAY_MAX:
        raise _out_of_range(field)


def parse_day(value: str, field: str) -> date:
    """A calendar day, `YYYY-MM-DD`, within the window.

    Raises: DateBoundError.
    """
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise _malformed(field) from None
    _check_day(day, field)
    return day


def parse_instant(value: str, field: str) -> datetime:
    """A day (midnight UTC) or an ISO datetime (UTC when it names no zone),
    aware, within the window both in its own zone and in UTC.

    Raises: DateBoundError.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), time())
        except ValueError:
            raise _malformed(field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    _check_day(parsed.date(), field)
    try:
        in_utc = parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-12:00 is in year 10000 in UTC
        raise _out_of_range(field) from None
    _check_day(in_utc.date(), field)
    return parsed
