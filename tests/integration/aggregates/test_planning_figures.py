"""The planning aggregates (domain.md §6) on a small hand-made data set of real
ingested submissions of the four CdP forms: the right figures, the filters,
and no restricted knowledge leaking into any of them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.aggregates import service as aggregates
from app.db.models import Submission
from app.db.types import utcnow
from app.governance.visibility import Viewer
from app.projects.errors import ProjectNotFoundError
from tests.integration.governance.support import (
    GUARDED_AYLLU,
    OTHER_AYLLU,
    World,
    ingest,
    make_world,
    practice,
)
from tests.support import seed

TODAY = date(2025, 11, 1)
SECRET = "receta-secreta-q'awa"
SECRET_PLACE = "comunidad-secreta-Llica"


def need(sector: str, urgencia: str, hogares: int, mesa: str) -> dict[str, str]:
    return {
        "sector": sector,
        "urgencia": urgencia,
        "hogares_afectados": str(hogares),
        "mesa": mesa,
    }


def attendee(sexo: str, nivel: str) -> dict[str, str | None]:
    return {
        "sexo": sexo,
        "nivel_actor": nivel,
        "ayllu_asistente": GUARDED_AYLLU if nivel == "n1_nucleo" else None,
    }


def agreement(text: str, plazo: str, estado: str) -> dict[str, str]:
    return {
        "acuerdo": text,
        "responsable": f"resp. {text}",
        "plazo": plazo,
        "estado": estado,
    }


def cash(institucion: str, monto: str, moneda: str) -> dict[str, str | None]:
    return {
        "institucion": institucion,
        "nivel_actor": "n2_apoyo",
        "permanencia": "proyecto_temporal",
        "modalidad": "efectivo",
        "monto": monto,
        "moneda": moneda,
    }


def in_kind(institucion: str) -> dict[str, str | None]:
    return {
        "institucion": institucion,
        "nivel_actor": "n1_nucleo",
        "permanencia": "mandato_estatal",
        "modalidad": "especie",
        "monto": None,
        "moneda": None,
    }


def actor(nombre: str, clase: str, permanencia: str, nivel: str, mesas: str, **more):  # type: ignore[no-untyped-def]
    return {
        "nombre": nombre,
        "clase_actor": clase,
        "permanencia": permanencia,
        "nivel_actor": nivel,
        "mesas": mesas,
        **more,
    }


@pytest.fixture
def world(runtime) -> World:
    w = make_world(runtime)
    pid = w.project_id
    # --- needs: three assessments ---
    ingest(
        runtime,
        pid,
        "necesidades_ayllu",
        {"ayllu": GUARDED_AYLLU, "fecha": "2025-10-01", "num_necesidades": "2"},
        {
            "necesidades": [
                need("agua_riego", "critica", 40, "produccion"),
                need("salud", "media", 10, "educacion_salud"),
            ]
        },
    )
    ingest(
        runtime,
        pid,
        "necesidades_ayllu",
        {"ayllu": GUARDED_AYLLU, "fecha": "2025-11-05", "num_necesidades": "2"},
        {
            "necesidades": [
                need("agua_riego", "critica", 25, "produccion"),
                need("educacion", "baja", 100, "educacion_salud"),
            ]
        },
    )
    ingest(
        runtime,
        pid,
        "necesidades_ayllu",
        {"ayllu": OTHER_AYLLU, "fecha": "2025-10-20", "num_necesidades": "3"},
        {
            "necesidades": [
                need("agua_riego", "alta", 60, "produccion"),
                need("salud", "media", 12, "educacion_salud"),
                need("vivienda", "critica", 5, "autonomia"),
            ]
        },
    )
    # --- practices: one per level, one without consent ---
    practice(runtime, pid, level="publico", dominio="agricultura", fecha="2025-09-01")
    practice(
        runtime,
        pid,
        level="comunitario",
        ayllu=OTHER_AYLLU,
        origen="intercambio",
        extra={"contenido/origen_comunidad": "Pampa Aullagas"},
    )
    practice(
        runtime,
        pid,
        level="restringido",
        origen="intercambio",
        extra={
            "contenido/origen_comunidad": SECRET_PLACE,
            "contenido/descripcion": SECRET,
        },
    )
    practice(runtime, pid, level="sagrado")
    practice(runtime, pid, level="publico", colectivo="negado", dominio="agricultura")
    # --- meetings ---
    ingest(
        runtime,
        pid,
        "reunion_cdp",
        {
            "fecha": "2025-09-10",
            "tipo_reunion": "mesa",
            "mesa": "produccion",
            "lugar/ayllu": GUARDED_AYLLU,
        },
        {
            "asistentes": [
                attendee("mujer", "n1_nucleo"),
                attendee("hombre", "n1_nucleo"),
                attendee("mujer", "n2_apoyo"),
            ],
            "acuerdos": [
                agreement("limpiar canal", "2025-10-01", "pendiente"),
                agreement("sembrar quinua", "2025-10-01", "cumplido"),
                agreement("feria", "2026-03-01", "en_curso"),
            ],
            "compromisos": [
                cash("FAO", "1000.50", "bob"),
                cash(" fao ", "200", "usd"),
                in_kind("GAIOC Chipaya"),
            ],
        },
    )
    ingest(
        runtime,
        pid,
        "reunion_cdp",
        {
            "fecha": "2025-10-15",
            "tipo_reunion": "intercambio",
            "mesa": "produccion educacion_salud",
            "lugar/ayllu": OTHER_AYLLU,
            "intercambio/comunidad_contraparte": "Pampa Aullagas",
            "intercambio/tema_intercambio": "manejo del lameo",
            "intercambio/direccion_intercambio": "recibe",
        },
        {
            "asistentes": [
                attendee("mujer", "n1_nucleo"),
                attendee("mujer", "n3_distante"),
            ],
            "acuerdos": [
                agreement("visita de retorno", "2025-10-20", "en_curso"),
                agreement("taller", "2025-10-30", "cancelado"),
            ],
            "compromisos": [cash("FAO", "500", "bob")],
        },
    )
    # --- the actor registry ---
    for answers in (
        actor(
            "FAO Bolivia",
            "institucion",
            "proyecto_temporal",
            "n2_apoyo",
            "produccion",
            sigla="FAO",
            ayllus="aransaya manasaya",
            fecha_inicio="2025-01-01",
            fecha_fin="2025-12-15",
        ),
        actor(
            "GAIOC Uru Chipaya",
            "institucion",
            "mandato_estatal",
            "n1_nucleo",
            "produccion autonomia",
            sigla="GAIOC",
            ayllus="cuatro_ayllus",
            fecha_inicio="2024-01-01",
        ),
        actor(
            "Juana Mamani",
            "persona",
            "proyecto_temporal",
            "n3_distante",
            "educacion_salud",
            ayllus="aransaya",
            fecha_inicio="2025-03-01",
            fecha_fin="2025-11-20",
        ),
    ):
        ingest(runtime, pid, "registro_actor", answers)
    return w


def compute(runtime, world: World, name: str, kind: str = "miembro", **filters):  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        function = aggregates.AGGREGATES[name]
        if name in ("acuerdos", "actores"):
            filters.setdefault("today", TODAY)
        return function(session, world.project_id, world.viewer(kind), **filters)


def ranking(rows):  # type: ignore[no-untyped-def]
    return [
        (
            r["ayllu"],
            r["sector"],
            r["urgencia"],
            r["peso_urgencia"],
            r["necesidades"],
            r["diagnosticos"],
            r["hogares_afectados"],
        )
        for r in rows
    ]


# --- 1. needs -------------------------------------------------------------------------


def test_needs_are_ranked_by_urgency_then_count_then_households(runtime, world):
    rows = compute(runtime, world, "necesidades")

    assert ranking(rows) == [
        ("aransaya", "agua_riego", "critica", 4, 2, 2, 65),
        ("manasaya", "vivienda", "critica", 4, 1, 1, 5),
        ("manasaya", "agua_riego", "alta", 3, 1, 1, 60),
        ("manasaya", "salud", "media", 2, 1, 1, 12),
        ("aransaya", "salud", "media", 2, 1, 1, 10),
        ("aransaya", "educacion", "baja", 1, 1, 1, 100),
    ]
    assert json.loads(json.dumps(rows)) == rows


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"ayllu": OTHER_AYLLU},
            [("vivienda", 1, 5), ("agua_riego", 1, 60), ("salud", 1, 12)],
        ),
        (
            {"since": datetime(2025, 10, 15, tzinfo=UTC)},
            [
                ("agua_riego", 1, 25),
                ("vivienda", 1, 5),
                ("agua_riego", 1, 60),
                ("salud", 1, 12),
                ("educacion", 1, 100),
            ],
        ),
        (
            {"until": datetime(2025, 10, 20, tzinfo=UTC)},
            [("agua_riego", 1, 40), ("salud", 1, 10)],
        ),
        (
            {"since": date(2025, 10, 1), "until": date(2025, 10, 2)},
            [("agua_riego", 1, 40), ("salud", 1, 10)],
        ),
        ({"mesa": "produccion"}, [("agua_riego", 2, 65), ("agua_riego", 1, 60)]),
    ],
)
def test_needs_filters_narrow_by_ayllu_period_and_mesa(
    runtime, world, filters, expected
):
    rows = compute(runtime, world, "necesidades", **filters)

    assert [(r["sector"], r["necesidades"], r["hogares_afectados"]) for r in rows] == (
        expected
    )


def test_needs_are_hidden_from_anonymous_viewers_and_tablets(runtime, world):
    assert compute(runtime, world, "necesidades", "anonimo") == []
    assert compute(runtime, world, "necesidades", "tableta") == []


def test_deleted_submissions_are_not_counted(runtime, world):
    with runtime.db.transaction() as session:
        for submission in session.scalars(sa.select(Submission)):
            submission.deleted_at = utcnow()
    assert compute(runtime, world, "necesidades") == []
    assert compute(runtime, world, "practicas", "guardian") == []


# --- 2. practices ---------------------------------------------------------------------


def practice_rows(rows):  # type: ignore[no-untyped-def]
    return [
        (r["dominio"], r["ayllu"], r["origen"], r["nivel_acceso"], r["practicas"])
        for r in rows
    ]


def test_practices_show_origin_only_where_the_viewer_may_see_content(runtime, world):
    member = practice_rows(compute(runtime, world, "practicas"))
    guardian = practice_rows(compute(runtime, world, "practicas", "guardian"))
    anonymous = practice_rows(compute(runtime, world, "practicas", "anonimo"))

    assert member == [
        ("agricultura", "aransaya", "ancestral", "publico", 1),
        ("medicina", "aransaya", "no_visible", "restringido", 1),
        ("medicina", "aransaya", "no_visible", "sagrado", 1),
        ("medicina", "manasaya", "intercambio", "comunitario", 1),
    ]
    assert guardian == [
        ("agricultura", "aransaya", "ancestral", "publico", 1),
        ("medicina", "aransaya", "intercambio", "restringido", 1),
        ("medicina", "aransaya", "no_visible", "sagrado", 1),
        ("medicina", "manasaya", "intercambio", "comunitario", 1),
    ]
    assert anonymous == [("agricultura", "aransaya", "ancestral", "publico", 1)]


def test_practice_filters_use_the_registration_date_and_ayllu(runtime, world):
    rows = compute(
        runtime, world, "practicas", ayllu=GUARDED_AYLLU, since=date(2025, 10, 1)
    )
    assert practice_rows(rows) == [
        ("medicina", "aransaya", "no_visible", "restringido", 1),
        ("medicina", "aransaya", "no_visible", "sagrado", 1),
    ]


@pytest.mark.parametrize("kind", ["miembro", "admin", "guardian_otro", "anonimo"])
def test_a_restricted_record_never_leaks_into_any_aggregate_for_a_non_guardian(
    runtime, world, kind
):
    for name in aggregates.AGGREGATES:
        result = compute(runtime, world, name, kind)
        text = json.dumps(result, ensure_ascii=False)
        header, rows = aggregates.to_csv_rows(name, result)
        text += json.dumps([header, rows], ensure_ascii=False, default=str)
        assert SECRET not in text, name
        assert SECRET_PLACE not in text, name

    exchanges = compute(runtime, world, "intercambios", kind)
    assert [p["comunidad_origen"] for p in exchanges["practicas"]] == (
        [] if kind == "anonimo" else ["Pampa Aullagas"]
    )


def test_a_guardian_of_the_ayllu_sees_the_restricted_exchange(runtime, world):
    exchanges = compute(runtime, world, "intercambios", "guardian")

    # Same registration date: by ayllu (aransaya, then manasaya).
    assert [p["comunidad_origen"] for p in exchanges["practicas"]] == [
        SECRET_PLACE,
        "Pampa Aullagas",
    ]
    assert exchanges["resumen"] == [
        {
            "reuniones_intercambio": 1,
            "practicas_intercambio": 2,
            "practicas_contenido_no_visible": 1,
        }
    ]


# --- 3. participation -----------------------------------------------------------------


def test_participation_counts_attendees_per_month_mesa_level_and_sex(runtime, world):
    rows = compute(runtime, world, "participacion")

    assert [
        (
            r["mes"],
            r["mesa"],
            r["nivel_actor"],
            r["sexo"],
            r["asistentes"],
            r["reuniones"],
        )
        for r in rows
    ] == [
        ("2025-09", "produccion", "n1_nucleo", "hombre", 1, 1),
        ("2025-09", "produccion", "n1_nucleo", "mujer", 1, 1),
        ("2025-09", "produccion", "n2_apoyo", "mujer", 1, 1),
        # The October meeting was of two mesas: it counts under each.
        ("2025-10", "educacion_salud", "n1_nucleo", "mujer", 1, 1),
        ("2025-10", "educacion_salud", "n3_distante", "mujer", 1, 1),
        ("2025-10", "produccion", "n1_nucleo", "mujer", 1, 1),
        ("2025-10", "produccion", "n3_distante", "mujer", 1, 1),
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"mesa": "educacion_salud"}, {("2025-10", "educacion_salud")}),
        ({"ayllu": GUARDED_AYLLU}, {("2025-09", "produccion")}),
        (
            {"since": date(2025, 10, 1)},
            {("2025-10", "educacion_salud"), ("2025-10", "produccion")},
        ),
    ],
)
def test_participation_filters(runtime, world, filters, expected):
    rows = compute(runtime, world, "participacion", **filters)
    assert {(r["mes"], r["mesa"]) for r in rows} == expected


# --- 4. agreements --------------------------------------------------------------------


def test_agreements_by_status_and_the_overdue_ones(runtime, world):
    result = compute(runtime, world, "acuerdos")

    assert result["por_estado"] == [
        {"estado": "pendiente", "acuerdos": 1, "vencidos": 1},
        {"estado": "en_curso", "acuerdos": 2, "vencidos": 1},
        {"estado": "cumplido", "acuerdos": 1, "vencidos": 0},
        {"estado": "cancelado", "acuerdos": 1, "vencidos": 0},
    ]
    assert [
        (
            o["fecha_reunion"],
            o["acuerdo"],
            o["responsable"],
            o["plazo"],
            o["dias_vencido"],
        )
        for o in result["vencidos"]
    ] == [
        ("2025-09-10", "limpiar canal", "resp. limpiar canal", "2025-10-01", 31),
        (
            "2025-10-15",
            "visita de retorno",
            "resp. visita de retorno",
            "2025-10-20",
            12,
        ),
    ]


def test_an_agreement_due_today_is_not_yet_overdue(runtime, world):
    result = compute(runtime, world, "acuerdos", today=date(2025, 10, 20))
    assert [o["acuerdo"] for o in result["vencidos"]] == ["limpiar canal"]


def test_agreement_filters_by_mesa(runtime, world):
    result = compute(runtime, world, "acuerdos", mesa="educacion_salud")
    assert sum(s["acuerdos"] for s in result["por_estado"]) == 2
    assert [o["acuerdo"] for o in result["vencidos"]] == ["visita de retorno"]


# --- 5. commitments and actors --------------------------------------------------------


def test_commitments_by_institution_level_and_permanence_with_sums_per_currency(
    runtime, world
):
    rows = compute(runtime, world, "compromisos")

    assert rows == [
        {
            "institucion": "FAO",
            "nivel_actor": "n2_apoyo",
            "permanencia": "proyecto_temporal",
            "grupo_permanencia": "temporal",
            "compromisos": 3,
            "en_efectivo": 3,
            "en_especie": 0,
            "montos": {"bob": "1500.50", "usd": "200"},
        },
        {
            "institucion": "GAIOC Chipaya",
            "nivel_actor": "n1_nucleo",
            "permanencia": "mandato_estatal",
            "grupo_permanencia": "permanente",
            "compromisos": 1,
            "en_efectivo": 0,
            "en_especie": 1,
            "montos": {},
        },
    ]
    header, csv_rows = aggregates.to_csv_rows("compromisos", rows)
    assert header[-2:] == ["monto_bob", "monto_usd"]
    assert csv_rows[0][-2:] == ["1500.50", "200"]
    assert csv_rows[1][-2:] == [None, None]


def test_commitments_filter_by_period(runtime, world):
    rows = compute(runtime, world, "compromisos", since=date(2025, 10, 1))
    assert [(r["institucion"], r["compromisos"], r["montos"]) for r in rows] == [
        ("FAO", 1, {"bob": "500"})
    ]


def test_actors_by_permanence_and_institutions_ending_soon(runtime, world):
    result = compute(runtime, world, "actores")

    assert [
        (r["clase_actor"], r["permanencia"], r["nivel_actor"], r["mesa"], r["actores"])
        for r in result["por_permanencia"]
    ] == [
        ("institucion", "mandato_estatal", "n1_nucleo", "autonomia", 1),
        ("institucion", "mandato_estatal", "n1_nucleo", "produccion", 1),
        ("institucion", "proyecto_temporal", "n2_apoyo", "produccion", 1),
        ("persona", "proyecto_temporal", "n3_distante", "educacion_salud", 1),
    ]
    # The person's relationship ends sooner, but people are not listed by name.
    assert result["por_terminar"] == [
        {
            "nombre": "FAO Bolivia",
            "sigla": "FAO",
            "tipo_actor": result["por_terminar"][0]["tipo_actor"],
            "permanencia": "proyecto_temporal",
            "fecha_fin": "2025-12-15",
            "dias_restantes": 44,
        }
    ]
    later = compute(runtime, world, "actores", since=date(2025, 12, 16))
    assert {r["clase_actor"] for r in later["por_permanencia"]} == {"institucion"}
    assert {r["permanencia"] for r in later["por_permanencia"]} == {"mandato_estatal"}


# --- 6. exchanges ---------------------------------------------------------------------


def test_exchanges_list_intercambio_meetings_and_visible_practices(runtime, world):
    result = compute(runtime, world, "intercambios")

    assert result["reuniones"] == [
        {
            "fecha": "2025-10-15",
            "ayllu": OTHER_AYLLU,
            "mesa": "produccion educacion_salud",
            "comunidad_contraparte": "Pampa Aullagas",
            "tema": "manejo del lameo",
            "direccion": "recibe",
            "seguimiento": result["reuniones"][0]["seguimiento"],
        }
    ]
    assert [(p["ayllu"], p["nivel_acceso"]) for p in result["practicas"]] == [
        (OTHER_AYLLU, "comunitario")
    ]
    # The restricted and the sacred practice: counted, origin unknown.
    assert result["resumen"][0]["practicas_contenido_no_visible"] == 2


def test_csv_variant_of_a_multi_part_aggregate_names_each_part(runtime, world):
    result = compute(runtime, world, "acuerdos")
    header, rows = aggregates.to_csv_rows("acuerdos", result)

    assert header[:4] == ["tabla", "estado", "acuerdos", "vencidos"]
    assert [row[0] for row in rows] == ["por_estado"] * 4 + ["vencidos"] * 2
    assert all(len(row) == len(header) for row in rows)


def test_an_unknown_project_is_not_found(runtime, world):
    with pytest.raises(ProjectNotFoundError), runtime.db.read() as session:
        aggregates.needs_ranking(session, 999, world.viewer("admin"))


def test_a_project_without_the_forms_has_empty_figures_and_csv_headers(runtime):
    seeded = seed(runtime)
    viewer = Viewer(actor=None, project_id=seeded.project_id)
    with runtime.db.read() as session:
        results = {
            name: function(session, seeded.project_id, viewer)
            for name, function in aggregates.AGGREGATES.items()
        }

    states = ("pendiente", "en_curso", "cumplido", "cancelado")
    assert results == {
        "necesidades": [],
        "practicas": [],
        "participacion": [],
        "acuerdos": {
            "por_estado": [{"estado": s, "acuerdos": 0, "vencidos": 0} for s in states],
            "vencidos": [],
        },
        "compromisos": [],
        "actores": {"por_permanencia": [], "por_terminar": []},
        "intercambios": {
            "resumen": [
                {
                    "reuniones_intercambio": 0,
                    "practicas_intercambio": 0,
                    "practicas_contenido_no_visible": 0,
                }
            ],
            "reuniones": [],
            "practicas": [],
        },
    }
    for name, result in results.items():
        header, _rows = aggregates.to_csv_rows(name, result)
        assert len(header) >= 3, name
