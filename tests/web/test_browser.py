"""The console in a real browser (Debian's Chromium driven by Playwright)
against a real gunicorn server: sign in, upload an XLSForm, onboard a tablet,
receive its submission over OpenRosa, approve it with a comment, open the
dashboard, download an export, switch to English.

Every request the pages make is recorded and must go to this server only
(the laptop has no internet), and the main pages are saved as screenshots
under tests/output/screenshots/ for a person to look at.

Chromium comes from Debian (`apt-get install chromium`, done by `make test`);
`playwright install` is never run: it would download a browser.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import ADMIN_PASSWORD, encuesta_xml, new_instance_id
from tests.web.support import make_web_world, seed_planning_data

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"
CHROMIUM = Path(os.environ.get("AYNI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHOTO_SCENE = """<html><body style="margin:0">
<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240">
<rect width="320" height="150" fill="#6fa8dc"/><rect y="150" width="320" height="90"
fill="#c9b48a"/><circle cx="250" cy="55" r="28" fill="#ffd966"/>
<polygon points="40,150 80,95 120,150" fill="#8d6e63"/>
<polygon points="150,150 185,110 220,150" fill="#a1887f"/></svg></body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("AYNI_SKIP_BROWSER") == "1":
            pytest.skip("AYNI_SKIP_BROWSER=1 and no Chromium")
        pytest.fail(
            f"{CHROMIUM} not found: apt-get install -y chromium "
            "(or set AYNI_SKIP_BROWSER=1 to skip the browser suite)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def jpeg_photo(browser) -> bytes:  # type: ignore[no-untyped-def]
    """A real JPEG, drawn by the browser itself (no image library needed)."""
    context = browser.new_context(viewport={"width": 320, "height": 240})
    try:
        page = context.new_page()
        page.set_content(PHOTO_SCENE)
        return page.screenshot(type="jpeg", quality=80)  # type: ignore[no-any-return]
    finally:
        context.close()


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def send_as_collect(server_url: str, photo: bytes) -> str:
    """ODK Collect's POST to the URL the QR code gave the tablet."""
    instance_id = new_instance_id()
    xml = encuesta_xml(
        instance_id, nombre="Rosa Felipe", asistentes=(("Lucio", None), ("Nely", None))
    )
    response = requests.post(
        f"{server_url}/submission",
        files=[
            ("xml_submission_file", ("encuesta.xml", xml, "text/xml")),
            ("1732455064123.jpg", ("1732455064123.jpg", photo, "image/jpeg")),
        ],
        headers={"X-OpenRosa-Version": "1.0"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return instance_id


def test_a_coordinator_works_through_the_console(app, runtime, live_server, browser):
    world = make_web_world(runtime)
    seed_planning_data(app.test_client(), world)
    photo = jpeg_photo(browser)
    base = live_server.url
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
        locale="es-BO",
    )
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # Sign in (Spanish by default; the cursor starts in the first input).
        page.goto(f"{base}/projects")
        assert "/login" in page.url
        assert page.evaluate("document.activeElement.id") == "login"
        shoot(page, "01-login")
        page.get_by_label("Usuario o correo").fill("admin")
        page.get_by_label("Contraseña").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url(f"{base}/projects")
        # Keyboard users: the first Tab stop skips the navigation.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == (
            "Saltar al contenido"
        )
        shoot(page, "02-projects")

        # Upload an XLSForm and read its questions.
        page.get_by_role("link", name="CdP Chipaya", exact=True).click()
        page.get_by_label("Archivo XLSForm").set_input_files(
            str(ROOT / "xlsforms" / "registro_actor.xlsx")
        )
        page.get_by_role("button", name="Subir y publicar").click()
        page.wait_for_url(f"{base}/projects/1/forms/registro_actor")
        page.get_by_text(
            "Formulario «Registro de actores e instituciones» publicado"
        ).wait_for()
        assert page.get_by_text("¿Es una persona o una institución?").is_visible()
        shoot(page, "03-form-preview")

        # Onboard a tablet: the QR code and the URL it encodes.
        page.get_by_role("link", name="Tabletas").click()
        page.get_by_label("Nombre de la tableta").fill("Tableta Ayparavi")
        page.get_by_role("button", name="Crear y mostrar el código QR").click()
        page.locator(".qr svg").wait_for()
        shoot(page, "04-tablet-qr")
        server_url = page.locator("[data-testid=server-url]").text_content() or ""
        assert urlsplit(server_url).hostname == "127.0.0.1"

        # The tablet sends a submission; the coordinator finds it.
        instance_id = send_as_collect(server_url, photo)
        page.get_by_role("link", name="Formularios").click()
        page.locator("tr", has_text="Encuesta de prueba").get_by_role(
            "link", name="Ver envíos"
        ).click()
        page.get_by_text("1 envíos.").wait_for()
        shoot(page, "05-submissions")
        page.get_by_role("link", name=instance_id.removeprefix("uuid:")[:13]).click()
        page.get_by_text("Rosa Felipe").wait_for()
        image = page.locator("figure.media img")
        # The photo is lazy-loaded: scrolling starts the request, so wait for it
        # to decode rather than checking at once (a timeout fails the test).
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=image.element_handle(),
            timeout=10_000,
        )
        assert page.locator("svg.map").is_visible()

        # Approve it with a comment.
        page.get_by_label("Aprobado").check()
        page.get_by_label("Comentario (opcional)").fill(
            "Revisado en la mesa de autonomía"
        )
        page.get_by_role("button", name="Guardar la revisión").click()
        page.get_by_text("Revisión guardada: Aprobado").wait_for()
        assert page.get_by_text("Revisado en la mesa de autonomía").is_visible()
        shoot(page, "06-submission-approved")

        # The planning dashboard.
        page.get_by_role("link", name="Panel de planificación").click()
        page.get_by_role("heading", name="¿Qué necesidades van primero?").wait_for()
        shoot(page, "07-dashboard")

        # Download an export.
        page.get_by_role("link", name="Exportar datos").click()
        page.get_by_label("Formulario", exact=True).select_option("encuesta")
        shoot(page, "08-exports")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Descargar").click()
        download = download_info.value
        assert download.suggested_filename == "encuesta.zip"
        saved = Path(download.path())
        with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
            table = archive.read("encuesta.csv").decode("utf-8")
            assert "Rosa Felipe" in table
            assert "approved" in table
            assert "media/1732455064123.jpg" in archive.namelist()

        # Consent withdrawals: where a knowledge holder's "no" is recorded.
        page.get_by_role("link", name="Consentimientos").click()
        page.get_by_role("heading", name="Retiros de consentimiento").wait_for()
        shoot(page, "08b-consent")

        # Users, then the English switch.
        page.get_by_role("link", name="Usuarios").click()
        page.get_by_role("heading", name="Usuarios").wait_for()
        shoot(page, "09-users")
        page.get_by_role("link", name="English").click()
        page.get_by_role("heading", name="Users").wait_for()
        page.goto(f"{base}/projects/1/dashboard")
        page.get_by_role("heading", name="Which needs come first?").wait_for()
        shoot(page, "10-dashboard-en")

        # A tablet-sized screen.
        page.set_viewport_size({"width": 800, "height": 1280})
        page.goto(f"{base}/projects/1/forms/encuesta/submissions/{instance_id}")
        shoot(page, "11-submission-tablet-en")
    finally:
        context.close()

    outside = [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "blob")
        and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert requested
    assert outside == []
