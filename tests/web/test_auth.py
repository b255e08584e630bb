"""Signing in and out, CSRF, the shared login throttle, password changes,
languages and the pages' security headers."""

from __future__ import annotations

import re

import pytest

from tests.support import ADMIN_PASSWORD
from tests.web.support import PASSWORD, csrf_token, post_form, sign_in

PAGES = [
    "/projects",
    "/projects/1",
    "/projects/1/forms/encuesta",
    "/projects/1/forms/encuesta/submissions",
    "/projects/1/tablets",
    "/projects/1/exports",
    "/projects/1/dashboard",
    "/admin/users",
    "/account/password",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_requires_signing_in(client, world, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_sign_in_page_is_spanish_by_default_and_english_on_request(client, world):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Iniciar sesión" in page
    english = client.get("/login?lang=en", headers={"Accept-Language": "es"})
    assert "Sign in" in english.get_data(as_text=True)
    assert "ayni_lang=en" in english.headers["Set-Cookie"]
    # The cookie keeps English on the next page.
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_browser_language_does_not_change_the_default(client, world):
    page = client.get("/login", headers={"Accept-Language": "en-US,en"})
    assert "Iniciar sesión" in page.get_data(as_text=True)


def test_sign_in_without_csrf_token_is_refused(client, world):
    response = client.post(
        "/login", data={"login": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 400
    assert "caducó" in response.get_data(as_text=True)
    assert client.get("/projects").status_code == 302


def test_post_with_a_wrong_csrf_token_is_refused(client, world):
    sign_in(client, "admin")
    response = client.post(
        "/projects/1/tablets", data={"name": "Tableta X", "csrf_token": "falso"}
    )
    assert response.status_code == 400


def test_sign_in_and_out(client, world):
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"login": "admin", "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert client.get("/projects").status_code == 200
    response = post_form(client, "/logout", {}, page="/projects")
    assert response.status_code == 302
    assert client.get("/projects").status_code == 302


def test_sign_in_with_the_email(client, world):
    sign_in(client, "analista@cdp.example", PASSWORD)
    assert "Analista" in client.get("/projects").get_data(as_text=True)


def test_wrong_password_says_so_and_is_counted(client, world, runtime):
    response = post_form(
        client, "/login", {"login": "admin", "password": "no-es-esta-123"}
    )
    assert response.status_code == 401
    assert "Usuario o contraseña incorrectos" in response.get_data(as_text=True)
    with runtime.db.read() as session:
        from app.auth import throttle

        assert throttle.login_delay(session, "ip:127.0.0.1") == 0


def test_repeated_failures_lock_the_client_out_even_with_the_right_password(
    client, world, runtime
):
    limit = runtime.settings.login_attempts_per_minute
    for _ in range(limit):
        post_form(client, "/login", {"login": "admin", "password": "mala-clave-000"})
    response = post_form(
        client, "/login", {"login": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 429
    assert "Demasiados intentos" in response.get_data(as_text=True)
    assert client.get("/projects").status_code == 302


def test_next_only_redirects_within_the_site(client, world):
    def login_then(next_url: str) -> str:
        response = client.post(
            "/login",
            data={
                "login": "admin",
                "password": ADMIN_PASSWORD,
                "csrf_token": csrf_token(client),
                "next": next_url,
            },
        )
        return response.headers["Location"]

    assert login_then("https://example.org/robar") == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/projects")})
    assert login_then("/projects/1/dashboard") == "/projects/1/dashboard"


def test_changing_the_password_ends_other_sessions(app, world):
    laptop, tablet_browser = app.test_client(), app.test_client()
    sign_in(laptop, "coordinadora")
    sign_in(tablet_browser, "coordinadora")
    wrong = post_form(
        laptop,
        "/account/password",
        {
            "current": "otra-cosa-123",
            "new": "nueva-clave-789",
            "repeat": "nueva-clave-789",
        },
    )
    assert wrong.status_code == 400
    assert "no es correcta" in wrong.get_data(as_text=True)
    mismatch = post_form(
        laptop,
        "/account/password",
        {"current": PASSWORD, "new": "nueva-clave-789", "repeat": "nueva-clave-780"},
    )
    assert mismatch.status_code == 400
    done = post_form(
        laptop,
        "/account/password",
        {"current": PASSWORD, "new": "nueva-clave-789", "repeat": "nueva-clave-789"},
    )
    assert done.status_code == 302
    assert laptop.get("/projects").status_code == 200  # this session goes on
    assert tablet_browser.get("/projects").status_code == 302  # the other ended
    sign_in(tablet_browser, "coordinadora", "nueva-clave-789")


def test_pages_carry_a_same_origin_content_security_policy(client, world):
    sign_in(client, "admin")
    response = client.get("/projects")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_refer_to_nothing_outside_this_server(client, world):
    sign_in(client, "admin")
    for path in ("/login", "/projects", "/projects/1", "/projects/1/dashboard"):
        page = client.get(path).get_data(as_text=True)
        external = re.findall(r'(?:src|href|action)="(https?:)?//', page)
        assert external == [], path
        assert "style=" not in page, f"inline style on {path} (blocked by the CSP)"


def test_static_assets_are_served_by_the_app(client):
    for name in ("ayni.css", "ayni.js", "favicon.svg"):
        with client.get(f"/assets/{name}") as response:  # closes the file
            assert response.status_code == 200


def test_openrosa_posts_need_no_csrf_token(client, world):
    from tests.web.support import send_encuesta

    send_encuesta(client, world)  # asserts the 201


def test_unknown_page_is_a_readable_404(client, world):
    sign_in(client, "admin")
    response = client.get("/no/existe")
    assert response.status_code == 404
    assert "No encontrado" in response.get_data(as_text=True)
