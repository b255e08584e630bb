"""The permission table: each role's verbs, how far a grant reaches (site,
project, ayllu, form), and that nothing outside the table names a role."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.auth import permissions
from app.auth.actors import Actor
from app.auth.permissions import SITE, Ayllu, Form, Grant, Project

APP = Path(__file__).resolve().parents[3] / "app"
P1, P2 = 1, 2


def user(*grants: Grant) -> Actor:
    return Actor("user", 7, "Ana", None, grants)


def tablet(*grants: Grant) -> Actor:
    return Actor("field_key", 9, "Tableta", P1, grants)


ADMIN = user(Grant(permissions.ADMIN))
MANAGER = user(Grant(permissions.MANAGER, P1))
ANALYST = user(Grant(permissions.ANALYST, P1))
COLLECTOR = user(Grant(permissions.DATA_COLLECTOR, P1))
GUARDIAN = user(Grant(permissions.GUARDIAN, P1, ayllu="aransaya"))
TABLET = tablet(Grant(permissions.APP_USER, P1))


@pytest.mark.parametrize(
    ("actor", "verb", "target", "expected"),
    [
        # The site administrator: everything, in every project...
        (ADMIN, "user.create", SITE, True),
        (ADMIN, "submission.read", Project(P2), True),
        (ADMIN, "consent.record", Ayllu(P2, None), True),
        # ...but never the custody of an ayllu's knowledge (domain.md §4).
        (ADMIN, "knowledge.guard", Ayllu(P1, "aransaya"), False),
        (ADMIN, "knowledge.guard", Project(P1), False),
        # A manager runs one project.
        (MANAGER, "form.update", Project(P1), True),
        (MANAGER, "submission.update", Project(P1), True),
        (MANAGER, "consent.record", Ayllu(P1, "manasaya"), True),
        (MANAGER, "consent.record", Ayllu(P1, None), True),
        (MANAGER, "form.update", Project(P2), False),
        (MANAGER, "user.create", SITE, False),
        (MANAGER, "knowledge.guard", Ayllu(P1, "aransaya"), False),
        # An analyst reads and exports; never writes, never reviews.
        (ANALYST, "submission.read", Project(P1), True),
        (ANALYST, "export.create", Project(P1), True),
        (ANALYST, "submission.update", Project(P1), False),
        (ANALYST, "submission.create", Form(P1, 3), False),
        # A data collector fills forms.
        (COLLECTOR, "submission.create", Form(P1, 3), True),
        (COLLECTOR, "submission.read", Project(P1), False),
        # A guardian reads the project and guards one ayllu only.
        (GUARDIAN, "submission.read", Project(P1), True),
        (GUARDIAN, "knowledge.guard", Ayllu(P1, "aransaya"), True),
        (GUARDIAN, "knowledge.guard", Ayllu(P1, "manasaya"), False),
        (GUARDIAN, "knowledge.guard", Ayllu(P1, None), False),
        (GUARDIAN, "knowledge.guard", Ayllu(P2, "aransaya"), False),
        # Asked of the whole project, an ayllu verb means "every ayllu".
        (GUARDIAN, "knowledge.guard", Project(P1), False),
        (GUARDIAN, "consent.record", Ayllu(P1, "aransaya"), True),
        (GUARDIAN, "consent.record", Ayllu(P1, "manasaya"), False),
        (GUARDIAN, "submission.create", Form(P1, 3), False),
        # A tablet submits to its project's forms and does nothing else.
        (TABLET, "submission.create", Form(P1, 3), True),
        (TABLET, "submission.create", Form(P2, 4), False),
        (TABLET, "project.read", Project(P1), False),
        (TABLET, "submission.read", Project(P1), False),
        (TABLET, "knowledge.guard", Ayllu(P1, "aransaya"), False),
        # Nobody: anonymous.
        (None, "submission.read", Project(P1), False),
    ],
)
def test_each_role_holds_its_verbs_where_its_grant_reaches(
    actor, verb, target, expected
):
    assert permissions.can(actor, verb, target) is expected


def test_an_app_user_narrowed_to_a_form_reaches_only_that_form():
    narrowed = tablet(
        Grant(permissions.APP_USER, P1), Grant(permissions.APP_USER, P1, 3)
    )
    assert permissions.can(narrowed, "submission.create", Form(P1, 3))
    assert not permissions.can(narrowed, "submission.create", Form(P1, 4))
    assert not permissions.can(
        tablet(Grant(permissions.APP_USER, P1, 3)), "submission.create", Form(P1, 4)
    )


def test_ayllus_where_names_what_a_guardian_guards_and_every_for_unscoped_grants():
    two = user(
        Grant(permissions.GUARDIAN, P1, ayllu="aransaya"),
        Grant(permissions.GUARDIAN, P1, ayllu="manasaya"),
        Grant(permissions.GUARDIAN, P2, ayllu="ayparavi"),
    )
    reach = permissions.ayllus_where(two, "knowledge.guard", P1)
    assert (reach.every, reach.ayllus) == (False, {"aransaya", "manasaya"})
    assert "aransaya" in reach and "ayparavi" not in reach and None not in reach
    assert not permissions.ayllus_where(ADMIN, "knowledge.guard", P1)
    managed = permissions.ayllus_where(MANAGER, "consent.record", P1)
    assert managed.every and None in managed and "cualquiera" in managed
    assert not permissions.ayllus_where(None, "consent.record", P1)
    with pytest.raises(ValueError, match="not scoped by ayllu"):
        permissions.ayllus_where(MANAGER, "form.update", P1)


def test_an_unknown_verb_is_a_programming_error_not_a_refusal():
    with pytest.raises(ValueError, match="unknown verb"):
        permissions.can(ADMIN, "form.destroy", SITE)


def test_require_refuses_with_a_bilingual_403():
    with pytest.raises(permissions.PermissionRefusedError) as refused:
        permissions.require(ANALYST, "export.create", Project(P2))
    error = refused.value
    assert error.status == 403
    assert "exportar" in error.es and "export" in error.en


def test_every_role_uses_only_known_verbs_and_has_a_grant_shape():
    for role in permissions.ROLES.values():
        assert role.verbs <= permissions.VERBS.keys(), role.name
        assert role.scope in ("site", "project", "ayllu", "app"), role.name
        assert role.system, role.name
    assert set(permissions.USER_ROLES) <= set(permissions.ROLES)
    guards = [
        r.name for r in permissions.ROLES.values() if "knowledge.guard" in r.verbs
    ]
    assert guards == [permissions.GUARDIAN]


def test_verbs_on_lists_what_the_console_may_show():
    verbs = permissions.verbs_on(ANALYST, Project(P1))
    assert {"project.read", "submission.list", "export.create"} <= verbs
    assert "form.update" not in verbs


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_module_but_the_permission_table_names_a_role():
    """Who may do what has one answer: a role name written anywhere else is a
    second one (templates of role labels, migrations and tests aside)."""
    names = set(permissions.ROLES)
    found = [
        f"{path.relative_to(APP.parent)}:{line}: {value!r}"
        for path in sorted(APP.rglob("*.py"))
        if path.name != "permissions.py" or path.parent.name != "auth"
        for line, value in _string_constants(path)
        if value in names
    ]
    assert found == []


def test_no_template_compares_against_a_role_name():
    names = set(permissions.ROLES)
    found = [
        f"{path.name}: {name}"
        for path in sorted((APP / "web" / "templates").rglob("*.html"))
        for name in names
        if f'"{name}"' in path.read_text(encoding="utf-8")
        or f"'{name}'" in path.read_text(encoding="utf-8")
    ]
    assert found == []
