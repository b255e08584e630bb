"""The planning figures of domain.md §6, computed from records already governed.

Pure: no session. `app.aggregates.service` streams each form's current
submissions through knowledge governance and hands the records that survive
(FULL, or COUNT_ONLY with `content_hidden` set) to these functions, which fold
them into plain, JSON-safe lists of dicts (strings, ints, None; money as
decimal strings). Records are consumed once, as they come: nothing here holds
more than the figures being built.

Field paths follow the CdP forms (`forms/*.xml`): values are the stored nested
dicts, groups as dicts, repeats as lists of dicts, leaves as the raw text.
A filter a form has no field for (the mesa of a practice) is not applied to it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.governance.records import SubmissionRecord

# The `weight` column of the `urgencia` list (/work/shared/choices.csv, also in
# the XForm's secondary instance); FormSchema keeps no extra choice columns.
URGENCY_WEIGHTS = {"baja": 1, "media": 2, "alta": 3, "critica": 4}
AGREEMENT_STATES = ("pendiente", "en_curso", "cumplido", "cancelado")
FINISHED = frozenset({"cumplido", "cancelado"})
# domain.md §6.5: permanent, temporary, prospective and ended institutions.
PERMANENCE_GROUPS = {
    "aliado_permanente": "permanente",
    "mandato_estatal": "permanente",
    "proyecto_temporal": "temporal",
    "apoyo_puntual": "temporal",
    "en_negociacion": "prospectivo",
    "finalizado": "finalizado",
}
NOT_VISIBLE = "no_visible"  # the viewer may count the record, not read this
NO_DATA = "sin_dato"
NO_MESA = "sin_mesa"
ENDING_SOON_DAYS = 90


@dataclass(frozen=True)
class Filters:
    since: date | None = None  # inclusive
    until: date | None = None  # exclusive
    ayllu: str | None = None
    mesa: str | None = None

    @classmethod
    def build(
        cls,
        since: date | datetime | None = None,
        until: date | datetime | None = None,
        ayllu: str | None = None,
        mesa: str | None = None,
    ) -> Filters:
        """From the edges' values: datetimes (UTC) or dates, `until` exclusive."""
        end = until
        if isinstance(until, datetime):
            # A bare date parsed as midnight ends the period before that day;
            # a later time on that day keeps the day in.
            end = until.date() + (timedelta() if until.time() == _MIDNIGHT else _DAY)
        start = since.date() if isinstance(since, datetime) else since
        return cls(since=start, until=end, ayllu=ayllu or None, mesa=mesa or None)

    def in_period(self, day: date) -> bool:
        if self.since is not None and day < self.since:
            return False
        return self.until is None or day < self.until

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Whether [start, end] (open-ended when missing) meets the period."""
        if self.until is not None and start is not None and start >= self.until:
            return False
        return self.since is None or end is None or end >= self.since


_MIDNIGHT = datetime.min.time()
_DAY = timedelta(days=1)


# --- reading values -------------------------------------------------------------------


def _get(values: Mapping[str, Any], path: str) -> Any:
    node: Any = values
    for step in path.split("/"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _tokens(value: Any) -> list[str]:
    """A select_multiple's answers (space-separated)."""
    return value.split() if isinstance(value, str) else []


def _entries(values: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    """A repeat's entries (a single entry may be stored as a dict)."""
    found = _get(values, path)
    if isinstance(found, Mapping):
        return [found]
    if isinstance(found, list):
        return [entry for entry in found if isinstance(entry, Mapping)]
    return []


def _date(value: Any) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def _decimal(value: Any) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def record_day(record: SubmissionRecord, path: str) -> date:
    """The form's own date when it has one, else the day it was received (UTC)."""
    return _date(_get(record.values, path)) or record.submission_date.date()


def _key(*parts: str | None) -> tuple[str, ...]:
    return tuple(part or NO_DATA for part in parts)


# --- 1. Which needs come first? -------------------------------------------------------


def needs_ranking(
    records: Iterable[SubmissionRecord], filters: Filters
) -> list[dict[str, Any]]:
    """Needs by ayllu × sector × urgency (necesidades_ayllu).

    `necesidades`: how many needs; `diagnosticos`: how many assessments raised
    it; `hogares_afectados`: their sum; sorted by urgency weight, then number of
    needs, then households (domain.md §6.1). The mesa filter applies per need.
    """
    needs: Counter[tuple[str, ...]] = Counter()
    households: Counter[tuple[str, ...]] = Counter()
    assessments: defaultdict[tuple[str, ...], set[int]] = defaultdict(set)
    for record in records:
        values = record.values
        ayllu = _text(values.get("ayllu"))
        if filters.ayllu and ayllu != filters.ayllu:
            continue
        if not filters.in_period(record_day(record, "fecha")):
            continue
        for need in _entries(values, "necesidades"):
            if filters.mesa and _text(need.get("mesa")) != filters.mesa:
                continue
            key = _key(ayllu, _text(need.get("sector")), _text(need.get("urgencia")))
            needs[key] += 1
            households[key] += _int(need.get("hogares_afectados"))
            assessments[key].add(record.submission_id)
    rows = [
        {
            "ayllu": ayllu,
            "sector": sector,
            "urgencia": urgency,
            "peso_urgencia": URGENCY_WEIGHTS.get(urgency, 0),
            "necesidades": count,
            "diagnosticos": len(assessments[(ayllu, sector, urgency)]),
            "hogares_afectados": households[(ayllu, sector, urgency)],
        }
        for (ayllu, sector, urgency), count in needs.items()
    ]
    rows.sort(
        key=lambda r: (
            -r["peso_urgencia"],
            -r["necesidades"],
            -r["hogares_afectados"],
            r["ayllu"],
            r["sector"],
        )
    )
    return rows


# --- 2. What knowledge is documented? -------------------------------------------------


def _practice_matches(record: SubmissionRecord, filters: Filters) -> bool:
    if filters.ayllu and _text(record.values.get("ayllu")) != filters.ayllu:
        return False
    return filters.in_period(record_day(record, "fecha_registro"))


def practices_summary(
    records: Iterable[SubmissionRecord], filters: Filters
) -> list[dict[str, Any]]:
    """Practices by domain, ayllu, origin and access level (practica_saber).

    Governance already left out withdrawn and unconsented records; the origin
    is content, so a record this viewer may only count shows `no_visible`.
    """
    counts: Counter[tuple[str, ...]] = Counter()
    for record in records:
        if not _practice_matches(record, filters):
            continue
        values = record.values
        origin = (
            NOT_VISIBLE
            if record.content_hidden
            else _text(_get(values, "contenido/origen"))
        )
        key = _key(
            _text(values.get("dominio")),
            _text(values.get("ayllu")),
            origin,
            record.access_level or _text(values.get("nivel_acceso")),
        )
        counts[key] += 1
    return [
        {
            "dominio": domain,
            "ayllu": ayllu,
            "origen": origin,
            "nivel_acceso": level,
            "practicas": count,
        }
        for (domain, ayllu, origin, level), count in sorted(counts.items())
    ]


# --- meetings (reunion_cdp) -----------------------------------------------------------


def _meeting_matches(record: SubmissionRecord, filters: Filters) -> bool:
    values = record.values
    if filters.ayllu and _text(_get(values, "lugar/ayllu")) != filters.ayllu:
        return False
    if filters.mesa and filters.mesa not in _tokens(values.get("mesa")):
        return False
    return filters.in_period(record_day(record, "fecha"))


def _meeting_mesas(values: Mapping[str, Any], filters: Filters) -> list[str]:
    mesas = _tokens(values.get("mesa")) or [NO_MESA]
    return [filters.mesa] if filters.mesa else mesas


# --- 3. Who takes part? ---------------------------------------------------------------


def participation(
    records: Iterable[SubmissionRecord], filters: Filters
) -> list[dict[str, Any]]:
    """Attendees per month × mesa × actor level × sex (reunion_cdp).

    A meeting of several mesas (`mesa` is a select_multiple) counts its
    attendees under each of them: the question is who takes part in each
    mesa, and a joint meeting is part of each. Totals across mesas therefore
    double-count people; per mesa they do not. With a mesa filter only that
    mesa's rows are given.
    """
    attendees: Counter[tuple[str, ...]] = Counter()
    meetings: defaultdict[tuple[str, ...], set[int]] = defaultdict(set)
    for record in records:
        if not _meeting_matches(record, filters):
            continue
        values = record.values
        month = record_day(record, "fecha").strftime("%Y-%m")
        people = _entries(values, "asistentes")
        for mesa in _meeting_mesas(values, filters):
            for person in people:
                key = _key(
                    month,
                    mesa,
                    _text(person.get("nivel_actor")),
                    _text(person.get("sexo")),
                )
                attendees[key] += 1
                meetings[key].add(record.submission_id)
    return [
        {
            "mes": month,
            "mesa": mesa,
            "nivel_actor": level,
            "sexo": sex,
            "asistentes": count,
            "reuniones": len(meetings[(month, mesa, level, sex)]),
        }
        for (month, mesa, level, sex), count in sorted(attendees.items())
    ]


# --- 4. Are agreements kept? ----------------------------------------------------------


def agreements(
    records: Iterable[SubmissionRecord], filters: Filters, today: date
) -> dict[str, list[dict[str, Any]]]:
    """Agreements by status and the overdue ones (reunion_cdp `acuerdos`).

    Overdue: a deadline before `today` and a status other than cumplido or
    cancelado (domain.md §6.4; a missing status is unfinished).
    """
    by_state: Counter[str] = Counter()
    overdue_by_state: Counter[str] = Counter()
    overdue: list[dict[str, Any]] = []
    for record in records:
        if not _meeting_matches(record, filters):
            continue
        values = record.values
        meeting_day = record_day(record, "fecha")
        for entry in _entries(values, "acuerdos"):
            state = _text(entry.get("estado")) or NO_DATA
            by_state[state] += 1
            deadline = _date(entry.get("plazo"))
            if deadline is None or deadline >= today or state in FINISHED:
                continue
            overdue_by_state[state] += 1
            overdue.append(
                {
                    "fecha_reunion": meeting_day.isoformat(),
                    "tipo_reunion": _text(values.get("tipo_reunion")),
                    "mesa": _text(values.get("mesa")),
                    "ayllu": _text(_get(values, "lugar/ayllu")),
                    "acuerdo": _text(entry.get("acuerdo")),
                    "responsable": _text(entry.get("responsable")),
                    "plazo": deadline.isoformat(),
                    "estado": state,
                    "dias_vencido": (today - deadline).days,
                }
            )
    states = [*AGREEMENT_STATES, *sorted(set(by_state) - set(AGREEMENT_STATES))]
    overdue.sort(key=lambda r: (r["plazo"], r["fecha_reunion"], r["acuerdo"] or ""))
    return {
        "por_estado": [
            {"estado": s, "acuerdos": by_state[s], "vencidos": overdue_by_state[s]}
            for s in states
        ],
        "vencidos": overdue,
    }


# --- 5. Who is with us for the long run? ----------------------------------------------


def _name(value: Any) -> str | None:
    text = _text(value)
    return " ".join(text.split()) if text else None


def commitments(
    records: Iterable[SubmissionRecord], filters: Filters
) -> list[dict[str, Any]]:
    """Commitments made in meetings by institution × level × permanence.

    `montos` sums cash commitments per currency as decimal strings (in-kind
    ones have no amount); institutions written with other capitals or spacing
    are one institution, shown as first written.
    """
    count: Counter[tuple[str, ...]] = Counter()
    cash: Counter[tuple[str, ...]] = Counter()
    in_kind: Counter[tuple[str, ...]] = Counter()
    sums: defaultdict[tuple[str, ...], defaultdict[str, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    spelling: dict[str, str] = {}
    for record in records:
        if not _meeting_matches(record, filters):
            continue
        for entry in _entries(record.values, "compromisos"):
            institution = _name(entry.get("institucion")) or NO_DATA
            folded = spelling.setdefault(institution.casefold(), institution)
            key = _key(
                folded,
                _text(entry.get("nivel_actor")),
                _text(entry.get("permanencia")),
            )
            count[key] += 1
            modality = _text(entry.get("modalidad"))
            if modality == "especie":
                in_kind[key] += 1
            amount = _decimal(entry.get("monto"))
            if modality == "efectivo" or amount is not None:
                cash[key] += 1
            if amount is not None:
                currency = _text(entry.get("moneda")) or "sin_moneda"
                sums[key][currency] += amount
    return [
        {
            "institucion": institution,
            "nivel_actor": level,
            "permanencia": permanence,
            "grupo_permanencia": PERMANENCE_GROUPS.get(permanence, NO_DATA),
            "compromisos": n,
            "en_efectivo": cash[(institution, level, permanence)],
            "en_especie": in_kind[(institution, level, permanence)],
            "montos": {
                currency: format(total, "f")
                for currency, total in sorted(
                    sums[(institution, level, permanence)].items()
                )
            },
        }
        for (institution, level, permanence), n in sorted(
            count.items(), key=lambda item: (item[0][0].casefold(), item[0][1:])
        )
    ]


def actors(
    records: Iterable[SubmissionRecord], filters: Filters, today: date
) -> dict[str, list[dict[str, Any]]]:
    """The actor registry by permanence × level × mesa, and the institutions
    whose relationship ends within ENDING_SOON_DAYS of `today` (§6.5).

    The period filter keeps actors whose relationship (fecha_inicio to
    fecha_fin, open-ended when missing) meets it; ayllu and mesa filter on the
    actor's `ayllus` and `mesas`. Names are listed for institutions only.
    """
    counts: Counter[tuple[str, ...]] = Counter()
    ending: list[dict[str, Any]] = []
    horizon = today + timedelta(days=ENDING_SOON_DAYS)
    for record in records:
        values = record.values
        if filters.ayllu and filters.ayllu not in _tokens(values.get("ayllus")):
            continue
        mesas = _tokens(values.get("mesas"))
        if filters.mesa and filters.mesa not in mesas:
            continue
        start = _date(values.get("fecha_inicio"))
        end = _date(values.get("fecha_fin"))
        if not filters.overlaps(start, end):
            continue
        kind = _text(values.get("clase_actor"))
        permanence = _text(values.get("permanencia"))
        level = _text(values.get("nivel_actor"))
        for mesa in [filters.mesa] if filters.mesa else (mesas or [NO_MESA]):
            counts[_key(kind, permanence, level, mesa)] += 1
        if kind == "institucion" and end is not None and today <= end < horizon:
            ending.append(
                {
                    "nombre": _name(values.get("nombre")),
                    "sigla": _text(values.get("sigla")),
                    "tipo_actor": _text(values.get("tipo_actor")),
                    "permanencia": permanence,
                    "fecha_fin": end.isoformat(),
                    "dias_restantes": (end - today).days,
                }
            )
    ending.sort(key=lambda r: (r["fecha_fin"], r["nombre"] or ""))
    return {
        "por_permanencia": [
            {
                "clase_actor": kind,
                "permanencia": permanence,
                "grupo_permanencia": PERMANENCE_GROUPS.get(permanence, NO_DATA),
                "nivel_actor": level,
                "mesa": mesa,
                "actores": n,
            }
            for (kind, permanence, level, mesa), n in sorted(counts.items())
        ],
        "por_terminar": ending,
    }


# --- 6. Are communities learning from each other? -------------------------------------


def exchanges(
    meetings: Iterable[SubmissionRecord],
    practices: Iterable[SubmissionRecord],
    filters: Filters,
) -> dict[str, list[dict[str, Any]]]:
    """`intercambio` meetings and practices whose origin is `intercambio`.

    Only practices whose content this viewer may see are listed; the others
    are counted in `practicas_contenido_no_visible` whatever their origin,
    since counting only the hidden exchanges would reveal their origin.
    """
    meeting_rows = []
    for record in meetings:
        values = record.values
        if _text(values.get("tipo_reunion")) != "intercambio":
            continue
        if not _meeting_matches(record, filters):
            continue
        meeting_rows.append(
            {
                "fecha": record_day(record, "fecha").isoformat(),
                "ayllu": _text(_get(values, "lugar/ayllu")),
                "mesa": _text(values.get("mesa")),
                "comunidad_contraparte": _text(
                    _get(values, "intercambio/comunidad_contraparte")
                ),
                "tema": _text(_get(values, "intercambio/tema_intercambio")),
                "direccion": _text(_get(values, "intercambio/direccion_intercambio")),
                "seguimiento": _text(
                    _get(values, "intercambio/seguimiento_intercambio")
                ),
            }
        )
    practice_rows = []
    hidden = 0
    for record in practices:
        if not _practice_matches(record, filters):
            continue
        if record.content_hidden:
            hidden += 1
            continue
        values = record.values
        if _text(_get(values, "contenido/origen")) != "intercambio":
            continue
        practice_rows.append(
            {
                "fecha_registro": record_day(record, "fecha_registro").isoformat(),
                "ayllu": _text(values.get("ayllu")),
                "dominio": _text(values.get("dominio")),
                "nivel_acceso": record.access_level,
                "comunidad_origen": _text(_get(values, "contenido/origen_comunidad")),
            }
        )
    meeting_rows.sort(key=lambda r: (r["fecha"], r["comunidad_contraparte"] or ""))
    practice_rows.sort(key=lambda r: (r["fecha_registro"], r["ayllu"] or ""))
    return {
        "resumen": [
            {
                "reuniones_intercambio": len(meeting_rows),
                "practicas_intercambio": len(practice_rows),
                "practicas_contenido_no_visible": hidden,
            }
        ],
        "reuniones": meeting_rows,
        "practicas": practice_rows,
    }
