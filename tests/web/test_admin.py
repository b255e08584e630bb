"""Site administration: users, passwords and roles (guardian per ayllu)."""

from __future__ import annotations

import re

from tests.web.support import csrf_token, post_form, sign_in


def test_only_site_admins_manage_users(client, world):
    sign_in(client, "coordinadora")
    assert client.get("/admin/users").status_code == 403
    assert (
        post_form(
            client, "/admin/users", {"username": "x"}, page="/projects"
        ).status_code
        == 403
    )


def test_create_a_user_with_a_generated_password_shown_once(client, world, app):
    sign_in(client, "admin")
    response = post_form(
        client,
        "/admin/users",
        {"username": "tecnico", "display_name": "Técnico Municipal"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    password = re.search(r'data-testid="new-password">([^<]+)<', page).group(1)
    assert "no se volverá a mostrar" in page
    other = app.test_client()
    sign_in(other, "tecnico", password)
    assert "Técnico Municipal" in client.get("/admin/users").get_data(as_text=True)
    # Not in the session cookie: nothing secret was flashed.
    assert password not in (client.get_cookie("ayni_session").value or "")


def test_duplicate_user_is_refused_readably(client, world):
    sign_in(client, "admin")
    response = post_form(
        client,
        "/admin/users",
        {"username": "analista", "email": "analista@cdp.example"},
    )
    assert response.status_code == 422
    assert "Ya existe un usuario" in response.get_data(as_text=True)


def test_assign_and_revoke_a_guardian_role(client, world, app):
    sign_in(client, "admin")
    user_id = world.user_ids["analista"]
    page = f"/admin/users/{user_id}"
    response = post_form(
        client,
        f"{page}/roles",
        {"role": "guardian", "project_id": "1", "ayllu": "aransaya"},
        page=page,
    )
    assert response.status_code == 302
    text = client.get(page).get_data(as_text=True)
    assert "Rol asignado: Custodia de saberes" in text
    assert "<td>aransaya</td>" in text
    response = post_form(
        client,
        f"{page}/roles/revoke",
        {"role": "guardian", "project_id": "1", "ayllu": "aransaya"},
        page=page,
    )
    assert "Rol retirado" in client.get(page).get_data(as_text=True)


def test_a_guardian_role_needs_an_ayllu(client, world):
    sign_in(client, "admin")
    page = f"/admin/users/{world.user_ids['analista']}"
    post_form(
        client, f"{page}/roles", {"role": "guardian", "project_id": "1"}, page=page
    )
    assert "necesita un ayllu" in client.get(page).get_data(as_text=True)


def test_reset_a_password(client, world, app):
    sign_in(client, "admin")
    page = f"/admin/users/{world.user_ids['coordinadora']}"
    response = post_form(client, f"{page}/password", {}, page=page)
    password = re.search(
        r'data-testid="new-password">([^<]+)<', response.get_data(as_text=True)
    ).group(1)
    other = app.test_client()
    sign_in(other, "coordinadora", password)


def test_an_admin_cannot_drop_their_own_admin_role(client, world):
    sign_in(client, "admin")
    page = f"/admin/users/{world.user_ids['admin']}"
    token = csrf_token(client, page)
    client.post(
        f"{page}/roles/revoke", data={"role": "site_admin", "csrf_token": token}
    )
    assert client.get("/admin/users").status_code == 200
