"""Central's roles (from the permission table, with Ayni's guardian) and
assignments: site-wide, per project and per form; listing (plain and
extended), granting and taking back, who may, and every refusal with
Central's problem code and nothing stored."""

from __future__ import annotations

import pytest

from tests.api.accounts.conftest import assert_actor, is_iso

ROLE_KEYS = {"id", "name", "system", "verbs", "createdAt", "updatedAt"}
ADMIN, APP_USER, MANAGER, VIEWER, FORMFILL, GUARDIAN = 1, 2, 5, 6, 8, 101
FORM = "encuesta"
EXTENDED = {"X-Extended-Metadata": "true"}


def problem(response, status: float) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == int(status), response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == status
    return body  # type: ignore[no-any-return]


def ok(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"success": True}


def project_url(project_id: int, *rest: object) -> str:
    return "/".join([f"/v1/projects/{project_id}/assignments", *map(str, rest)])


def form_url(project_id: int, *rest: object) -> str:
    base = f"/v1/projects/{project_id}/forms/{FORM}/assignments"
    return "/".join([base, *map(str, rest)])


# --- /v1/roles ----------------------------------------------------------------------


def test_roles_are_centrals_plus_the_guardian_for_anyone_signed_in(
    client, seeded, person
):
    headers = person("ana", None)

    response = client.get("/v1/roles", headers=headers)

    assert response.status_code == 200
    roles = response.get_json()
    for role in roles:
        assert set(role) == ROLE_KEYS
        assert isinstance(role["name"], str) and isinstance(role["system"], str)
        assert role["verbs"] == sorted(role["verbs"])
        assert all(isinstance(verb, str) for verb in role["verbs"])
        assert role["createdAt"] is None and role["updatedAt"] is None
    assert [(r["id"], r["system"]) for r in roles] == [
        (ADMIN, "admin"),
        (APP_USER, "app-user"),
        (MANAGER, "manager"),
        (VIEWER, "viewer"),
        (FORMFILL, "formfill"),
        (GUARDIAN, "guardian"),
    ]
    by_system = {r["system"]: set(r["verbs"]) for r in roles}
    assert {"knowledge.guard", "consent.record"} <= by_system["guardian"]
    assert "knowledge.guard" not in by_system["admin"]
    assert {"user.create", "assignment.create", "audit.read"} <= by_system["admin"]
    assert by_system["app-user"] == {"form.list", "form.read", "submission.create"}


def test_roles_need_credentials(client, seeded):
    problem(client.get("/v1/roles"), 401.2)
    problem(client.get("/v1/roles/admin"), 401.2)


@pytest.mark.parametrize(
    ("by_name", "by_id"),
    [
        ("admin", ADMIN),
        ("manager", MANAGER),
        ("app-user", APP_USER),
        ("guardian", GUARDIAN),
    ],
)
def test_a_role_is_found_by_system_name_or_numeric_id(
    client, seeded, admin_headers, by_name, by_id
):
    named = client.get(f"/v1/roles/{by_name}", headers=admin_headers)
    numbered = client.get(f"/v1/roles/{by_id}", headers=admin_headers)

    assert named.status_code == numbered.status_code == 200
    assert named.get_json() == numbered.get_json()
    assert set(named.get_json()) == ROLE_KEYS
    assert named.get_json()["id"] == by_id


@pytest.mark.parametrize("ref", ["blahblah", "99", "site_admin", "0"])
def test_an_unknown_role_is_404_1(client, seeded, admin_headers, ref):
    problem(client.get(f"/v1/roles/{ref}", headers=admin_headers), 404.1)


# --- /v1/assignments (site-wide) ---------------------------------------------------


def test_site_assignments_list_the_administrator(client, seeded, admin_headers):
    plain = client.get("/v1/assignments", headers=admin_headers)
    extended = client.get("/v1/assignments", headers={**admin_headers, **EXTENDED})

    assert plain.status_code == extended.status_code == 200
    assert plain.get_json() == [{"actorId": seeded.admin_id, "roleId": ADMIN}]
    [entry] = extended.get_json()
    assert set(entry) == {"actorId", "roleId", "actor"}
    assert (entry["actorId"], entry["roleId"]) == (seeded.admin_id, ADMIN)
    assert_actor(entry["actor"])
    assert entry["actor"]["id"] == seeded.admin_id
    assert entry["actor"]["type"] == "user"


@pytest.mark.parametrize("ref", ["admin", str(ADMIN)])
def test_the_actors_holding_a_site_role(client, seeded, admin_headers, ref):
    response = client.get(f"/v1/assignments/{ref}", headers=admin_headers)

    assert response.status_code == 200
    [actor] = response.get_json()
    assert_actor(actor)
    assert actor["id"] == seeded.admin_id


def test_listing_site_assignments_is_for_the_administrator(client, seeded, person):
    manager = person("ana", "manager")

    problem(client.get("/v1/assignments"), 401.2)
    problem(client.get("/v1/assignments", headers=manager), 403.1)
    problem(client.get("/v1/assignments/admin", headers=manager), 403.1)
    problem(client.get(f"/v1/key/{seeded.token}/assignments"), 403.1)


@pytest.mark.parametrize("ref", ["blahblah", "999"])
def test_listing_an_unknown_site_role_is_404_1(client, seeded, admin_headers, ref):
    problem(client.get(f"/v1/assignments/{ref}", headers=admin_headers), 404.1)


def test_granting_and_taking_back_the_site_administrator_role(
    client, seeded, admin_headers, person, user_id
):
    ana = person("ana", None)
    ana_id = user_id("ana")
    problem(client.get("/v1/assignments", headers=ana), 403.1)

    ok(client.post(f"/v1/assignments/admin/{ana_id}", headers=admin_headers))

    assert client.get("/v1/assignments", headers=ana).status_code == 200
    listed = client.get("/v1/assignments", headers=admin_headers).get_json()
    assert {"actorId": ana_id, "roleId": ADMIN} in listed

    ok(client.delete(f"/v1/assignments/{ADMIN}/{ana_id}", headers=admin_headers))

    problem(client.get("/v1/assignments", headers=ana), 403.1)
    again = client.delete(f"/v1/assignments/admin/{ana_id}", headers=admin_headers)
    problem(again, 404.1)


def test_granting_a_role_already_held_is_409_3(client, seeded, admin_headers, stored):
    before = stored()

    response = client.post(
        f"/v1/assignments/admin/{seeded.admin_id}", headers=admin_headers
    )

    body = problem(response, 409.3)
    assert body["details"] == {
        "fields": ["actorId", "roleId"],
        "values": [seeded.admin_id, ADMIN],
    }
    assert stored() == before


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/v1/assignments/99/{ana}", 404.1),
        ("post", "/v1/assignments/blahblah/{ana}", 404.1),
        ("post", "/v1/assignments/admin/9999", 404.1),
        ("post", "/v1/assignments/manager/{ana}", 400.8),
        ("post", "/v1/assignments/guardian/{ana}", 400.8),
        ("post", "/v1/assignments/app-user/{ana}", 404.1),
        ("delete", "/v1/assignments/99/{ana}", 404.1),
        ("delete", "/v1/assignments/admin/9999", 404.1),
        ("delete", "/v1/assignments/admin/{ana}", 404.1),
    ],
)
def test_bad_site_grants_are_refused_and_nothing_is_stored(
    client, seeded, admin_headers, person, user_id, stored, method, path, status
):
    person("ana", None)
    before = stored()

    response = getattr(client, method)(
        path.format(ana=user_id("ana")), headers=admin_headers
    )

    problem(response, status)
    assert stored() == before


@pytest.mark.parametrize("role", [None, "manager", "analyst", "guardian"])
def test_only_the_administrator_grants_and_takes_back_site_roles(
    client, seeded, person, user_id, stored, role
):
    headers = person("ana", role, ayllu="Manazaya" if role == "guardian" else None)
    person("beto", None)
    before = stored()

    for method, target in (("post", user_id("beto")), ("post", user_id("ana"))):
        response = getattr(client, method)(
            f"/v1/assignments/admin/{target}", headers=headers
        )
        problem(response, 403.1)
    problem(
        client.delete(f"/v1/assignments/admin/{seeded.admin_id}", headers=headers),
        403.1,
    )
    assert stored() == before
    problem(client.post(f"/v1/assignments/admin/{user_id('beto')}"), 401.2)
    assert stored() == before


def test_a_site_grant_is_audited_as_centrals_user_assignment(
    client, seeded, admin_headers, person, user_id
):
    person("ana", None)
    ana_id = user_id("ana")
    ok(client.post(f"/v1/assignments/admin/{ana_id}", headers=admin_headers))
    ok(client.delete(f"/v1/assignments/admin/{ana_id}", headers=admin_headers))

    response = client.get("/v1/audits?action=user", headers=admin_headers)

    entries = response.get_json()
    created, deleted = (
        next(e for e in entries if e["action"] == name)
        for name in ("user.assignment.create", "user.assignment.delete")
    )
    assert created["actorId"] == deleted["actorId"] == seeded.admin_id
    assert created["details"]["roleId"] == ADMIN
    assert created["details"]["grantedActeeId"] == "*"
    assert deleted["details"]["revokedActeeId"] == "*"
    assert created["acteeId"] == deleted["acteeId"]


# --- /v1/projects/<id>/assignments --------------------------------------------------


def test_a_projects_assignments_list_its_web_users(
    client, seeded, admin_headers, person, user_id
):
    person("ana", "manager")
    person("beto", "analyst")
    person("rosa", "guardian", ayllu="Manazaya")

    plain = client.get(project_url(seeded.project_id), headers=admin_headers)
    extended = client.get(
        project_url(seeded.project_id), headers={**admin_headers, **EXTENDED}
    )

    assert plain.status_code == extended.status_code == 200
    assert plain.get_json() == [
        {"actorId": user_id("ana"), "roleId": MANAGER},
        {"actorId": user_id("beto"), "roleId": VIEWER},
        {"actorId": user_id("rosa"), "roleId": GUARDIAN, "ayllu": "Manazaya"},
    ]
    for entry in extended.get_json():
        assert_actor(entry["actor"])
        assert entry["actor"]["id"] == entry["actorId"]
    assert set(extended.get_json()[0]) == {"actorId", "roleId", "actor"}


@pytest.mark.parametrize("ref", ["manager", str(MANAGER)])
def test_the_actors_holding_a_project_role(client, seeded, person, user_id, ref):
    manager = person("ana", "manager")
    person("beto", "manager")

    response = client.get(project_url(seeded.project_id, ref), headers=manager)

    assert response.status_code == 200
    actors = response.get_json()
    for actor in actors:
        assert_actor(actor)
    assert [a["id"] for a in actors] == [user_id("ana"), user_id("beto")]


@pytest.mark.parametrize("role", [None, "analyst", "data_collector", "guardian"])
def test_who_does_not_manage_the_project_cannot_list_its_assignments(
    client, seeded, person, role
):
    headers = person("ana", role, ayllu="Manazaya" if role == "guardian" else None)

    problem(client.get(project_url(seeded.project_id), headers=headers), 403.1)
    problem(
        client.get(project_url(seeded.project_id, "manager"), headers=headers), 403.1
    )
    problem(client.get(project_url(seeded.project_id, "forms"), headers=headers), 403.1)


def test_an_unknown_project_or_role_is_404_1_before_any_refusal(
    client, seeded, person, admin_headers
):
    headers = person("ana", None)

    problem(client.get(project_url(99), headers=headers), 404.1)
    problem(client.get(project_url(99, "forms"), headers=admin_headers), 404.1)
    problem(
        client.get(project_url(seeded.project_id, 99), headers=admin_headers), 404.1
    )
    problem(
        client.get(project_url(seeded.project_id, "forms", "x"), headers=admin_headers),
        404.1,
    )


@pytest.mark.parametrize("ref", ["manager", str(MANAGER), "viewer", "formfill"])
def test_a_manager_grants_project_roles_they_hold(client, seeded, person, user_id, ref):
    manager = person("gestora", "manager")
    beto = person("beto", None)
    problem(client.get(f"/v1/projects/{seeded.project_id}", headers=beto), 403.1)

    ok(
        client.post(
            project_url(seeded.project_id, ref, user_id("beto")), headers=manager
        )
    )

    assert (
        client.get(f"/v1/projects/{seeded.project_id}", headers=beto).status_code == 200
    )
    listed = client.get(project_url(seeded.project_id), headers=manager).get_json()
    role_id = {"manager": MANAGER, "viewer": VIEWER, "formfill": FORMFILL}.get(
        ref, MANAGER
    )
    assert {"actorId": user_id("beto"), "roleId": role_id} in listed


@pytest.mark.parametrize(
    ("granter", "ref", "status"),
    [
        ("manager", "admin", 403.1),
        ("manager", "guardian", 403.1),
        ("analyst", "viewer", 403.1),
        ("analyst", "formfill", 403.1),
        ("data_collector", "formfill", 403.1),
        (None, "formfill", 403.1),
        ("admin", "admin", 400.8),
        ("admin", "app-user", 404.1),
    ],
)
def test_nobody_grants_a_role_they_may_not_grant_there(
    client, seeded, person, admin_headers, user_id, stored, granter, ref, status
):
    headers = admin_headers if granter == "admin" else person("quien", granter)
    person("beto", None)
    before = stored()

    response = client.post(
        project_url(seeded.project_id, ref, user_id("beto")),
        headers=headers,
        query_string={"ayllu": "Manazaya"} if ref == "guardian" else None,
    )

    problem(response, status)
    assert stored() == before


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/projects/99/assignments/manager/{beto}", 404.1),
        ("{project}/99/{beto}", 404.1),
        ("{project}/blahblah/{beto}", 404.1),
        ("{project}/manager/9999", 404.1),
        ("{project}/manager/{ana}", 409.3),
    ],
    ids=["project", "role-id", "role-name", "user", "held"],
)
def test_bad_project_grants_are_refused_and_nothing_is_stored(
    client, seeded, admin_headers, person, user_id, stored, path, status
):
    person("ana", "manager")
    person("beto", None)
    before = stored()
    url = path.format(
        project=project_url(seeded.project_id),
        beto=user_id("beto"),
        ana=user_id("ana"),
    )

    problem(client.post(url, headers=admin_headers), status)
    assert stored() == before


def test_an_unknown_project_is_404_1_even_to_who_may_not_grant(
    client, seeded, person, user_id, stored
):
    headers = person("ana", None)
    before = stored()

    problem(
        client.post(project_url(99, "manager", user_id("ana")), headers=headers), 404.1
    )
    problem(
        client.post(
            project_url(seeded.project_id, 99, user_id("ana")), headers=headers
        ),
        404.1,
    )
    assert stored() == before


def test_a_manager_takes_back_a_project_role(client, seeded, person, user_id):
    manager = person("gestora", "manager")
    beto = person("beto", "analyst")

    ok(
        client.delete(
            project_url(seeded.project_id, "viewer", user_id("beto")), headers=manager
        )
    )

    problem(client.get(f"/v1/projects/{seeded.project_id}", headers=beto), 403.1)
    problem(
        client.delete(
            project_url(seeded.project_id, VIEWER, user_id("beto")), headers=manager
        ),
        404.1,
    )


@pytest.mark.parametrize("role", [None, "analyst", "data_collector"])
def test_who_does_not_manage_the_project_cannot_take_roles_back(
    client, seeded, person, user_id, stored, role
):
    headers = person("quien", role)
    person("ana", "manager")
    before = stored()

    response = client.delete(
        project_url(seeded.project_id, "manager", user_id("ana")), headers=headers
    )

    problem(response, 403.1)
    assert stored() == before


def test_a_project_grant_is_audited_with_the_project_as_granted_actee(
    client, seeded, admin_headers, person, user_id
):
    person("beto", None)
    ok(
        client.post(
            project_url(seeded.project_id, "manager", user_id("beto")),
            headers=admin_headers,
        )
    )

    entries = client.get(
        "/v1/audits?action=user.assignment.create",
        headers={**admin_headers, **EXTENDED},
    ).get_json()

    [entry] = [e for e in entries if e["actorId"] == seeded.admin_id]
    assert entry["details"]["roleId"] == MANAGER
    assert entry["details"]["grantedActeeId"] not in (None, "*")
    assert entry["actee"]["id"] == user_id("beto")
    assert is_iso(entry["loggedAt"])


# --- The guardian (Ayni's) ------------------------------------------------------------


def test_the_administrator_names_a_guardian_of_one_ayllu(
    client, seeded, admin_headers, person, user_id
):
    person("rosa", None)
    rosa = user_id("rosa")

    by_query = client.post(
        project_url(seeded.project_id, "guardian", rosa),
        query_string={"ayllu": "Manazaya"},
        headers=admin_headers,
    )
    by_body = client.post(
        project_url(seeded.project_id, GUARDIAN, rosa),
        json={"ayllu": "Aransaya"},
        headers=admin_headers,
    )

    ok(by_query)
    ok(by_body)
    listed = client.get(
        project_url(seeded.project_id, "guardian"), headers=admin_headers
    )
    assert [a["id"] for a in listed.get_json()] == [rosa]
    rows = client.get(project_url(seeded.project_id), headers=admin_headers).get_json()
    assert sorted(r["ayllu"] for r in rows if r["actorId"] == rosa) == [
        "Aransaya",
        "Manazaya",
    ]


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({}, 400.2),
        ({"query_string": {"ayllu": ""}}, 400.2),
        ({"json": {"ayllu": "   "}}, 400.2),
        ({"json": {"ayllu": 5}}, 400.11),
        ({"query_string": {"ayllu": "a" * 65}}, 400.13),
    ],
    ids=["none", "blank", "spaces", "number", "long"],
)
def test_a_guardian_grant_needs_a_proper_ayllu(
    client, seeded, admin_headers, person, user_id, stored, options, status
):
    person("rosa", None)
    before = stored()

    response = client.post(
        project_url(seeded.project_id, "guardian", user_id("rosa")),
        headers=admin_headers,
        **options,
    )

    problem(response, status)
    assert stored() == before


def test_taking_back_a_guardian_without_an_ayllu_ends_every_ayllu(
    client, seeded, admin_headers, person, user_id
):
    person("rosa", "guardian", ayllu="Manazaya")
    rosa = user_id("rosa")
    ok(
        client.post(
            project_url(seeded.project_id, "guardian", rosa),
            query_string={"ayllu": "Aransaya"},
            headers=admin_headers,
        )
    )

    one = client.delete(
        project_url(seeded.project_id, "guardian", rosa),
        query_string={"ayllu": "Aransaya"},
        headers=admin_headers,
    )
    ok(one)
    rows = client.get(project_url(seeded.project_id), headers=admin_headers).get_json()
    assert [r.get("ayllu") for r in rows if r["actorId"] == rosa] == ["Manazaya"]

    ok(
        client.delete(
            project_url(seeded.project_id, "guardian", rosa), headers=admin_headers
        )
    )
    assert (
        client.get(
            project_url(seeded.project_id, "guardian"), headers=admin_headers
        ).get_json()
        == []
    )
    problem(
        client.delete(
            project_url(seeded.project_id, "guardian", rosa), headers=admin_headers
        ),
        404.1,
    )


# --- Form assignments -----------------------------------------------------------------


def test_an_app_user_is_narrowed_to_a_form_as_pyodk_does(
    client, seeded, admin_headers, app_user_id
):
    ok(
        client.post(
            form_url(seeded.project_id, APP_USER, app_user_id), headers=admin_headers
        )
    )

    on_form = client.get(form_url(seeded.project_id), headers=admin_headers)
    on_forms = client.get(
        project_url(seeded.project_id, "forms"), headers=admin_headers
    )
    by_role = client.get(
        project_url(seeded.project_id, "forms", "app-user"), headers=admin_headers
    )
    extended = client.get(
        project_url(seeded.project_id, "forms"), headers={**admin_headers, **EXTENDED}
    )
    actors = client.get(form_url(seeded.project_id, "app-user"), headers=admin_headers)

    assert on_form.get_json() == [{"actorId": app_user_id, "roleId": APP_USER}]
    assert on_forms.get_json() == [
        {"actorId": app_user_id, "xmlFormId": FORM, "roleId": APP_USER}
    ]
    assert by_role.get_json() == on_forms.get_json()
    [entry] = extended.get_json()
    assert set(entry) == {"actorId", "xmlFormId", "roleId", "actor"}
    assert_actor(entry["actor"])
    assert entry["actor"]["type"] == "field_key"
    [actor] = actors.get_json()
    assert (actor["id"], actor["type"]) == (app_user_id, "field_key")
    assert (
        client.get(
            project_url(seeded.project_id, "forms", MANAGER), headers=admin_headers
        ).get_json()
        == []
    )


def test_taking_back_a_form_assignment(client, seeded, admin_headers, app_user_id):
    ok(
        client.post(
            form_url(seeded.project_id, "app-user", app_user_id), headers=admin_headers
        )
    )

    ok(
        client.delete(
            form_url(seeded.project_id, APP_USER, app_user_id), headers=admin_headers
        )
    )

    assert (
        client.get(form_url(seeded.project_id), headers=admin_headers).get_json() == []
    )
    problem(
        client.delete(
            form_url(seeded.project_id, APP_USER, app_user_id), headers=admin_headers
        ),
        404.1,
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/projects/{project}/forms/nada/assignments/app-user/{app}", 404.1),
        ("/v1/projects/99/forms/encuesta/assignments/app-user/{app}", 404.1),
        ("{form}/app-user/9999", 404.1),
        ("{form}/99/{app}", 404.1),
        ("{form}/manager/{ana}", 400.8),
        ("{form}/guardian/{ana}", 400.8),
    ],
    ids=["form", "project", "app-user", "role", "manager", "guardian"],
)
def test_bad_form_grants_are_refused_and_nothing_is_stored(
    client, seeded, admin_headers, app_user_id, person, user_id, stored, path, status
):
    person("ana", None)
    before = stored()
    url = path.format(
        project=seeded.project_id,
        form=form_url(seeded.project_id),
        app=app_user_id,
        ana=user_id("ana"),
    )

    problem(
        client.post(url, headers=admin_headers, query_string={"ayllu": "Manazaya"}),
        status,
    )
    assert stored() == before


@pytest.mark.parametrize("role", [None, "analyst", "data_collector"])
def test_who_does_not_manage_the_project_cannot_assign_forms(
    client, seeded, person, app_user_id, stored, role
):
    headers = person("ana", role)
    before = stored()

    problem(
        client.post(
            form_url(seeded.project_id, "app-user", app_user_id), headers=headers
        ),
        403.1,
    )
    problem(client.get(form_url(seeded.project_id), headers=headers), 403.1)
    assert stored() == before


def test_a_manager_assigns_forms_and_the_tablet_cannot(
    client, seeded, person, app_user_id, stored
):
    manager = person("gestora", "manager")
    before = stored()
    problem(
        client.post(
            f"/v1/key/{seeded.token}/projects/{seeded.project_id}/forms/{FORM}/assignments/app-user/{app_user_id}"
        ),
        403.1,
    )
    assert stored() == before

    ok(
        client.post(
            form_url(seeded.project_id, "app-user", app_user_id), headers=manager
        )
    )


@pytest.mark.parametrize("method", ["post", "delete"])
def test_the_app_user_role_is_never_site_wide(
    client, seeded, admin_headers, app_user_id, stored, method
):
    before = stored()

    response = getattr(client, method)(
        f"/v1/assignments/app-user/{app_user_id}", headers=admin_headers
    )

    problem(response, 400.8)
    assert stored() == before
    tablet = client.get(f"/v1/key/{seeded.token}/projects/{seeded.project_id}/forms")
    assert tablet.status_code == 200


@pytest.mark.parametrize("options", [{}, {"query_string": {"ayllu": "Manazaya"}}])
def test_a_guardian_is_not_taken_back_through_a_form(
    client, seeded, admin_headers, person, user_id, stored, options
):
    person("rosa", "guardian", ayllu="Manazaya")
    before = stored()

    response = client.delete(
        form_url(seeded.project_id, "guardian", user_id("rosa")),
        headers=admin_headers,
        **options,
    )

    problem(response, 400.8)
    assert stored() == before
    guardians = client.get(
        project_url(seeded.project_id, "guardian"), headers=admin_headers
    )
    assert [a["id"] for a in guardians.get_json()] == [user_id("rosa")]
