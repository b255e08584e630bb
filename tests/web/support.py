"""Helpers for the web console tests: a project with the CdP forms and people
in every role (with passwords, since they sign in through the page), signing
in with the CSRF token the page gives, and submitting as a tablet does."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from flask.testing import FlaskClient

from app.auth import accounts, roles
from app.forms import service as forms_service
from app.runtime import Runtime
from tests.integration.forms.instances import FORMS_DIR
from tests.support import ADMIN_PASSWORD, encuesta_xml, new_instance_id, seed

PASSWORD = "clave-de-prueba-456"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a JPEG, by its first bytes
CDP_FORMS = ("necesidades_ayllu", "practica_saber", "reunion_cdp")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

# username -> (role, ayllu); all in the default project.
PEOPLE = {
    "coordinadora": ("manager", None),
    "analista": ("analyst", None),
    "guardiana": ("guardian", "aransaya"),
    "guardian_manasaya": ("guardian", "manasaya"),
    "recolectora": ("data_collector", None),
}


@dataclass(frozen=True)
class WebWorld:
    project_id: int
    token: str  # a tablet's token in the default project
    user_ids: dict[str, int]


def make_web_world(
    runtime: Runtime, *, cdp_forms: tuple[str, ...] = CDP_FORMS
) -> WebWorld:
    """Default project, the encuesta test form plus CdP forms, one tablet and
    a person per role (passwords: PASSWORD; the admin's: ADMIN_PASSWORD)."""
    seeded = seed(runtime)
    user_ids = {"admin": seeded.admin_id}
    with runtime.db.transaction() as session:
        for compiled, media in forms_service.compiled_forms_in(FORMS_DIR):
            if compiled.xml_form_id in cdp_forms:
                forms_service.publish_form(
                    session,
                    runtime.blobs,
                    project_id=seeded.project_id,
                    compiled=compiled,
                    media=media,
                )
        for username, (role, ayllu) in PEOPLE.items():
            created = accounts.create_user(
                session,
                username=username,
                email=f"{username}@cdp.example",
                password=PASSWORD,
                display_name=username.capitalize(),
            )
            roles.assign_role(
                session,
                role=role,
                user_id=created.user.id,
                project_id=seeded.project_id,
                ayllu=ayllu,
            )
            user_ids[username] = created.user.id
    return WebWorld(seeded.project_id, seeded.token, user_ids)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str | None = None) -> None:
    token = csrf_token(client)
    password = password or (ADMIN_PASSWORD if username == "admin" else PASSWORD)
    response = client.post(
        "/login",
        data={"login": username, "password": password, "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def post_form(client: FlaskClient, path: str, data: dict, *, page: str | None = None):  # type: ignore[no-untyped-def]
    """POST an input as the browser would: with the page's CSRF token."""
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "csrf_token": token})


def send_submission(
    client: FlaskClient,
    world: WebWorld,
    xml: bytes,
    files: dict[str, bytes] | None = None,
) -> None:
    """Send as ODK Collect with the tablet's token (no cookie, no CSRF)."""
    data: dict = {
        "xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")
    }
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), name, "image/jpeg")
    response = client.post(
        f"/v1/key/{world.token}/projects/{world.project_id}/submission",
        data=data,
        headers={"X-OpenRosa-Version": "1.0"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def send_encuesta(client: FlaskClient, world: WebWorld, **kwargs) -> str:  # type: ignore[no-untyped-def]
    instance_id = kwargs.pop("instance_id", None) or new_instance_id()
    foto = kwargs.get("foto", "1732455064123.jpg")
    xml = encuesta_xml(instance_id, **kwargs)
    send_submission(client, world, xml, {foto: PHOTO} if foto else None)
    return instance_id


def send_practice(
    client: FlaskClient,
    world: WebWorld,
    *,
    level: str,
    ayllu: str = "aransaya",
    colectivo: str = "otorgado",
    individual: str = "otorgado",
    name: str = "Lameo de la pampa",
) -> tuple[str, list[str]]:
    """A documented practice sent by the tablet, with its photos and audio;
    returns its instanceID and the attachment names it carries."""
    from tests.integration.forms.instances import build_instance
    from tests.integration.governance.support import SCHEMAS, XML

    built = build_instance(
        SCHEMAS["practica_saber"],
        XML["practica_saber"],
        {
            "ayllu": ayllu,
            "nivel_acceso": level,
            "consentimiento/consentimiento_colectivo": colectivo,
            "consentimiento/consentimiento_individual": individual,
            "contenido/nombre_local": name,
            "fecha_registro": "2025-10-15",
        },
    )
    send_submission(client, world, built.xml, dict(built.media))
    return built.instance_id, sorted(built.media)


def send_form(
    client: FlaskClient, world: WebWorld, form_id: str, overrides: dict | None = None
) -> str:
    """A plausible instance of a CdP form, sent by the tablet."""
    from tests.integration.forms.instances import build_instance
    from tests.integration.governance.support import SCHEMAS, XML

    built = build_instance(SCHEMAS[form_id], XML[form_id], overrides or {})
    send_submission(client, world, built.xml, dict(built.media))
    return built.instance_id


def seed_planning_data(client: FlaskClient, world: WebWorld) -> None:
    """Enough records for every dashboard chart to show something."""
    for ayllu, fecha in (
        ("aransaya", "2025-09-10"),
        ("manasaya", "2025-10-02"),
        ("wistrullani", "2025-10-20"),
        ("ayparavi", "2025-11-05"),
    ):
        send_form(client, world, "necesidades_ayllu", {"ayllu": ayllu, "fecha": fecha})
    for fecha in ("2025-09-12", "2025-10-15", "2025-11-08"):
        send_form(client, world, "reunion_cdp", {"fecha": fecha})
    send_practice(client, world, level="publico", name="Lameo de la pampa")
    send_practice(client, world, level="restringido", name="Remedio del abuelo")
