"""What governance decides when a practice arrives (domain.md §4): its facts
from every occurrence, the minimal record of a `sagrado` practice (or one
without both consents) rebuilt so that nothing the tablet hid anywhere
survives, and which edits open a record up.

Instances are crafted by hand on the real compiled `forms/practica_saber.xml`,
with a SECRET word in each place a sender could hide text: unknown elements,
attributes, stray and tail text, CDATA, comments, processing instructions,
`meta/instanceName`, `meta/audit`, answers that are not choices or dates, long
free text and a namespaced `orx:meta`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from app.forms.xform import parse_xform
from app.governance.intake import (
    MAX_FREE_TEXT,
    MINIMAL_FIELDS,
    compare,
    facts_from_instance,
    minimal_record,
)
from app.governance.rules import KnowledgeFacts
from app.submissions.parser import parse_instance
from app.xmlutil import walk

REPO = Path(__file__).resolve().parents[3]
SCHEMA = parse_xform((REPO / "forms" / "practica_saber.xml").read_bytes())
FORM_PATHS = frozenset(f.path for f in SCHEMA.fields)
ORX = "http://openrosa.org/xforms"
JR = "http://openrosa.org/javarosa"
SECRET = "Qnassecreto7731"  # a valid XML name, so it can be an element name too
INSTANCE_ID = "uuid:6a1f0c52-3b0e-4a57-9a58-2f1c6ad1e0b4"
PLACE = "Santa Ana de Chipaya"

# What the minimal record of the base instance keeps, leaf path -> text.
KEPT = {
    "start": "2025-10-15T09:00:00.000-04:00",
    "end": "2025-10-15T09:48:00.000-04:00",
    "today": "2025-10-15",
    "deviceid": "collect:Xk3mZ9pQ2rT7uV1w",
    "username": "enumeradora1",
    "ayllu": "aransaya",
    "comunidad": PLACE,
    "dominio": "medicina",
    "fecha_registro": "2025-10-15",
    "consentimiento/consentimiento_colectivo": "otorgado",
    "consentimiento/instancia_consentimiento": "chawkh_parla",
    "consentimiento/acta_consentimiento": "Acta 12/2025",
    "consentimiento/fecha_consentimiento": "2025-09-01",
    "consentimiento/consentimiento_individual": "otorgado",
    "consentimiento/forma_consentimiento": "verbal",
    "consentimiento/idioma_consentimiento": "uru_chipaya",
    "nivel_acceso": "sagrado",
    "meta/instanceID": INSTANCE_ID,
}
# Content a sacred record sends anyway: the form's own questions.
CONTENT = {
    "condiciones_acceso": "atribucion",
    "ubicacion": "-19.0412 -68.0843 3650 5",
    "portador/nombre": f"Doña Juana {SECRET}",
    "contenido/descripcion": f"La receta {SECRET} del abuelo",
    "contenido/pasos/paso": f"Primer paso {SECRET}",
    "contenido/fotos/foto": f"{SECRET}.jpg",
    "contenido/audio": "1732455064123.m4a",
    "consentimiento/condiciones_colectivo": f"Solo {SECRET}",
}


def has_secret(data: bytes | str) -> bool:
    """Case-insensitively: a normalised answer would be case-folded."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return SECRET.casefold() in text.casefold()


def element_at(root: etree._Element, path: str) -> etree._Element:
    node = root
    for step in path.split("/"):
        found = node.find(step)
        node = found if found is not None else etree.SubElement(node, step)
    return node


def base_instance(
    level: str = "sagrado", collective: str = "otorgado", individual: str = "otorgado"
) -> etree._Element:
    """A practice as Collect writes it, in the form's order, with content."""
    root = etree.Element(
        "data",
        nsmap={"jr": JR, "orx": ORX},
        id=SCHEMA.xml_form_id,
        version=SCHEMA.version,
    )
    values = {
        **KEPT,
        "consentimiento/consentimiento_colectivo": collective,
        "consentimiento/consentimiento_individual": individual,
        "nivel_acceso": level,
        **CONTENT,
    }
    for field in SCHEMA.fields:
        if field.kind != "field":
            continue
        if field.path in values:
            element_at(root, field.path).text = values[field.path]
        elif field.path in ("nota_inicio", "consentimiento/nota_consentimiento"):
            element_at(root, field.path)  # notes arrive empty
    return root


def to_bytes(root: etree._Element) -> bytes:
    return b"<?xml version='1.0' ?>" + etree.tostring(root, encoding="utf-8")


def leaves(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml)
    return {path: e.text or "" for path, e in walk(root) if not len(e)}


def reduce(xml: bytes):  # type: ignore[no-untyped-def]
    """Parse as ingest does, then reduce to the minimal record."""
    _info, root = parse_instance(xml)
    facts = facts_from_instance(root, SCHEMA)
    return facts, minimal_record(root, SCHEMA, facts)


def assert_clean(xml: bytes, missing: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    """No secret anywhere, every other kept leaf as expected, parseable."""
    assert not has_secret(xml), xml
    info, root = parse_instance(xml)
    assert info.instance_id == INSTANCE_ID
    assert info.xml_form_id == SCHEMA.xml_form_id
    assert info.version == SCHEMA.version
    assert info.instance_name is None
    kept = leaves(xml)
    assert kept == {p: v for p, v in KEPT.items() if p not in missing}
    # Only the form's id and version survive as attributes, only on the root.
    assert dict(root.attrib) == {"id": SCHEMA.xml_form_id, "version": SCHEMA.version}
    for element in root.iter():
        if element is not root:
            assert not element.attrib
        assert not (element.tail or "").strip()
        assert isinstance(element.tag, str)  # no comments or PIs
    assert not (root.text or "").strip()
    assert set(kept) <= {*MINIMAL_FIELDS, "meta/instanceID", "meta/deprecatedID"}


# --- facts_from_instance -----------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (["sagrado"], "sagrado"),
        ([" Sagrado "], "sagrado"),
        (["SAGRADO"], "sagrado"),
        (["Ságrado"], "sagrado"),
        (["\n\tsagrado\n"], "sagrado"),
        (["Público"], "publico"),
        ([" PUBLICO "], "publico"),
        (["publico", "sagrado"], "sagrado"),
        (["sagrado", "publico"], "sagrado"),
        (["publico", "restringido"], "restringido"),
        (["restringido", "publico"], "restringido"),
        ([SECRET], "sagrado"),  # unknown counts as the strictest
        (["publico", SECRET], "sagrado"),
        ([""], "restringido"),  # no level yet
        ([], "restringido"),
    ],
)
def test_facts_read_every_level_element_strictest_wins(levels, expected):
    root = base_instance()
    first = root.find("nivel_acceso")
    assert first is not None
    root.remove(first)
    for level in levels:
        etree.SubElement(root, "nivel_acceso").text = level
    _info, parsed = parse_instance(to_bytes(root))
    assert facts_from_instance(parsed, SCHEMA).level == expected


def test_a_level_anywhere_in_the_instance_counts():
    root = base_instance(level="publico")
    contenido = root.find("contenido")
    assert contenido is not None
    etree.SubElement(contenido, f"{{{ORX}}}nivel_acceso").text = "Sagrado"
    facts, _minimal = reduce(to_bytes(root))
    assert facts.level == "sagrado"


@pytest.mark.parametrize(
    ("collective", "individual", "expected"),
    [
        ("OTORGADO", " otorgado ", ("otorgado", "otorgado", True)),
        (
            "Otorgado Condiciones",
            "otorgado",
            ("otorgado_condiciones", "otorgado", True),
        ),
        ("otorgado con condiciones", "otorgado", ("negado", "otorgado", False)),
        ("Pendiente", "otorgado", ("pendiente", "otorgado", False)),
        ("otorgado", SECRET, ("otorgado", "negado", False)),
        ("otorgado", "", ("otorgado", None, False)),
    ],
)
def test_facts_normalise_consents(collective, individual, expected):
    root = base_instance(level="publico", collective=collective, individual=individual)
    facts, _minimal = reduce(to_bytes(root))
    assert (facts.collective, facts.individual, facts.consented) == expected
    assert facts.content_allowed is expected[2]


def test_two_different_ayllus_make_the_record_nobodys():
    root = base_instance()
    etree.SubElement(root.find("contenido"), "ayllu").text = "manasaya"  # type: ignore[arg-type]
    facts, minimal = reduce(to_bytes(root))
    assert facts.ayllu is None
    assert "ayllu" not in leaves(minimal.xml)


# --- minimal_record: what a sacred record keeps ------------------------------------


def test_the_minimal_record_keeps_exactly_the_whitelist():
    facts, minimal = reduce(to_bytes(base_instance()))
    assert facts == KnowledgeFacts("sagrado", "otorgado", "otorgado", "aransaya")
    assert_clean(minimal.xml)
    assert set(minimal.dropped_fields) == set(CONTENT)
    assert "nota_inicio" not in minimal.dropped_fields  # empty: dropped silently
    assert minimal.dropped_other == 0
    # The stored leaves follow the form's order.
    assert list(leaves(minimal.xml)) == list(KEPT)


def test_the_minimal_record_keeps_the_normalised_facts():
    root = base_instance(level=" Sagrado ", collective="OTORGADO")
    element_at(root, "ayllu").text = " Aransaya "
    element_at(root, "dominio").text = "MEDICINA"
    element_at(
        root, "consentimiento/consentimiento_individual"
    ).text = "Otorgado Condiciones"
    _facts, minimal = reduce(to_bytes(root))
    kept = leaves(minimal.xml)
    assert kept["nivel_acceso"] == "sagrado"
    assert kept["ayllu"] == "aransaya"
    assert kept["dominio"] == "medicina"
    assert kept["consentimiento/consentimiento_colectivo"] == "otorgado"
    assert kept["consentimiento/consentimiento_individual"] == "otorgado_condiciones"


def test_without_consent_the_minimal_record_keeps_the_consents_as_given():
    root = base_instance(level="publico", collective="Negado", individual="pendiente")
    facts, minimal = reduce(to_bytes(root))
    assert not facts.content_allowed
    kept = leaves(minimal.xml)
    assert kept["nivel_acceso"] == "publico"
    assert kept["consentimiento/consentimiento_colectivo"] == "negado"
    assert kept["consentimiento/consentimiento_individual"] == "pendiente"
    assert not has_secret(minimal.xml)


def _unknown_in_meta(root: etree._Element) -> None:
    meta = element_at(root, "meta")
    etree.SubElement(meta, SECRET).text = "nada"
    etree.SubElement(meta, "nota").text = SECRET
    deep = etree.SubElement(etree.SubElement(meta, "grupo"), "hoja")
    deep.text = SECRET


def _unknown_in_consent(root: etree._Element) -> None:
    consent = element_at(root, "consentimiento")
    consent.insert(0, etree.Element(SECRET))
    etree.SubElement(consent, "detalle").text = SECRET
    nested = etree.SubElement(consent, "consentimiento_colectivo_extra")
    etree.SubElement(nested, "acta_consentimiento").text = SECRET


def _root_attributes(root: etree._Element) -> None:
    root.set("nota", SECRET)
    root.set(f"{{urn:{SECRET}}}extra", SECRET)
    root.set(f"{{{JR}}}{SECRET}", "x")


def _kept_attributes(root: etree._Element) -> None:
    for path in (
        "ayllu",
        "nivel_acceso",
        "consentimiento",
        "consentimiento/consentimiento_colectivo",
        "meta",
        "meta/instanceID",
        "start",
    ):
        element_at(root, path).set("nota", SECRET)
    element_at(root, "dominio").set(f"{{{ORX}}}{SECRET}", "x")


def _root_text(root: etree._Element) -> None:
    root.text = f"\n  {SECRET}  \n"


def _tails(root: etree._Element) -> None:
    for path in ("ayllu", "consentimiento/consentimiento_colectivo", "meta"):
        element_at(root, path).tail = SECRET
    element_at(root, "meta/instanceID").tail = SECRET


def _cdata_in_root(root: etree._Element) -> None:
    root.text = etree.CDATA(SECRET)


def _cdata_in_dropped(root: etree._Element) -> None:
    element_at(root, "contenido/descripcion").text = etree.CDATA(SECRET)
    element_at(root, "meta/instanceName").text = etree.CDATA(SECRET)


def _cdata_in_select(root: etree._Element) -> None:
    element_at(root, "dominio").text = etree.CDATA(SECRET)


def _comments_and_pis(root: etree._Element) -> None:
    root.insert(0, etree.Comment(SECRET))
    root.append(etree.ProcessingInstruction("nota", SECRET))
    element_at(root, "consentimiento").append(etree.Comment(SECRET))
    element_at(root, "meta").insert(0, etree.ProcessingInstruction(SECRET, "x"))
    comment = etree.Comment(SECRET)
    comment.tail = SECRET  # text after a comment is the root's mixed content
    element_at(root, "ayllu").addnext(comment)


def _instance_name(root: etree._Element) -> None:
    element_at(root, "meta/instanceName").text = f"Receta {SECRET}"


def _meta_audit(root: etree._Element) -> None:
    element_at(root, "meta/audit").text = f"{SECRET}.csv"


def _select_not_a_choice(root: etree._Element) -> None:
    element_at(root, "dominio").text = SECRET
    element_at(root, "consentimiento/instancia_consentimiento").text = SECRET
    element_at(root, "consentimiento/forma_consentimiento").text = f"verbal {SECRET}"
    element_at(root, "consentimiento/idioma_consentimiento").text = "uru chipaya x"


def _not_a_date(root: etree._Element) -> None:
    element_at(root, "fecha_registro").text = f"2025-10-15 {SECRET}"
    element_at(root, "today").text = SECRET
    element_at(root, "start").text = f"2025-10-15T09:00:00{SECRET}"
    element_at(root, "end").text = f"{SECRET}2025-10-15T09:48:00.000-04:00"
    element_at(root, "consentimiento/fecha_consentimiento").text = "2025-9-1"


def _long_free_text(root: etree._Element) -> None:
    element_at(root, "comunidad").text = PLACE + " " * (MAX_FREE_TEXT - 20) + SECRET
    element_at(root, "consentimiento/acta_consentimiento").text = (
        "Acta 12/2025" + "." * MAX_FREE_TEXT + SECRET
    )


def _namespaced_meta(root: etree._Element) -> None:
    old = element_at(root, "meta")
    instance_id = old.findtext("instanceID")
    root.remove(old)
    meta = etree.SubElement(root, f"{{{ORX}}}meta")
    etree.SubElement(meta, f"{{{ORX}}}instanceID").text = instance_id
    etree.SubElement(meta, f"{{{ORX}}}instanceName").text = SECRET
    etree.SubElement(meta, f"{{{ORX}}}{SECRET}").text = SECRET
    etree.SubElement(meta, f"{{{ORX}}}audit").text = "audit.csv"


def _namespace_declaration(root: etree._Element) -> etree._Element:
    rebuilt = etree.Element(
        root.tag, nsmap={**root.nsmap, SECRET: f"urn:{SECRET}"}, attrib=root.attrib
    )
    rebuilt.extend(list(root))
    return rebuilt


HIDING_PLACES: list[tuple[str, Callable, frozenset[str], bool]] = [
    # id, mutation, kept leaves it removes, whether something was only counted
    ("unknown-in-meta", _unknown_in_meta, frozenset(), True),
    ("unknown-in-consentimiento", _unknown_in_consent, frozenset(), True),
    ("root-attributes", _root_attributes, frozenset(), True),
    ("kept-attributes", _kept_attributes, frozenset(), True),
    ("root-text", _root_text, frozenset(), True),
    ("tail-text", _tails, frozenset(), True),
    ("cdata-in-root", _cdata_in_root, frozenset(), True),
    ("cdata-in-dropped", _cdata_in_dropped, frozenset(), False),
    ("cdata-in-select", _cdata_in_select, frozenset({"dominio"}), False),
    ("comments-and-pis", _comments_and_pis, frozenset(), False),
    ("meta-instanceName", _instance_name, frozenset(), False),
    ("meta-audit", _meta_audit, frozenset(), True),
    (
        "select-not-a-choice",
        _select_not_a_choice,
        frozenset(
            {
                "dominio",
                "consentimiento/instancia_consentimiento",
                "consentimiento/forma_consentimiento",
                "consentimiento/idioma_consentimiento",
            }
        ),
        False,
    ),
    (
        "date-not-a-date",
        _not_a_date,
        frozenset(
            {
                "fecha_registro",
                "today",
                "start",
                "end",
                "consentimiento/fecha_consentimiento",
            }
        ),
        False,
    ),
    ("long-free-text", _long_free_text, frozenset(), False),
    ("namespaced-orx-meta", _namespaced_meta, frozenset(), True),
    ("namespace-declaration", _namespace_declaration, frozenset(), False),
]


@pytest.mark.parametrize(
    ("mutate", "missing", "counted"),
    [pytest.param(m, gone, c, id=name) for name, m, gone, c in HIDING_PLACES],
)
def test_nothing_hidden_anywhere_survives_the_minimal_record(mutate, missing, counted):
    root = base_instance()
    replaced = mutate(root)  # a new root for the namespace declaration
    xml = to_bytes(replaced if replaced is not None else root)
    assert has_secret(xml)

    facts, minimal = reduce(xml)

    assert facts.level == "sagrado"
    if mutate is _long_free_text:
        kept = leaves(minimal.xml)
        assert len(kept["comunidad"]) == MAX_FREE_TEXT
        assert kept["comunidad"].startswith(PLACE)
        assert kept["consentimiento/acta_consentimiento"].startswith("Acta 12/2025")
        clipped = {"comunidad", "consentimiento/acta_consentimiento"}
        assert not has_secret(minimal.xml)
        assert {p: v for p, v in kept.items() if p not in clipped} == {
            p: v for p, v in KEPT.items() if p not in clipped
        }
    else:
        assert_clean(minimal.xml, missing)
    # The audit may name the form's own questions only, never element names
    # the sender chose; the rest is counted.
    assert set(minimal.dropped_fields) <= FORM_PATHS
    assert not any(has_secret(name) for name in minimal.dropped_fields)
    assert set(CONTENT) <= set(minimal.dropped_fields)
    assert missing <= set(minimal.dropped_fields)
    if counted:
        assert minimal.dropped_other >= 1


def test_instance_name_and_audit_are_reported_without_their_content():
    root = base_instance()
    _instance_name(root)
    _meta_audit(root)
    _facts, minimal = reduce(to_bytes(root))
    assert "meta/instanceName" in minimal.dropped_fields
    assert "meta/audit" not in minimal.dropped_fields  # not a question of this form
    assert minimal.dropped_other == 1


def test_unknown_elements_are_counted_not_named():
    root = base_instance()
    _unknown_in_meta(root)
    _facts, minimal = reduce(to_bytes(root))
    # meta/<SECRET> (with text), meta/nota and meta/grupo/hoja.
    assert minimal.dropped_other == 3
    assert set(minimal.dropped_fields) == set(CONTENT)


def test_a_cdata_choice_is_kept_when_it_is_a_choice():
    root = base_instance()
    element_at(root, "dominio").text = etree.CDATA(" Medicina ")
    _facts, minimal = reduce(to_bytes(root))
    assert leaves(minimal.xml)["dominio"] == "medicina"


def test_the_first_of_repeated_kept_leaves_is_the_one_checked():
    root = base_instance()
    second = etree.SubElement(root, "dominio")
    second.text = SECRET
    _facts, minimal = reduce(to_bytes(root))
    assert leaves(minimal.xml)["dominio"] == "medicina"
    assert not has_secret(minimal.xml)


def test_a_deprecated_id_is_kept_for_edits():
    root = base_instance()
    element_at(root, "meta/deprecatedID").text = "uuid:previous"
    _facts, minimal = reduce(to_bytes(root))
    info, _root = parse_instance(minimal.xml)
    assert info.deprecated_id == "uuid:previous"
    assert info.instance_id == INSTANCE_ID


def test_the_minimal_record_is_the_same_for_the_same_input():
    xml = to_bytes(base_instance())
    assert reduce(xml)[1] == reduce(xml)[1]


# --- holes found while writing these tests (they fail: see the report) ------------


def test_a_secret_root_element_name_does_not_survive():
    """The root element's name is chosen by the sender and not checked by
    `parse_instance`; the minimal record must not copy it."""
    root = base_instance()
    root.tag = SECRET
    facts, minimal = reduce(to_bytes(root))
    assert facts.level == "sagrado"
    assert not has_secret(minimal.xml), minimal.xml


def test_an_ayllu_that_is_not_a_choice_does_not_survive():
    """`ayllu` is a select_one like `dominio`: an answer that is not one of its
    choices must not be kept (normalised, it is still the sender's text)."""
    root = base_instance()
    element_at(root, "ayllu").text = f"Ayllu {SECRET}"
    facts, minimal = reduce(to_bytes(root))
    assert facts.level == "sagrado"
    assert not has_secret(minimal.xml), minimal.xml
    assert "ayllu" in minimal.dropped_fields


@pytest.mark.parametrize(
    "inside",
    [etree.Comment("nota"), etree.ProcessingInstruction("nota", "x")],
    ids=["comment", "processing-instruction"],
)
def test_a_comment_inside_nivel_acceso_does_not_hide_sagrado(inside):
    """`<nivel_acceso>sagrado<!--nota--></nivel_acceso>` says sagrado (its text
    is "sagrado"), yet the level element is skipped as "not a leaf" and the
    record counts as having no level: restringido, content allowed."""
    root = base_instance()
    element_at(root, "nivel_acceso").append(inside)
    facts, _minimal = reduce(to_bytes(root))
    assert facts.level == "sagrado"
    assert not facts.content_allowed


# --- compare / opens_up ------------------------------------------------------------


def kf(level="restringido", collective="otorgado", individual="otorgado", ayllu="a"):  # type: ignore[no-untyped-def]
    return KnowledgeFacts(level, collective, individual, ayllu)


@pytest.mark.parametrize(
    ("old", "new", "change", "opens"),
    [
        pytest.param(kf(), kf(), (None, None, None, None), False, id="unchanged"),
        pytest.param(
            kf("sagrado"),
            kf("publico"),
            (("sagrado", "publico"), None, None, None),
            True,
            id="level-looser",
        ),
        pytest.param(
            kf("restringido"),
            kf("comunitario"),
            (("restringido", "comunitario"), None, None, None),
            True,
            id="level-one-step-looser",
        ),
        pytest.param(
            kf("publico"),
            kf("sagrado"),
            (("publico", "sagrado"), None, None, None),
            False,
            id="level-stricter",
        ),
        pytest.param(
            kf(collective="negado"),
            kf(collective="otorgado"),
            (None, ("negado", "otorgado"), None, None),
            True,
            id="collective-looser",
        ),
        pytest.param(
            kf(individual="retirado"),
            kf(individual="otorgado_condiciones"),
            (None, None, ("retirado", "otorgado_condiciones"), None),
            True,
            id="individual-looser",
        ),
        pytest.param(
            kf(individual="otorgado_condiciones"),
            kf(individual="otorgado"),
            (None, None, ("otorgado_condiciones", "otorgado"), None),
            True,
            id="conditions-lifted",
        ),
        pytest.param(
            kf(collective=None),
            kf(collective="otorgado"),
            (None, (None, "otorgado"), None, None),
            True,
            id="no-answer-to-granted",
        ),
        pytest.param(
            kf(collective="otorgado"),
            kf(collective="retirado"),
            (None, ("otorgado", "retirado"), None, None),
            False,
            id="collective-stricter",
        ),
        pytest.param(
            kf(individual="otorgado"),
            kf(individual=None),
            (None, None, ("otorgado", None), None),
            False,
            id="granted-to-no-answer",
        ),
        pytest.param(
            kf(collective="pendiente"),
            kf(collective=None),
            (None, ("pendiente", None), None, None),
            False,
            id="pendiente-to-no-answer-is-as-strict",
        ),
        pytest.param(
            kf(ayllu="aransaya"),
            kf(ayllu="manasaya"),
            (None, None, None, ("aransaya", "manasaya")),
            True,
            id="ayllu-changed",
        ),
        pytest.param(
            kf(ayllu=None),
            kf(ayllu="aransaya"),
            (None, None, None, (None, "aransaya")),
            True,
            id="ayllu-given",
        ),
        pytest.param(
            kf(ayllu="aransaya"),
            kf(ayllu=None),
            (None, None, None, ("aransaya", None)),
            True,
            id="ayllu-removed",
        ),
        pytest.param(
            kf("publico", ayllu="aransaya"),
            kf("sagrado", collective="negado", ayllu="manasaya"),
            (
                ("publico", "sagrado"),
                ("otorgado", "negado"),
                None,
                ("aransaya", "manasaya"),
            ),
            True,
            id="stricter-but-another-ayllu",
        ),
        pytest.param(
            kf("comunitario", individual="negado"),
            kf("sagrado", individual="retirado"),
            (("comunitario", "sagrado"), None, ("negado", "retirado"), None),
            False,
            id="stricter-everywhere",
        ),
    ],
)
def test_compare_and_opens_up(old, new, change, opens):
    found = compare(old, new)
    assert (found.level, found.collective, found.individual, found.ayllu) == change
    assert found.opens_up is opens
