"""The CSV variant of each aggregate: one header and rows of plain values.

Pure: it only reshapes what `app.aggregates.figures` returns, and writes it as
CSV text with every cell passed through the formula guard the exports use
(`app.cells`): an agreement or an institution named `=HYPERLINK(…)` must not
run in the planner's spreadsheet. Aggregates that
return several tables (a dict of lists) become one table with a leading
`tabla` column naming the part, so a single CSV file carries all of it. Columns
are fixed per aggregate, so an empty result still has its header; the money
sums of `compromisos` become one `monto_<moneda>` column per currency present.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from app.cells import neutralize

Table = tuple[str, ...]

COLUMNS: dict[str, Table | dict[str, Table]] = {
    "necesidades": (
        "ayllu",
        "sector",
        "urgencia",
        "peso_urgencia",
        "necesidades",
        "diagnosticos",
        "hogares_afectados",
    ),
    "practicas": ("dominio", "ayllu", "origen", "nivel_acceso", "practicas"),
    "participacion": (
        "mes",
        "mesa",
        "nivel_actor",
        "sexo",
        "asistentes",
        "reuniones",
    ),
    "acuerdos": {
        "por_estado": ("estado", "acuerdos", "vencidos"),
        "vencidos": (
            "fecha_reunion",
            "tipo_reunion",
            "mesa",
            "ayllu",
            "acuerdo",
            "responsable",
            "plazo",
            "estado",
            "dias_vencido",
        ),
    },
    "compromisos": (
        "institucion",
        "nivel_actor",
        "permanencia",
        "grupo_permanencia",
        "compromisos",
        "en_efectivo",
        "en_especie",
    ),
    "actores": {
        "por_permanencia": (
            "clase_actor",
            "permanencia",
            "grupo_permanencia",
            "nivel_actor",
            "mesa",
            "actores",
        ),
        "por_terminar": (
            "nombre",
            "sigla",
            "tipo_actor",
            "permanencia",
            "fecha_fin",
            "dias_restantes",
        ),
    },
    "intercambios": {
        "resumen": (
            "reuniones_intercambio",
            "practicas_intercambio",
            "practicas_contenido_no_visible",
        ),
        "reuniones": (
            "fecha",
            "ayllu",
            "mesa",
            "comunidad_contraparte",
            "tema",
            "direccion",
            "seguimiento",
        ),
        "practicas": (
            "fecha_registro",
            "ayllu",
            "dominio",
            "nivel_acceso",
            "comunidad_origen",
        ),
    },
}


def _money_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({currency for row in rows for currency in row.get("montos", {})})


def to_csv_rows(name: str, result: Any) -> tuple[list[str], list[list[Any]]]:
    """Header and rows for aggregate `name`'s result. Raises KeyError if unknown."""
    spec = COLUMNS[name]
    if isinstance(spec, tuple):
        columns = list(spec)
        money = _money_columns(result) if name == "compromisos" else []
        header = columns + [f"monto_{currency}" for currency in money]
        rows = [
            [row.get(c) for c in columns]
            + [row.get("montos", {}).get(currency) for currency in money]
            for row in result
        ]
        return header, rows
    union: list[str] = []
    for table in spec.values():
        union.extend(c for c in table if c not in union)
    header = ["tabla", *union]
    rows = [
        [part, *[row.get(c) if c in table else None for c in union]]
        for part, table in spec.items()
        for row in result.get(part, [])
    ]
    return header, rows


def to_csv_text(name: str, result: Any) -> str:
    """The aggregate as CSV text, formulas neutralised. Raises KeyError."""
    header, rows = to_csv_rows(name, result)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in [header, *rows]:
        writer.writerow(
            [neutralize(cell) if isinstance(cell, str) else cell for cell in row]
        )
    return buffer.getvalue()
