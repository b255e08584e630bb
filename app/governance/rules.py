"""Pure rules of knowledge governance (domain.md §4), shared by ingest and
every reader.

- **Which forms.** A form version takes part in governance when any of its
  fields is an access level or a consent (`nivel_acceso`,
  `consentimiento_colectivo`, `consentimiento_individual`), at any depth; a
  *form* is governed when any version ever published was
  (`app.governance.visibility.form_is_governed`), so renaming, removing or
  moving the field in a later version protects nothing less.
- **The facts of a record.** Level, both consents and ayllu are read wherever
  they occur, normalised (trimmed, case-folded, accents dropped: `" Sagrado "`,
  `SAGRADO` and `sagrado` are one value) and, when an element is repeated,
  the strictest value wins. No level yet counts as `restringido`; a level that
  is not one of the four counts as the strictest, `sagrado`. A consent that is
  not `otorgado`/`otorgado_condiciones` is not granted. Two different ayllus
  make the record nobody's (no guardian opens it).
- **Who sees what.** `visibility()` is the rule table every surface asks.

No session, no Actor: `app.governance.visibility` gathers the viewer's side
once per page or export and applies these rules to every record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.forms.xform import FormSchema

ACCESS_FIELD = "nivel_acceso"
COLLECTIVE_FIELD = "consentimiento_colectivo"
INDIVIDUAL_FIELD = "consentimiento_individual"
AYLLU_FIELD = "ayllu"
CONDITIONS_FIELD = "condiciones_acceso"
GOVERNED_FIELDS = frozenset({ACCESS_FIELD, COLLECTIVE_FIELD, INDIVIDUAL_FIELD})

# Least to most strict: a change towards the front opens the record up.
ACCESS_LEVELS = ("publico", "comunitario", "restringido", "sagrado")
NO_LEVEL = "restringido"  # domain.md §4: "A record with no level yet"
UNKNOWN_LEVEL = "sagrado"  # an unknown value is treated as the strictest level
GRANTED = ("otorgado", "otorgado_condiciones")
# Consents, least to most strict; anything else is as strict as `negado`.
CONSENT_ORDER = ("otorgado", "otorgado_condiciones", "pendiente", "negado", "retirado")
UNKNOWN_CONSENT = "negado"


def normalise(value: object) -> str:
    """A choice value as people may type it, reduced to its name:
    `" Público "` → `publico`, `"Otorgado con condiciones"` →
    `otorgado_con_condiciones` (which then matches nothing)."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def level_rank(level: str) -> int:
    return ACCESS_LEVELS.index(level)


def consent_rank(consent: str | None) -> int:
    """How strict a consent is (None, no answer: like `pendiente`)."""
    if consent is None:
        return CONSENT_ORDER.index("pendiente")
    return CONSENT_ORDER.index(consent)


def strictest_level(values: Iterable[object]) -> str:
    found = [normalise(v) for v in values if v is not None and str(v).strip()]
    if not found:
        return NO_LEVEL
    ranked = [v if v in ACCESS_LEVELS else UNKNOWN_LEVEL for v in found]
    return max(ranked, key=level_rank)


def strictest_consent(values: Iterable[object]) -> str | None:
    found = [normalise(v) for v in values if v is not None and str(v).strip()]
    if not found:
        return None
    ranked = [v if v in CONSENT_ORDER else UNKNOWN_CONSENT for v in found]
    return max(ranked, key=consent_rank)


def single_ayllu(values: Iterable[object]) -> str | None:
    found = {normalise(v) for v in values if v is not None and str(v).strip()}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class KnowledgeFacts:
    """What governance decides a record by, normalised."""

    level: str
    collective: str | None
    individual: str | None
    ayllu: str | None

    @property
    def consented(self) -> bool:
        """Both layers `otorgado` or `otorgado_condiciones` (§4)."""
        return self.collective in GRANTED and self.individual in GRANTED

    @property
    def content_allowed(self) -> bool:
        """Whether the record may keep content at all: a `sagrado` practice
        never does, and neither does one without both consents (the form asks
        for no content then; whatever arrives anyway is not kept)."""
        return self.level != "sagrado" and self.consented


def _occurrences(values: Any, name: str, *, in_repeats: bool = True) -> Iterator[Any]:
    """Every value stored under key `name` in a values dict, at any depth."""
    if isinstance(values, Mapping):
        for key, value in values.items():
            if key == name and not isinstance(value, Mapping | list):
                yield value
            elif isinstance(value, Mapping) or (in_repeats and isinstance(value, list)):
                yield from _occurrences(value, name, in_repeats=in_repeats)
    elif isinstance(values, list):
        for entry in values:
            yield from _occurrences(entry, name, in_repeats=in_repeats)


def facts_from_values(values: Mapping[str, Any]) -> KnowledgeFacts:
    """The facts of a stored record (its extracted values)."""
    return KnowledgeFacts(
        level=strictest_level(_occurrences(values, ACCESS_FIELD)),
        collective=strictest_consent(_occurrences(values, COLLECTIVE_FIELD)),
        individual=strictest_consent(_occurrences(values, INDIVIDUAL_FIELD)),
        ayllu=single_ayllu(_occurrences(values, AYLLU_FIELD, in_repeats=False)),
    )


def stamp_facts(values: Any, facts: KnowledgeFacts, *, in_repeat: bool = False) -> None:
    """Write the normalised facts over every place they occur in `values`, so
    that what is stored says what governance decided (in place). An `ayllu`
    inside a repeat is another question's answer and is left alone."""
    stamped = {
        ACCESS_FIELD: facts.level,
        COLLECTIVE_FIELD: facts.collective,
        INDIVIDUAL_FIELD: facts.individual,
    }
    if isinstance(values, list):
        for entry in values:
            stamp_facts(entry, facts, in_repeat=True)
        return
    if not isinstance(values, dict):
        return
    for key, value in values.items():
        if isinstance(value, dict):
            stamp_facts(value, facts, in_repeat=in_repeat)
        elif isinstance(value, list):
            stamp_facts(value, facts, in_repeat=True)
        elif value is None:
            continue
        elif key in stamped:
            values[key] = stamped[key]
        elif key == AYLLU_FIELD and not in_repeat:
            values[key] = facts.ayllu


def schema_is_governed(schema: FormSchema) -> bool:
    """Whether this form version records knowledge under governance."""
    return any(field.name in GOVERNED_FIELDS for field in schema.fields)


def access_conditions(values: Mapping[str, Any]) -> str | None:
    """`condiciones_acceso` as given (space-separated Local Contexts labels)."""
    for value in _occurrences(values, CONDITIONS_FIELD, in_repeats=False):
        if isinstance(value, str) and value.strip():
            return value
    return None


# What a record reduced to a count keeps: enough to count it by ayllu, domain,
# level and date, nothing of its content or its holder (domain.md §4 `sagrado`:
# "a minimal record that a practice exists"; §6.2: counts by domain, ayllu,
# level).
COUNT_FIELDS = ("ayllu", "dominio", ACCESS_FIELD, "fecha_registro")


def count_values(values: Mapping[str, Any], facts: KnowledgeFacts) -> dict[str, Any]:
    kept = {name: values[name] for name in COUNT_FIELDS if name in values}
    kept[ACCESS_FIELD] = facts.level
    kept[AYLLU_FIELD] = facts.ayllu
    return kept


# --- Who may see what: the one rule table (domain.md §4) -------------------------


class Visibility(Enum):
    FULL = "full"  # the whole record, with its level and conditions
    COUNT_ONLY = "count_only"  # counted, by COUNT_FIELDS only; content hidden
    HIDDEN = "hidden"  # left out entirely: not shown, not counted


def visibility(
    *,
    governed: bool,
    member: bool,
    level: str,
    consented: bool,
    withdrawn: bool,
    guardian: bool,
) -> Visibility:
    """What one viewer may see of one record. Every surface asks this.

    Governed records (F = FULL, C = COUNT_ONLY, H = HIDDEN):

        level / viewer       outsider  member  site admin  guardian of ayllu
        consent not granted
          or withdrawn          H        H         H              H
        publico                 F        F         F              F
        comunitario             H        F         F              F
        restringido, none       H        C         C              F
        sagrado                 H        C         C              C

    Other forms: F for members, H for outsiders (anonymous, app users,
    users without a role in the project).

    `member`: a signed-in user who may read the project. `level`: as the
    record's facts give it. `guardian`: the viewer holds `knowledge.guard` for
    the record's ayllu. `withdrawn`: a server-side withdrawal covers it.
    """
    if not governed:
        # Not ancestral knowledge (meetings, needs, actors): project data,
        # for the project's members only; nothing of it is public.
        return Visibility.FULL if member else Visibility.HIDDEN
    if not consented or withdrawn:
        # §4 "Consent has two layers, and both are required before any use":
        # pendiente/negado/retirado stay out of views and all exports; a
        # withdrawal "at once hides the record from all views, lists,
        # aggregate detail and exports". Hidden, not counted: even a count
        # would be a use the holder or the ayllu did not agree to.
        return Visibility.HIDDEN
    if level == "publico":
        # §4 `publico`: "Anyone"; the only level that may leave the system.
        return Visibility.FULL
    if not member:
        # §4 `comunitario`: "never shown to anonymous users, and never in public
        # pages, public APIs or public exports". We read that for anonymous
        # viewers (and signed-in users of other projects, and app users) as
        # HIDDEN, not COUNT_ONLY: a count on a public page is already the record
        # appearing there. Restricted and sacred records are hidden from them
        # too: otherwise an anonymous viewer would see more of the stricter
        # levels (a count) than of `comunitario`, and only `publico` leaves.
        return Visibility.HIDDEN
    if level == "comunitario":
        # §4 `comunitario`: "Logged-in CdP members".
        return Visibility.FULL
    if level == "restringido":
        # §4 `restringido`: only a guardian (permiso de custodia) of the
        # record's ayllu; "Administrator rights do not include this
        # permission; other users see at most a count".
        return Visibility.FULL if guardian else Visibility.COUNT_ONLY
    # §4 `sagrado`: "Nobody"; the server keeps only that the practice exists,
    # so members may count it (§6.2 "Show only counts for restringido and
    # sagrado"). Guardians included: there is no content to show.
    return Visibility.COUNT_ONLY
