"""Pure rules of knowledge governance, shared by ingest, views and exports.

A form takes part in governance when it has a top-level `nivel_acceso` field
(the practice documentation form does). For a `sagrado` practice nothing but a
minimal record that the practice exists may be written anywhere: its domain,
ayllu, place and date, the consents and who recorded it (domain.md §4). That
minimal record is a whitelist, so a field added to the form later is dropped by
default rather than leaked.

It also holds the visibility rule table (`visibility`): which of FULL,
COUNT_ONLY or HIDDEN a record is for a viewer, from the record's level,
consents and withdrawals and the viewer's membership and guardianship. It is
pure (no session, no Actor); `app.governance.service` gathers those facts once
per export or page and applies the table to every record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from app.forms.xform import FormSchema

ACCESS_FIELD = "nivel_acceso"
ACCESS_LEVELS = ("publico", "comunitario", "restringido", "sagrado")
GRANTED = ("otorgado", "otorgado_condiciones")

# Top-level nodes a sacred practice keeps: existence, not content.
SACRED_KEEP = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "ayllu",
        "comunidad",
        "dominio",
        "fecha_registro",
        "consentimiento",
        ACCESS_FIELD,
        "meta",
    }
)


def is_governed(schema: FormSchema) -> bool:
    return schema.field(ACCESS_FIELD) is not None


def access_level(values: Mapping[str, Any]) -> str:
    """The record's level; a record with none yet counts as `restringido`."""
    level = values.get(ACCESS_FIELD)
    return level if level in ACCESS_LEVELS else "restringido"


def sacred_paths_to_drop(
    schema: FormSchema, values: Mapping[str, Any], present: Iterable[str]
) -> list[str]:
    """Top-level elements a `sagrado` record must never store (empty otherwise).

    `present` names the top-level elements the submission actually carries, so
    that content sent outside the form's own fields is dropped too.
    """
    if not is_governed(schema) or values.get(ACCESS_FIELD) != "sagrado":
        return []
    return sorted({name for name in present if name not in SACRED_KEEP})


# --- Who may see what: the one rule table (domain.md §4) -------------------------

COLLECTIVE_CONSENT = ("consentimiento", "consentimiento_colectivo")
INDIVIDUAL_CONSENT = ("consentimiento", "consentimiento_individual")
CONDITIONS_FIELD = "condiciones_acceso"
# What a record reduced to a count keeps: enough to count it by ayllu, domain,
# level and date, nothing of its content or its holder (domain.md §4 `sagrado`:
# "a minimal record that a practice exists"; §6.2: counts by domain, ayllu,
# level).
COUNT_FIELDS = ("ayllu", "dominio", ACCESS_FIELD, "fecha_registro")


class Visibility(Enum):
    FULL = "full"  # the whole record, with its level and conditions
    COUNT_ONLY = "count_only"  # counted, by COUNT_FIELDS only; content hidden
    HIDDEN = "hidden"  # left out entirely: not shown, not counted


def _leaf(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for step in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


def consent_granted(values: Mapping[str, Any]) -> bool:
    """Both layers `otorgado` or `otorgado_condiciones` (anything else: no)."""
    return (
        _leaf(values, COLLECTIVE_CONSENT) in GRANTED
        and _leaf(values, INDIVIDUAL_CONSENT) in GRANTED
    )


def record_ayllu(values: Mapping[str, Any]) -> str | None:
    """The ayllu a knowledge record belongs to (guardians and collective
    consent are per ayllu)."""
    ayllu = values.get("ayllu")
    return ayllu if isinstance(ayllu, str) and ayllu else None


def access_conditions(values: Mapping[str, Any]) -> str | None:
    """`condiciones_acceso` as given (space-separated Local Contexts labels)."""
    conditions = values.get(CONDITIONS_FIELD)
    return conditions if isinstance(conditions, str) and conditions else None


def count_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in COUNT_FIELDS if name in values}


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

    `member`: a signed-in user with a role in the record's project, or a site
    admin. `level`: as `access_level()` gives it (none yet → `restringido`).
    `guardian`: the viewer holds the guardian role for the record's ayllu in
    the record's project. `withdrawn`: a server-side withdrawal covers it.
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
