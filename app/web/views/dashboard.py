"""The planning dashboard (domain.md §6): which needs come first, who takes
part, what knowledge is documented, whether agreements are kept, who commits
support, and horizontal exchanges. Figures come from
`app.aggregates.service.AGGREGATES` (already governed); charts are SVG drawn
here, each with the same numbers in a table."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from flask import render_template, request
from flask_login import login_required
from markupsafe import Markup

from app.aggregates.service import AGGREGATES
from app.auth import permissions
from app.runtime import read_session
from app.web import session as web_session
from app.web.charts import Row, Series, bar_chart
from app.web.i18n import gettext, label_of
from app.web.views import bp
from app.web.views.common import parse_day, project_choices, project_context

URGENCY_ORDER = ("critica", "alta", "media", "baja")
URGENCY_COLORS = {
    "critica": "#8C1C13",
    "alta": "#D55E00",
    "media": "#E69F00",
    "baja": "#56B4E9",
}
SEX_ORDER = ("mujer", "hombre", "otra", "prefiere_no")
LEVEL_ORDER = ("n1_nucleo", "n2_apoyo", "n3_distante")
PERMANENCE_GROUPS = ("permanente", "temporal", "prospectivo", "finalizado")
SPECIAL = ("sin_dato", "no_visible", "sin_mesa", "sin_moneda")
TOP_ROWS = 15


class Labeller:
    """Choice values to labels in the console's language."""

    def __init__(self, choices: dict[str, dict[str, Any]]) -> None:
        self.choices = choices

    def __call__(self, field: str, value: str | None) -> str:
        if value is None:
            return gettext("agg.sin_dato")
        if value in SPECIAL:
            return gettext(f"agg.{value}")
        labels = self.choices.get(field, {}).get(value)
        return label_of(labels, value) if labels else value


def _ordered(found: set[str], preferred: tuple[str, ...]) -> list[str]:
    return [k for k in preferred if k in found] + sorted(found - set(preferred))


def _month(value: str) -> str:
    year, _, month = value.partition("-")
    if not month.isdigit():
        return value
    return f"{gettext(f'month.{int(month)}')} {year}"


def _chart(
    element_id: str, title: str, desc: str, rows: list[Row], series: list[Series]
) -> Markup:
    # ElementTree escaped every label: safe to inline.
    return Markup(  # noqa: S704
        bar_chart(
            element_id=element_id,
            title=title,
            description=desc,
            rows=rows,
            series=series,
        )
    )


def _needs(data: list[dict[str, Any]], lab: Labeller) -> dict[str, Any]:
    score: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for row in data:
        key = (row["ayllu"], row["sector"])
        weighted = row["necesidades"] * (row["peso_urgencia"] or 0)
        cell = score[key]
        cell[row["urgencia"]] = cell.get(row["urgencia"], 0) + weighted
    urgencies = _ordered({u for cell in score.values() for u in cell}, URGENCY_ORDER)
    ranked = sorted(score.items(), key=lambda item: -sum(item[1].values()))[:TOP_ROWS]
    series = [
        Series(u, lab("urgencia", u), URGENCY_COLORS.get(u, "#999999"))
        for u in urgencies
    ]
    rows = [
        Row(
            f"{lab('ayllu', ayllu)} · {lab('sector', sector)}",
            tuple(cell.get(u, 0) for u in urgencies),
        )
        for (ayllu, sector), cell in ranked
    ]
    return {
        "chart": _chart(
            "chart-needs",
            gettext("dash.needs.title"),
            gettext("dash.needs.desc", n=len(rows)),
            rows,
            series,
        ),
        "table": data,
    }


def _participation(data: list[dict[str, Any]], lab: Labeller) -> dict[str, Any]:
    by_sex: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_level: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in data:
        by_sex[row["mes"]][row["sexo"]] += row["asistentes"]
        by_level[row["mes"]][row["nivel_actor"]] += row["asistentes"]
    months = sorted(by_sex)
    sexes = _ordered({s for cell in by_sex.values() for s in cell}, SEX_ORDER)
    levels = _ordered({v for cell in by_level.values() for v in cell}, LEVEL_ORDER)
    sex_chart = _chart(
        "chart-participation-sex",
        gettext("dash.participation.sex_title"),
        gettext("dash.participation.desc"),
        [Row(_month(m), tuple(by_sex[m].get(s, 0) for s in sexes)) for m in months],
        [Series(s, lab("sexo", s)) for s in sexes],
    )
    level_chart = _chart(
        "chart-participation-level",
        gettext("dash.participation.level_title"),
        gettext("dash.participation.desc"),
        [Row(_month(m), tuple(by_level[m].get(v, 0) for v in levels)) for m in months],
        [Series(v, lab("nivel_actor", v)) for v in levels],
    )
    table = [
        {
            "month": _month(m),
            "sexes": [by_sex[m].get(s, 0) for s in sexes],
            "levels": [by_level[m].get(v, 0) for v in levels],
            "total": sum(by_sex[m].values()),
        }
        for m in months
    ]
    return {
        "sex_chart": sex_chart,
        "level_chart": level_chart,
        "sexes": [lab("sexo", s) for s in sexes],
        "levels": [lab("nivel_actor", v) for v in levels],
        "table": table,
    }


def _practices(data: list[dict[str, Any]], lab: Labeller) -> dict[str, Any]:
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in data:
        cells[row["dominio"]][row["origen"]] += row["practicas"]
    origins = _ordered({o for cell in cells.values() for o in cell}, ())
    if "no_visible" in origins:
        origins.remove("no_visible")
        origins.append("no_visible")
    ranked = sorted(cells.items(), key=lambda item: -sum(item[1].values()))
    return {
        "chart": _chart(
            "chart-practices",
            gettext("dash.practices.title"),
            gettext("dash.practices.desc"),
            [
                Row(lab("dominio", d), tuple(cell.get(o, 0) for o in origins))
                for d, cell in ranked
            ],
            [Series(o, lab("origen", o)) for o in origins],
        ),
        "table": data,
    }


def _agreements(data: dict[str, list[dict[str, Any]]], lab: Labeller) -> dict[str, Any]:
    states = [row for row in data["por_estado"] if row["acuerdos"]]
    return {
        "chart": _chart(
            "chart-agreements",
            gettext("dash.agreements.title"),
            gettext("dash.agreements.desc"),
            [
                Row(
                    lab("estado", r["estado"]),
                    (r["acuerdos"] - r["vencidos"], r["vencidos"]),
                )
                for r in states
            ],
            [
                Series("al_dia", gettext("dash.agreements.on_time"), "#009E73"),
                Series("vencidos", gettext("dash.agreements.overdue"), "#8C1C13"),
            ],
        ),
        "states": states,
        "overdue": data["vencidos"],
    }


def _commitments(data: list[dict[str, Any]], lab: Labeller) -> dict[str, Any]:
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in data:
        cells[row["institucion"]][row["grupo_permanencia"]] += row["compromisos"]
    groups = _ordered({g for cell in cells.values() for g in cell}, PERMANENCE_GROUPS)
    ranked = sorted(cells.items(), key=lambda item: -sum(item[1].values()))[:TOP_ROWS]
    return {
        "chart": _chart(
            "chart-commitments",
            gettext("dash.commitments.title"),
            gettext("dash.commitments.desc"),
            [
                Row(
                    lab("institucion", name),
                    tuple(cell.get(g, 0) for g in groups),
                )
                for name, cell in ranked
            ],
            [Series(g, gettext(f"perm_group.{g}")) for g in groups],
        ),
        "table": data,
    }


@bp.get("/projects/<int:project_id>/dashboard")
@login_required
def dashboard_show(project_id: int) -> str:
    since, until = parse_day("since"), parse_day("until")
    filters = {
        "since": since,
        "until": until + timedelta(days=1) if until else None,  # inclusive day
        "ayllu": request.args.get("ayllu") or None,
        "mesa": request.args.get("mesa") or None,
    }
    viewer = web_session.viewer(project_id)
    context = project_context(project_id)
    web_session.require("submission.list", permissions.Project(project_id))
    choices = project_choices(project_id)
    figures = {
        name: AGGREGATES[name](read_session(), project_id, viewer, **filters)
        for name in (
            "necesidades",
            "participacion",
            "practicas",
            "acuerdos",
            "compromisos",
            "intercambios",
        )
    }
    lab = Labeller(choices)
    return render_template(
        "web/dashboard.html",
        needs=_needs(figures["necesidades"], lab),
        participation=_participation(figures["participacion"], lab),
        practices=_practices(figures["practicas"], lab),
        agreements=_agreements(figures["acuerdos"], lab),
        commitments=_commitments(figures["compromisos"], lab),
        exchanges=(figures["intercambios"].get("resumen") or [{}])[0],
        lab=lab,
        values={
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
            "ayllu": filters["ayllu"] or "",
            "mesa": filters["mesa"] or "",
        },
        ayllus=choices.get("ayllu", {}),
        mesas=choices.get("mesa", {}),
        nav="dashboard",
        **context,
    )
