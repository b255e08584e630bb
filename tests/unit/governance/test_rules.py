"""The pure rules of knowledge governance (domain.md §4): one spelling per
value, the strictest of repeated values, unknown levels as `sagrado`, no level
as `restringido`, and the one table of who sees what."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from app.forms.compiler import compile_markdown
from app.forms.xform import parse_xform
from app.governance.rules import (
    ACCESS_LEVELS,
    CONSENT_ORDER,
    COUNT_FIELDS,
    GRANTED,
    KnowledgeFacts,
    Visibility,
    count_values,
    facts_from_values,
    normalise,
    schema_is_governed,
    single_ayllu,
    stamp_facts,
    strictest_consent,
    strictest_level,
    visibility,
)

REPO = Path(__file__).resolve().parents[3]
F, C, H = Visibility.FULL, Visibility.COUNT_ONLY, Visibility.HIDDEN


# --- normalise -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sagrado", "sagrado"),
        (" Sagrado ", "sagrado"),
        ("SAGRADO", "sagrado"),
        ("Ságrado", "sagrado"),
        ("SÁGRADO", "sagrado"),
        ("\tsagrado\n", "sagrado"),
        ("\r\n  sagrado \t", "sagrado"),
        ("ＳＡＧＲＡＤＯ", "sagrado"),  # fullwidth letters: NFKD folds them
        ("Público", "publico"),
        (" PUBLICO ", "publico"),
        ("publico\u00a0", "publico"),  # a no-break space is trimmed too
        ("Comunitario", "comunitario"),
        ("RESTRINGIDO", "restringido"),
        # Inner whitespace and hyphens become one underscore, so a label typed
        # by hand reaches the choice name...
        ("Otorgado Condiciones", "otorgado_condiciones"),
        ("otorgado_condiciones", "otorgado_condiciones"),
        ("otorgado-condiciones", "otorgado_condiciones"),
        ("Otorgado \t\n Condiciones", "otorgado_condiciones"),
        # ...but a longer phrase stays a different (unknown) value.
        ("Otorgado con condiciones", "otorgado_con_condiciones"),
        ("sa grado", "sa_grado"),
        ("", ""),
        ("   ", ""),
        (3, "3"),
    ],
)
def test_normalise_reduces_every_spelling_to_one_name(raw, expected):
    assert normalise(raw) == expected


def test_normalise_is_idempotent_on_every_known_name():
    for name in (*ACCESS_LEVELS, *CONSENT_ORDER):
        assert normalise(name) == name
        assert normalise(normalise(f"  {name.upper()} ")) == name


# --- strictest level -------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["publico"], "publico"),
        ([" Sagrado "], "sagrado"),
        (["SAGRADO"], "sagrado"),
        (["Público"], "publico"),
        (["comunitario", "restringido"], "restringido"),
        (["restringido", "comunitario"], "restringido"),
        (["publico", "comunitario", "publico"], "comunitario"),
        # An unknown value is the strictest level, wherever it stands.
        (["secreto"], "sagrado"),
        (["publico", "secreto"], "sagrado"),
        (["secreto", "publico"], "sagrado"),
        (["pública"], "sagrado"),  # a feminine form is not a choice name
        (["sa grado"], "sagrado"),  # unknown, hence sagrado too
        # No level at all: restringido (domain.md §4).
        ([], "restringido"),
        ([None], "restringido"),
        (["", "  ", "\n\t", None], "restringido"),
        # Empty occurrences do not dilute a real one.
        (["", "publico"], "publico"),
        ([None, "comunitario"], "comunitario"),
    ],
)
def test_strictest_level(values, expected):
    assert strictest_level(values) == expected


@pytest.mark.parametrize("pair", list(itertools.combinations(ACCESS_LEVELS, 2)))
def test_the_stricter_of_two_levels_wins_in_either_order(pair):
    looser, stricter = pair
    assert strictest_level([looser, stricter]) == stricter
    assert strictest_level([stricter, looser]) == stricter
    assert strictest_level([looser.upper(), f" {stricter.title()} "]) == stricter


def test_strictest_level_reads_a_generator_once():
    assert strictest_level(v for v in ["publico", "sagrado"]) == "sagrado"


# --- strictest consent -----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["otorgado"], "otorgado"),
        (["OTORGADO"], "otorgado"),
        (["Otorgado Condiciones"], "otorgado_condiciones"),
        (["otorgado", "otorgado_condiciones"], "otorgado_condiciones"),
        (["otorgado_condiciones", "otorgado"], "otorgado_condiciones"),
        (["otorgado", "pendiente"], "pendiente"),
        (["negado", "otorgado"], "negado"),
        (["otorgado", "negado"], "negado"),
        (["retirado", "negado"], "retirado"),
        (["negado", "retirado"], "retirado"),
        # Unknown: as strict as negado (so never granted).
        (["si"], "negado"),
        (["Otorgado con condiciones"], "negado"),
        (["otorgado", "sí"], "negado"),
        (["retirado", "sí"], "retirado"),
        ([], None),
        ([None, "", " "], None),
    ],
)
def test_strictest_consent(values, expected):
    assert strictest_consent(values) == expected


@pytest.mark.parametrize("pair", list(itertools.combinations(CONSENT_ORDER, 2)))
def test_the_stricter_of_two_consents_wins_in_either_order(pair):
    looser, stricter = pair
    assert strictest_consent([looser, stricter]) == stricter
    assert strictest_consent([stricter, looser]) == stricter


# --- ayllu -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["aransaya"], "aransaya"),
        (["Aransaya", " ARANSAYA ", "aransaya"], "aransaya"),
        (["aransaya", "manasaya"], None),  # two ayllus: nobody's record
        (["manasaya", "aransaya"], None),
        (["aransaya", "", None], "aransaya"),
        ([], None),
        ([None, " "], None),
    ],
)
def test_single_ayllu(values, expected):
    assert single_ayllu(values) == expected


# --- facts -----------------------------------------------------------------------


def facts(level="publico", collective="otorgado", individual="otorgado", ayllu="a"):  # type: ignore[no-untyped-def]
    return KnowledgeFacts(level, collective, individual, ayllu)


@pytest.mark.parametrize(
    ("collective", "individual", "consented"),
    [
        (c, i, c in GRANTED and i in GRANTED)
        for c, i in itertools.product([*CONSENT_ORDER, None], repeat=2)
    ],
)
def test_consented_only_with_both_layers_granted(collective, individual, consented):
    assert facts(collective=collective, individual=individual).consented is consented
    for level in ACCESS_LEVELS:
        allowed = facts(level, collective, individual).content_allowed
        assert allowed is (consented and level != "sagrado")


def test_an_unknown_consent_is_not_granted():
    found = facts_from_values(
        {
            "nivel_acceso": "publico",
            "consentimiento": {
                "consentimiento_colectivo": "Sí, otorgado",
                "consentimiento_individual": "otorgado",
            },
        }
    )
    assert found.collective == "negado"
    assert not found.consented
    assert not found.content_allowed


def test_facts_from_values_read_every_occurrence_strictest_wins():
    values = {
        "nivel_acceso": " PUBLICO ",
        "ayllu": "Aransaya",
        "consentimiento": {
            "consentimiento_colectivo": "Otorgado",
            "consentimiento_individual": "otorgado_condiciones",
        },
        "grupo": {"nivel_acceso": "Sagrado", "ayllu": "aransaya"},
        # An ayllu inside a repeat is another question's (an attendee's).
        "asistentes": [{"ayllu": "manasaya", "consentimiento_individual": "negado"}],
    }
    assert facts_from_values(values) == KnowledgeFacts(
        "sagrado", "otorgado", "negado", "aransaya"
    )


def test_facts_from_values_of_an_empty_record():
    assert facts_from_values({}) == KnowledgeFacts("restringido", None, None, None)


def test_stamp_facts_writes_the_normalised_facts_in_place():
    values = {
        "nivel_acceso": " Sagrado ",
        "ayllu": "ARANSAYA",
        "dominio": "medicina",
        "consentimiento": {
            "consentimiento_colectivo": "Otorgado",
            "consentimiento_individual": None,
        },
        "grupo": {"nivel_acceso": "publico"},
        "asistentes": [{"ayllu": "Manasaya", "nivel_acceso": "publico"}],
    }
    stamp_facts(values, KnowledgeFacts("sagrado", "otorgado", None, "aransaya"))
    assert values == {
        "nivel_acceso": "sagrado",
        "ayllu": "aransaya",
        "dominio": "medicina",
        "consentimiento": {
            "consentimiento_colectivo": "otorgado",
            "consentimiento_individual": None,  # empty stays empty
        },
        "grupo": {"nivel_acceso": "sagrado"},
        # In a repeat: the level is stamped, an attendee's ayllu is left alone.
        "asistentes": [{"ayllu": "Manasaya", "nivel_acceso": "sagrado"}],
    }


def test_count_values_keep_only_the_counted_fields():
    values = {
        "ayllu": "Aransaya",
        "dominio": "medicina",
        "nivel_acceso": " Sagrado ",
        "fecha_registro": "2025-10-15",
        "comunidad": "Santa Ana",
        "contenido": {"descripcion": "secreto"},
    }
    kept = count_values(values, KnowledgeFacts("sagrado", None, None, "aransaya"))
    assert set(kept) <= set(COUNT_FIELDS)
    assert kept == {
        "ayllu": "aransaya",
        "dominio": "medicina",
        "nivel_acceso": "sagrado",
        "fecha_registro": "2025-10-15",
    }


def test_the_practice_form_is_governed_and_a_plain_survey_is_not():
    practica = parse_xform((REPO / "forms" / "practica_saber.xml").read_bytes())
    assert schema_is_governed(practica)
    plain = parse_xform(
        compile_markdown(
            """
| survey |
| | type | name | label |
| | text | nivel | Nivel |
| | begin_group | g | G |
| | text | ayllu | Ayllu |
| | end_group | | |
| settings |
| | form_id | version |
| | simple | 1 |
"""
        ).xml
    )
    assert not schema_is_governed(plain)
    nested = parse_xform(
        compile_markdown(
            """
| survey |
| | type | name | label |
| | begin_group | g | G |
| | begin_repeat | r | R |
| | text | consentimiento_individual | C |
| | end_repeat | | |
| | end_group | | |
| settings |
| | form_id | version |
| | anidado | 1 |
"""
        ).xml
    )
    assert schema_is_governed(nested)  # at any depth


# --- the visibility table --------------------------------------------------------

# Viewers: (member, guardian of the record's ayllu). A site admin is a member
# without a guardian grant, so it reads the same row as an analyst.
VIEWERS = {
    "outsider": (False, False),
    "member": (True, False),
    "admin": (True, False),
    "guardian": (True, True),
}
# The docstring's table of `visibility`, consent granted, nothing withdrawn.
TABLE = {
    #               outsider member admin guardian
    "publico": (F, F, F, F),
    "comunitario": (H, F, F, F),
    "restringido": (H, C, C, F),
    "sagrado": (H, C, C, C),
}
ROWS = [
    pytest.param(level, viewer, row[i], id=f"{level}-{viewer}")
    for level, row in TABLE.items()
    for i, viewer in enumerate(VIEWERS)
]


@pytest.mark.parametrize(("level", "viewer", "expected"), ROWS)
def test_visibility_of_consented_governed_records(level, viewer, expected):
    member, guardian = VIEWERS[viewer]
    decided = visibility(
        governed=True,
        member=member,
        level=level,
        consented=True,
        withdrawn=False,
        guardian=guardian,
    )
    assert decided is expected


@pytest.mark.parametrize("level", ACCESS_LEVELS)
@pytest.mark.parametrize("viewer", list(VIEWERS))
@pytest.mark.parametrize(
    ("consented", "withdrawn"), [(False, False), (True, True), (False, True)]
)
def test_without_consent_or_withdrawn_a_record_is_hidden_from_everyone(
    level, viewer, consented, withdrawn
):
    member, guardian = VIEWERS[viewer]
    decided = visibility(
        governed=True,
        member=member,
        level=level,
        consented=consented,
        withdrawn=withdrawn,
        guardian=guardian,
    )
    assert decided is H


@pytest.mark.parametrize("level", ["comunitario", "restringido", "sagrado"])
def test_a_guardian_grant_without_membership_opens_nothing_but_publico(level):
    decided = visibility(
        governed=True,
        member=False,
        level=level,
        consented=True,
        withdrawn=False,
        guardian=True,
    )
    assert decided is H


@pytest.mark.parametrize(
    ("member", "expected"), [(True, Visibility.FULL), (False, Visibility.HIDDEN)]
)
@pytest.mark.parametrize("level", [*ACCESS_LEVELS, "whatever"])
@pytest.mark.parametrize("consented", [True, False])
def test_other_forms_are_for_members_whatever_their_answers(
    member, expected, level, consented
):
    decided = visibility(
        governed=False,
        member=member,
        level=level,
        consented=consented,
        withdrawn=True,
        guardian=False,
    )
    assert decided is expected
