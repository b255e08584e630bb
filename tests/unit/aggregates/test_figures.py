"""The pure folds behind the planning aggregates: filters, orderings, edge
cases of dates, statuses and money, and the CSV shape."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.aggregates import figures
from app.aggregates.csvrows import to_csv_rows
from app.aggregates.figures import Filters
from app.governance.records import SubmissionRecord

RECEIVED = datetime(2025, 8, 31, 23, 30, tzinfo=UTC)


def record(
    values: dict[str, Any],
    submission_id: int = 1,
    *,
    hidden: bool = False,
    level: str | None = None,
) -> SubmissionRecord:
    return SubmissionRecord(
        instance_id=f"uuid:{submission_id}",
        submission_id=submission_id,
        submission_date=RECEIVED,
        updated_at=None,
        submitter_id=None,
        submitter_name=None,
        attachments_present=0,
        attachments_expected=0,
        status="",
        review_state="received",
        device_id=None,
        edits=0,
        form_version="1",
        values=values,
        content_hidden=hidden,
        access_level=level,
    )


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (None, None, Filters()),
        (
            date(2025, 1, 1),
            date(2025, 2, 1),
            Filters(date(2025, 1, 1), date(2025, 2, 1)),
        ),
        (
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2025, 2, 1, tzinfo=UTC),
            Filters(date(2025, 1, 1), date(2025, 2, 1)),
        ),
        # A time later than midnight keeps that day in the period.
        (
            None,
            datetime(2025, 2, 1, 12, 0, tzinfo=UTC),
            Filters(None, date(2025, 2, 2)),
        ),
    ],
)
def test_filters_take_dates_or_datetimes_with_an_exclusive_end(since, until, expected):
    assert Filters.build(since=since, until=until) == expected


def test_empty_ayllu_and_mesa_filters_mean_no_filter():
    assert Filters.build(ayllu="", mesa="") == Filters()


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        (date(2025, 1, 1), date(2025, 3, 1), True),
        (date(2025, 1, 1), date(2025, 1, 31), False),  # ended before
        (date(2025, 4, 1), None, False),  # starts after
        (None, None, True),
        (date(2024, 1, 1), None, True),  # open-ended
    ],
)
def test_a_relationship_overlaps_the_period_when_it_meets_it(start, end, inside):
    period = Filters(since=date(2025, 2, 1), until=date(2025, 4, 1))
    assert period.overlaps(start, end) is inside


def test_the_record_date_falls_back_to_the_day_it_was_received():
    assert figures.record_day(record({"fecha": "2025-10-01"}), "fecha") == date(
        2025, 10, 1
    )
    assert figures.record_day(record({"fecha": "ayer"}), "fecha") == date(2025, 8, 31)
    assert figures.record_day(record({}), "fecha") == date(2025, 8, 31)


def test_needs_ties_break_by_households_and_unknown_urgency_weighs_nothing():
    rows = figures.needs_ranking(
        [
            record(
                {
                    "ayllu": "aransaya",
                    "necesidades": [
                        {
                            "sector": "salud",
                            "urgencia": "alta",
                            "hogares_afectados": "3",
                        },
                        {
                            "sector": "vivienda",
                            "urgencia": "alta",
                            "hogares_afectados": "9",
                        },
                        {"sector": "otro", "urgencia": None, "hogares_afectados": "x"},
                    ],
                }
            ),
            # A single repeat entry may come as a dict.
            record(
                {
                    "ayllu": "manasaya",
                    "necesidades": {"sector": "salud", "urgencia": "baja"},
                },
                2,
            ),
        ],
        Filters(),
    )

    assert [
        (r["sector"], r["peso_urgencia"], r["hogares_afectados"]) for r in rows
    ] == [
        ("vivienda", 3, 9),
        ("salud", 3, 3),
        ("salud", 1, 0),
        ("otro", 0, 0),
    ]
    assert rows[-1]["urgencia"] == figures.NO_DATA


def test_a_need_raised_twice_in_one_assessment_counts_one_assessment():
    need = {"sector": "salud", "urgencia": "media", "hogares_afectados": "1"}
    rows = figures.needs_ranking(
        [record({"ayllu": "aransaya", "necesidades": [need, need]})], Filters()
    )
    assert (rows[0]["necesidades"], rows[0]["diagnosticos"]) == (2, 1)


def test_practices_counted_only_show_no_visible_origin():
    rows = figures.practices_summary(
        [
            record(
                {"ayllu": "aransaya", "dominio": "medicina", "nivel_acceso": "sagrado"},
                hidden=True,
                level="sagrado",
            ),
            record(
                {
                    "ayllu": "aransaya",
                    "dominio": "medicina",
                    "contenido": {"origen": "ancestral"},
                },
                2,
                level="publico",
            ),
        ],
        Filters(),
    )
    assert [(r["origen"], r["nivel_acceso"]) for r in rows] == [
        ("ancestral", "publico"),
        ("no_visible", "sagrado"),
    ]


def test_a_meeting_without_mesa_is_counted_under_sin_mesa():
    rows = figures.participation(
        [record({"fecha": "2025-10-02", "asistentes": [{"sexo": "mujer"}]})],
        Filters(),
    )
    assert rows == [
        {
            "mes": "2025-10",
            "mesa": "sin_mesa",
            "nivel_actor": "sin_dato",
            "sexo": "mujer",
            "asistentes": 1,
            "reuniones": 1,
        }
    ]


def test_no_status_is_unfinished_and_no_deadline_is_never_overdue():
    result = figures.agreements(
        [
            record(
                {
                    "fecha": "2025-09-01",
                    "acuerdos": [
                        {"acuerdo": "a", "plazo": "2025-09-30"},
                        {"acuerdo": "b", "estado": "pendiente"},
                        {"acuerdo": "c", "plazo": "2025-09-15", "estado": "revisar"},
                    ],
                }
            )
        ],
        Filters(),
        today=date(2025, 10, 1),
    )

    assert [(o["acuerdo"], o["estado"]) for o in result["vencidos"]] == [
        ("c", "revisar"),
        ("a", "sin_dato"),
    ]
    assert [s["estado"] for s in result["por_estado"]] == [
        "pendiente",
        "en_curso",
        "cumplido",
        "cancelado",
        "revisar",
        "sin_dato",
    ]


def test_commitment_amounts_are_exact_decimals_and_bad_amounts_are_skipped():
    entries = [
        {
            "institucion": "ONG",
            "modalidad": "efectivo",
            "monto": "0.1",
            "moneda": "bob",
        },
        {
            "institucion": "ONG",
            "modalidad": "efectivo",
            "monto": "0.2",
            "moneda": "bob",
        },
        {
            "institucion": "ONG",
            "modalidad": "efectivo",
            "monto": "NaN",
            "moneda": "bob",
        },
        {"institucion": "ONG", "modalidad": "efectivo", "monto": "5"},
    ]
    rows = figures.commitments([record({"compromisos": entries})], Filters())

    assert rows[0]["montos"] == {"bob": "0.3", "sin_moneda": "5"}
    assert (rows[0]["compromisos"], rows[0]["en_efectivo"]) == (4, 4)


def test_exchange_practices_hidden_from_the_viewer_are_only_counted():
    result = figures.exchanges(
        [],
        [
            record({"ayllu": "aransaya"}, hidden=True, level="restringido"),
            record(
                {"ayllu": "aransaya", "contenido": {"origen": "ancestral"}},
                2,
                level="publico",
            ),
        ],
        Filters(),
    )
    assert result["practicas"] == []
    assert result["resumen"][0]["practicas_contenido_no_visible"] == 1


def test_csv_rows_of_a_single_table_follow_its_columns():
    header, rows = to_csv_rows(
        "practicas",
        [
            {
                "dominio": "d",
                "ayllu": "a",
                "origen": "o",
                "nivel_acceso": "n",
                "practicas": 2,
            }
        ],
    )
    assert header == ["dominio", "ayllu", "origen", "nivel_acceso", "practicas"]
    assert rows == [["d", "a", "o", "n", 2]]


def test_csv_rows_of_an_unknown_aggregate_raise_key_error():
    with pytest.raises(KeyError):
        to_csv_rows("secretos", [])
