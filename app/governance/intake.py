"""What governance decides when a record arrives: its facts, what of it may
be stored, and whether an edit opens it up.

- `facts_from_instance` reads level, consents and ayllu from the received XML,
  every occurrence at any depth (a second `<nivel_acceso>` cannot override the
  first: the strictest wins; `rules` normalises spellings).
- `minimal_record` is what is stored of a `sagrado` practice, or of one without
  both consents: domain.md §4's "minimal record that a practice exists"
  (domain, ayllu, place, dates, consents, who recorded it). It is built anew
  from a whitelist of leaf paths and serialised by lxml, never cut out of the
  received bytes, so nothing the tablet put elsewhere survives: no unknown
  elements (inside `meta` or `consentimiento` too), no attributes but the
  form's `id` and `version`, no text outside the kept leaves, no
  `instanceName`, no `meta/audit`. Choice answers must be one of the form's
  choices and dates must look like dates, so no kept leaf smuggles text.
- `compare` says how an edit changes the facts: opening up (a less strict
  level or consent, or another ayllu) needs the guardian of the record's
  ayllu (`app.submissions.service` asks `knowledge.guard`).

Pure: no session. The audit names the form's own fields that were dropped and
only counts the rest: element names chosen by the sender could carry content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from app.forms.xform import FormSchema
from app.governance import rules
from app.governance.rules import KnowledgeFacts
from app.xmlutil import child_elements, local_name, walk

# The minimal record's leaves, as paths from the instance root. Collect's
# metadata (start, end, today, deviceid, username) says when and by whom.
MINIMAL_FIELDS = (
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "ayllu",
    "comunidad",
    "dominio",
    "fecha_registro",
    "consentimiento/consentimiento_colectivo",
    "consentimiento/instancia_consentimiento",
    "consentimiento/acta_consentimiento",
    "consentimiento/fecha_consentimiento",
    "consentimiento/consentimiento_individual",
    "consentimiento/forma_consentimiento",
    "consentimiento/idioma_consentimiento",
    rules.ACCESS_FIELD,
)
MINIMAL_META = ("instanceID", "deprecatedID")
MINIMAL_ROOT = "data"  # pyxform's name for every form's instance root
MAX_FREE_TEXT = 120  # a place name or an acta reference, never a description
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?"
)
_FACT_LEAVES = {
    rules.ACCESS_FIELD: "level",
    rules.COLLECTIVE_FIELD: "collective",
    rules.INDIVIDUAL_FIELD: "individual",
    rules.AYLLU_FIELD: "ayllu",
}


def _text(element: etree._Element) -> str:
    """All the text inside an element and its descendants (CDATA included,
    comments and processing instructions not)."""
    return "".join(element.itertext())


def _is_leaf(element: etree._Element) -> bool:
    # lxml counts comments and processing instructions as children: only
    # element children make an element a group.
    return not child_elements(element)


def _in_repeat(schema: FormSchema, path: str) -> bool:
    parts = path.split("/")
    for depth in range(1, len(parts)):
        found = schema.field("/".join(parts[:depth]))
        if found is not None and found.kind == "repeat":
            return True
    return False


def facts_from_instance(root: etree._Element, schema: FormSchema) -> KnowledgeFacts:
    """The record's facts from every occurrence in the received XML."""
    seen: dict[str, list[str]] = {name: [] for name in _FACT_LEAVES}
    for path, element in walk(root):
        name = local_name(element)
        if name not in seen:
            continue
        # Every occurrence counts, with everything inside it: a comment or a
        # child element inside <nivel_acceso> must not make it invisible (the
        # record would fall back to "no level", weaker than what it says).
        if name == rules.AYLLU_FIELD and _in_repeat(schema, path):
            continue  # another question's ayllu (an attendee's, say)
        seen[name].append(_text(element))
    return KnowledgeFacts(
        level=rules.strictest_level(seen[rules.ACCESS_FIELD]),
        collective=rules.strictest_consent(seen[rules.COLLECTIVE_FIELD]),
        individual=rules.strictest_consent(seen[rules.INDIVIDUAL_FIELD]),
        ayllu=rules.single_ayllu(seen[rules.AYLLU_FIELD]),
    )


@dataclass(frozen=True)
class MinimalRecord:
    xml: bytes
    dropped_fields: tuple[str, ...]  # the form's own questions whose answers went
    dropped_other: int  # unknown elements, attributes and stray text, counted


def _kept_value(
    schema: FormSchema, path: str, raw: str, facts: KnowledgeFacts
) -> str | None:
    name = path.rsplit("/", 1)[-1]
    field = schema.field(path)
    text = raw.strip()
    if name in _FACT_LEAVES:
        # The facts governance decided by, normalised; an ayllu must still be
        # one of the form's choices (anything else would be free text).
        text = getattr(facts, _FACT_LEAVES[name]) or ""
    if field is None or not text:
        return None
    if field.choices:
        value = rules.normalise(text)
        return value if value in {c.name for c in field.choices} else None
    if field.type == "date":
        return text if _DATE.fullmatch(text) else None
    if field.type == "dateTime":
        return text if _DATETIME.fullmatch(text) else None
    return text[:MAX_FREE_TEXT]


def _first_leaves(root: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for path, element in walk(root):
        if _is_leaf(element):
            found.setdefault(path, _text(element))
    return found


def minimal_record(
    root: etree._Element, schema: FormSchema, facts: KnowledgeFacts
) -> MinimalRecord:
    """The record as it may be stored when its content may not."""
    received = _first_leaves(root)
    # The root's name is the sender's to choose and could carry text: the
    # rebuilt record uses ODK's own (forms are told apart by @id, not by it).
    rebuilt = etree.Element(MINIMAL_ROOT)
    for attribute in ("id", "version"):
        value = root.get(attribute)
        if value is not None:
            rebuilt.set(attribute, value)
    kept: set[str] = set()
    order = [f.path for f in schema.fields if f.path in MINIMAL_FIELDS]
    for path in order:
        value = _kept_value(schema, path, received.get(path, ""), facts)
        is_fact = path.rsplit("/", 1)[-1] in _FACT_LEAVES
        if value is None or (path not in received and not is_fact):
            continue
        _leaf(rebuilt, path).text = value
        kept.add(path)
    for name in MINIMAL_META:
        value = received.get(f"meta/{name}", "").strip()
        if value:
            _leaf(rebuilt, f"meta/{name}").text = value
            kept.add(f"meta/{name}")
    dropped_fields: list[str] = []
    other = 0
    for path, element in walk(root):
        other += len(element.attrib)
        if (element.tail or "").strip():
            other += 1
        if not _is_leaf(element) or path in kept or not _text(element).strip():
            continue
        if schema.field(path) is not None:
            dropped_fields.append(path)
        else:
            other += 1
    other += sum(1 for name in root.attrib if name not in ("id", "version"))
    other += sum(1 for _ in root.iter(etree.Comment, etree.ProcessingInstruction))
    if (root.text or "").strip():
        other += 1
    xml = etree.tostring(rebuilt, xml_declaration=True, encoding="UTF-8")
    return MinimalRecord(xml, tuple(dict.fromkeys(dropped_fields)), other)


def _leaf(root: etree._Element, path: str) -> etree._Element:
    node = root
    for step in path.split("/"):
        found = node.find(step)
        node = found if found is not None else etree.SubElement(node, step)
    return node


@dataclass(frozen=True)
class FactsChange:
    """How an edit changes a governed record's facts (None: unchanged)."""

    level: tuple[str, str] | None
    collective: tuple[str | None, str | None] | None
    individual: tuple[str | None, str | None] | None
    ayllu: tuple[str | None, str | None] | None

    @property
    def opens_up(self) -> bool:
        """A less strict level or consent, or another ayllu: domain.md §4,
        "opening it up needs a guardian of the ayllu". Another ayllu moves the
        record into other custody (and out of a collective withdrawal)."""
        if self.level and rules.level_rank(self.level[1]) < rules.level_rank(
            self.level[0]
        ):
            return True
        for change in (self.collective, self.individual):
            if change and rules.consent_rank(change[1]) < rules.consent_rank(change[0]):
                return True
        return self.ayllu is not None


def compare(old: KnowledgeFacts, new: KnowledgeFacts) -> FactsChange:
    def diff(a: str | None, b: str | None) -> tuple[str | None, str | None] | None:
        return None if a == b else (a, b)

    return FactsChange(
        level=None if old.level == new.level else (old.level, new.level),
        collective=diff(old.collective, new.collective),
        individual=diff(old.individual, new.individual),
        ayllu=diff(old.ayllu, new.ayllu),
    )
