"""No surface gives restricted, sacred, unconsented or withdrawn knowledge to
someone who does not guard it, whatever the form's later versions say.

Each test is one surface: the console's list, detail pages, media and
dashboard, the console's export, the API exports in every format, the
aggregates as JSON and CSV, and the command line's export and aggregate. Each
runs in four worlds: the form as published, and after a new version in which
`nivel_acceso` was removed, renamed or moved into a group (a manager's edit
that once opened every export). In each world the same records exist:

- RESTRICTED: `restringido`, both consents, ayllu aransaya, a photo;
- SACRED: `sagrado`, sent with content and a photo anyway;
- REFUSED: `publico` but the holder refused (`negado`);
- WITHDRAWN: `publico`, consented, then withdrawn on the server;
- LATER: sent under the later version (no level, `nivel=publico`, or the level
  inside a group), consented, aransaya;
- PUBLIC: `publico` and consented, the control that the surface shows content
  at all (so a test that finds nothing could not pass by showing nothing).

Non-guardians (an analyst, the site admin, a manager, the guardian of another
ayllu) never see a secret of the first five; the guardian of aransaya sees
RESTRICTED and LATER, and still never SACRED, REFUSED or WITHDRAWN.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.aggregates.service import AGGREGATES
from app.auth import accounts, app_users, roles, sessions
from app.auth.actors import actor_for_user
from app.config import Settings
from app.db.models import User
from app.forms import service as forms_service
from app.forms.compiler import compile_markdown
from app.governance import consent
from app.submissions.service import Upload, ingest_submission
from app.system.service import bootstrap
from tests.conftest import _truncate_all, is_postgres
from tests.support import media_bytes

FORM = "practica_saber"
NON_GUARDIANS = ("analista", "admin", "coordinadora", "guardian_manasaya")
SECRETS = {
    "RESTRICTED": "secreto-restringido-4471",
    "SACRED": "secreto-sagrado-9902",
    "REFUSED": "secreto-negado-3318",
    "WITHDRAWN": "secreto-retirado-5120",
    "LATER": "secreto-version-nueva-7764",
}
PUBLIC = "saber-publico-2207"
PHOTO = {
    name: media_bytes("image", f"foto {name} ".encode() * 200)
    for name in ("RESTRICTED", "SACRED", "REFUSED", "PUBLIC", "WITHDRAWN")
}
LATER_PHOTO = media_bytes("image", b"foto LATER " * 200)
NEVER_SHOWN = ("SACRED", "REFUSED", "WITHDRAWN")
GUARDED = ("RESTRICTED", "LATER")

CHOICES = """
| choices |
| | list_name | name | label |
| | ayllu | aransaya | Aransaya |
| | ayllu | manasaya | Manasaya |
| | dominio | medicina | Medicina |
| | dominio | agua | Agua |
| | consentimiento | otorgado | Otorgado |
| | consentimiento | negado | Negado |
| | consentimiento | pendiente | Pendiente |
| | nivel_acceso | publico | Público |
| | nivel_acceso | comunitario | Comunitario |
| | nivel_acceso | restringido | Restringido |
| | nivel_acceso | sagrado | Sagrado |
| | origen | intercambio | Intercambio |
| | origen | ancestral | Ancestral |
"""
HEAD = """
| survey |
| | type | name | label |
| | select_one ayllu | ayllu | Ayllu |
| | select_one dominio | dominio | Dominio |
| | date | fecha_registro | Fecha |
| | begin_group | consentimiento | Consentimiento |
| | select_one consentimiento | consentimiento_colectivo | Colectivo |
| | select_one consentimiento | consentimiento_individual | Individual |
| | end_group | | |
"""
LEVEL = "| | select_one nivel_acceso | nivel_acceso | Nivel |\n"
CONTENT = """| | geopoint | ubicacion | Ubicación |
| | begin_group | contenido | Contenido |
| | text | descripcion | Descripción |
| | select_one origen | origen | Origen |
| | text | origen_comunidad | Comunidad de origen |
| | image | foto | Foto |
| | end_group | | |
"""
SETTINGS = """
| settings |
| | form_id | version | form_title |
| | practica_saber | {version} | Documentación de práctica |
"""
# How the later version carries (or hides) the level.
LATER_LEVEL = {
    "original": LEVEL,
    "level_removed": "",
    "level_renamed": "| | select_one nivel_acceso | nivel | Nivel |\n",
    "level_in_group": (
        "| | begin_group | acceso | Acceso |\n"
        "| | select_one nivel_acceso | nivel_acceso | Nivel |\n"
        "| | end_group | | |\n"
    ),
}


def form_md(level_rows: str, version: str) -> str:
    return HEAD + level_rows + CONTENT + CHOICES + SETTINGS.format(version=version)


def _tag(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def instance_id_of(secret: str) -> str:
    """A record's instanceID, which says nothing of its content."""
    return f"uuid:00000000-0000-4000-8000-0000{_tag(secret)}"


def photo_name(secret: str) -> str:
    # One name per record: two records with the same file name would share a
    # name in an export's media/ folder, which is another matter.
    return f"foto-{_tag(secret)}.jpg"


def instance(
    instance_id: str,
    *,
    version: str,
    secret: str,
    level: str | None,
    level_xml: str | None = None,
    individual: str = "otorgado",
    photo: bool = True,
) -> bytes:
    level_xml = (
        level_xml
        if level_xml is not None
        else (f"<nivel_acceso>{level}</nivel_acceso>" if level else "")
    )
    return (
        f'<?xml version=\'1.0\' ?><data id="{FORM}" version="{version}">'
        "<ayllu>aransaya</ayllu><dominio>medicina</dominio>"
        "<fecha_registro>2025-10-15</fecha_registro>"
        "<consentimiento><consentimiento_colectivo>otorgado</consentimiento_colectivo>"
        f"<consentimiento_individual>{individual}</consentimiento_individual>"
        f"</consentimiento>{level_xml}"
        "<ubicacion>-19.0412 -68.0843 3650 5</ubicacion>"
        f"<contenido><descripcion>{secret}</descripcion><origen>intercambio</origen>"
        f"<origen_comunidad>{secret}</origen_comunidad>"
        f"<foto>{photo_name(secret) if photo else ''}</foto></contenido>"
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()


@dataclass
class Surfaces:
    app: Flask
    scenario: str
    tokens: dict[str, str]  # login -> session token
    instance_ids: dict[str, str]  # record kind -> instanceID
    tmp: Path

    def client(self, login: str):  # type: ignore[no-untyped-def]
        """A console client signed in as `login` (the session row the sign-in
        page would create, in the cookie it would set)."""
        client = self.app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = self.tokens[login]
            cookie["_fresh"] = True
        return client

    def api(self, login: str, path: str) -> bytes:
        response = self.app.test_client().get(
            path, headers={"Authorization": f"Bearer {self.tokens[login]}"}
        )
        assert response.status_code == 200, (path, response.data[:300])
        return response.data

    def cli(self, *args: str) -> str:
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output


def _settings(tmp: Path, template: str) -> Settings:
    if is_postgres():
        _truncate_all(template)
        url = template
    else:
        source = Path(sa.engine.make_url(template).database or "")
        shutil.copyfile(source, tmp / "ayni.sqlite3")
        url = f"sqlite:///{tmp / 'ayni.sqlite3'}"
    return Settings(
        instance_dir=tmp / "instance",
        app_env="test",
        database_url=url,
        blob_dir=tmp / "blobs",
        secret_key="test-secret-key",
        admin_password="clave-de-prueba-123",
        load_forms_on_start=False,
    )


def _build(app: Flask, scenario: str, tmp: Path) -> Surfaces:
    runtime = app.extensions["ayni"]
    people = {
        "analista": ("analyst", None),
        "coordinadora": ("manager", None),
        "guardiana": ("guardian", "aransaya"),
        "guardian_manasaya": ("guardian", "manasaya"),
    }
    ids: dict[str, str] = {}
    with runtime.db.transaction() as session:
        bootstrap(
            session,
            project_name="CdP Chipaya",
            admin_user="admin",
            admin_email="admin@localhost",
            admin_password="clave-de-prueba-123",
            admin_collect_enabled=False,
        )
        forms_service.publish_form(
            session,
            runtime.blobs,
            project_id=1,
            compiled=compile_markdown(form_md(LEVEL, "1")),
        )
        for login, (role, ayllu) in people.items():
            # No password: these people's sessions are made below.
            user = User(
                username=login, email=f"{login}@cdp.example", display_name=login
            )
            session.add(user)
            session.flush()
            roles.assign_role(
                session, role=role, user_id=user.id, project_id=1, ayllu=ayllu
            )
        app_users.create_app_user(session, project_id=1, display_name="Tableta")
    admin_ingest = _ingester(runtime)
    for kind, level, individual in (
        ("RESTRICTED", "restringido", "otorgado"),
        ("SACRED", "sagrado", "otorgado"),
        ("REFUSED", "publico", "negado"),
        ("WITHDRAWN", "publico", "otorgado"),
    ):
        secret = SECRETS[kind]
        ids[kind] = instance_id_of(secret)
        xml = instance(
            ids[kind], version="1", secret=secret, level=level, individual=individual
        )
        admin_ingest(xml, secret, PHOTO[kind])
    ids["PUBLIC"] = instance_id_of(PUBLIC)
    admin_ingest(
        instance(ids["PUBLIC"], version="1", secret=PUBLIC, level="publico"),
        PUBLIC,
        PHOTO["PUBLIC"],
    )
    with runtime.db.transaction() as session:
        admin = actor_for_user(session, accounts.find_user(session, "admin"))
        withdrawn = consent.find_governed_submission(session, 1, FORM, ids["WITHDRAWN"])
        consent.withdraw_consent(
            session,
            admin,
            project_id=1,
            layer="individual",
            submission_id=withdrawn.submission_id,
            reason="La portadora lo pidió",
        )
        forms_service.publish_form(
            session,
            runtime.blobs,
            project_id=1,
            compiled=compile_markdown(form_md(LATER_LEVEL[scenario], "2")),
        )
    later_level = {
        "original": "<nivel_acceso>restringido</nivel_acceso>",
        "level_removed": "",
        "level_renamed": "<nivel>publico</nivel>",
        "level_in_group": "<acceso><nivel_acceso>restringido</nivel_acceso></acceso>",
    }[scenario]
    secret = SECRETS["LATER"]
    ids["LATER"] = instance_id_of(secret)
    admin_ingest(
        instance(
            ids["LATER"], version="2", secret=secret, level=None, level_xml=later_level
        ),
        secret,
        LATER_PHOTO,
    )
    tokens = {}
    with runtime.db.transaction() as session:
        for login in ("admin", "guardiana", *people):
            user = accounts.find_user(session, login)
            tokens[login] = sessions.create_session(session, user).token
    return Surfaces(app, scenario, tokens, ids, tmp)


def _ingester(runtime) -> Callable[[bytes, str, bytes], None]:  # type: ignore[no-untyped-def]
    def send(xml: bytes, secret: str, photo: bytes) -> None:
        name = photo_name(secret)
        with runtime.db.transaction() as session:
            admin = actor_for_user(session, accounts.find_user(session, "admin"))
            ingest_submission(
                session,
                runtime.blobs,
                project_id=1,
                upload=Upload(xml=xml, parts={name: (name, io.BytesIO(photo))}),
                actor=admin,
            )

    return send


@pytest.fixture(scope="module", params=list(LATER_LEVEL))
def world(request, migrated_template, tmp_path_factory) -> Iterator[Surfaces]:
    tmp = tmp_path_factory.mktemp(f"surfaces-{request.param}")
    app = create_app(_settings(tmp, migrated_template))
    app.config["TESTING"] = True
    try:
        yield _build(app, request.param, tmp)
    finally:
        app.extensions["ayni"].db.dispose()


# --- reading what a surface gives ----------------------------------------------------


def readable(data: bytes) -> bytes:
    """The bytes to search: every member of a zip (CSV zip, XLSX), inflated."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b"\n".join(archive.read(name) for name in archive.namelist())
    return data


EXPORT_PATH = f"/v1/projects/1/forms/{FORM}/submissions"


def console_list(world: Surfaces, login: str) -> bytes:
    response = world.client(login).get(f"/projects/1/forms/{FORM}/submissions")
    assert response.status_code == 200
    return response.data


def console_detail(world: Surfaces, login: str) -> bytes:
    client = world.client(login)
    pages = []
    for kind, instance_id in world.instance_ids.items():
        response = client.get(f"/projects/1/forms/{FORM}/submissions/{instance_id}")
        assert response.status_code in (200, 404), kind
        pages.append(response.data if response.status_code == 200 else b"")
    return b"\n".join(pages)


def console_media(world: Surfaces, login: str) -> bytes:
    client = world.client(login)
    files = []
    for kind, instance_id in world.instance_ids.items():
        name = photo_name(SECRETS.get(kind, PUBLIC))
        response = client.get(
            f"/projects/1/forms/{FORM}/submissions/{instance_id}/attachments/{name}"
        )
        assert response.status_code in (200, 404)
        files.append(response.data if response.status_code == 200 else b"")
    return b"\n".join(files)


def dashboard(world: Surfaces, login: str) -> bytes:
    response = world.client(login).get("/projects/1/dashboard")
    assert response.status_code == 200
    return response.data


def console_export(world: Surfaces, login: str) -> bytes:
    client = world.client(login)
    page = client.get("/projects/1/exports").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/projects/1/exports",
        data={
            "form": FORM,
            "format": "csv.zip",
            "attachments": "1",
            "group_paths": "1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    return readable(response.data)


def api_export(fmt: str) -> Callable[[Surfaces, str], bytes]:
    def read(world: Surfaces, login: str) -> bytes:
        return readable(world.api(login, f"{EXPORT_PATH}.{fmt}"))

    read.__name__ = f"api_export_{fmt}"
    return read


def api_aggregates_json(world: Surfaces, login: str) -> bytes:
    return b"\n".join(
        world.api(login, f"/v1/projects/1/aggregates/{name}") for name in AGGREGATES
    )


def api_aggregates_csv(world: Surfaces, login: str) -> bytes:
    return b"\n".join(
        world.api(login, f"/v1/projects/1/aggregates/{name}.csv") for name in AGGREGATES
    )


def cli_export(world: Surfaces, login: str) -> bytes:
    found = []
    for fmt in ("csv.zip", "xlsx", "geojson", "jsonl"):
        out = world.tmp / f"{login}-{world.scenario}.{fmt}"
        world.cli("export", FORM, "--format", fmt, "--out", str(out), "--as", login)
        found.append(readable(out.read_bytes()))
    return b"\n".join(found)


def cli_aggregate(world: Surfaces, login: str) -> bytes:
    found = []
    for name in AGGREGATES:
        for fmt in ("json", "csv"):
            found.append(
                world.cli("aggregate", name, "--format", fmt, "--as", login).encode()
            )
    return b"\n".join(found)


# surface -> (reader, whether it shows record content at all)
SURFACES: dict[str, tuple[Callable[[Surfaces, str], bytes], bool]] = {
    "console list": (console_list, False),
    "console detail": (console_detail, True),
    "console media": (console_media, True),
    "dashboard": (dashboard, False),
    "console export csv.zip with media": (console_export, True),
    **{
        f"api export {fmt}": (api_export(fmt), True)
        for fmt in ("csv.zip", "csv", "xlsx", "geojson", "jsonl")
    },
    "api aggregates json": (api_aggregates_json, True),
    "api aggregates csv": (api_aggregates_csv, True),
    "cli export": (cli_export, True),
    "cli aggregate": (cli_aggregate, True),
}
# What of a record a content-bearing surface shows: exports and pages show
# descriptions; aggregates only the community an exchange came from; media
# surfaces only files.
MEDIA_SURFACES = {
    "console media",
    "console export csv.zip with media",
    "api export csv.zip",
}


def _markers(kind: str, surface: str) -> list[bytes]:
    found = [] if surface == "console media" else [SECRETS.get(kind, PUBLIC).encode()]
    # A marker from inside the photo, past the JPEG header all of them share.
    if surface in MEDIA_SURFACES and kind in PHOTO:
        found.append(PHOTO[kind][20:80])
    if surface in MEDIA_SURFACES and kind == "LATER":
        found.append(LATER_PHOTO[20:80])
    return found


@pytest.mark.parametrize("surface", list(SURFACES))
def test_no_surface_gives_protected_knowledge_to_a_non_guardian(world, surface):
    read, _shows_content = SURFACES[surface]
    for login in NON_GUARDIANS:
        seen = read(world, login)
        leaked = [
            (kind, marker)
            for kind in SECRETS
            for marker in _markers(kind, surface)
            if marker in seen
        ]
        assert leaked == [], (world.scenario, surface, login)


@pytest.mark.parametrize(
    "surface", [s for s, (_r, content) in SURFACES.items() if content]
)
def test_the_same_surface_shows_what_may_be_shown(world, surface):
    """The control: each surface does carry content, so the test above could
    not pass by showing nothing."""
    read, _content = SURFACES[surface]
    public = _markers("PUBLIC", surface)
    for login in (*NON_GUARDIANS, "guardiana"):
        seen = read(world, login)
        assert all(marker in seen for marker in public), (surface, login)
    guardian = read(world, "guardiana")
    for kind in GUARDED:
        assert all(marker in guardian for marker in _markers(kind, surface)), (
            world.scenario,
            surface,
            kind,
        )
    for kind in NEVER_SHOWN:
        assert not any(marker in guardian for marker in _markers(kind, surface)), (
            world.scenario,
            surface,
            kind,
        )


def test_what_may_only_be_counted_is_counted_in_the_list(world):
    page = console_list(world, "analista").decode()
    # RESTRICTED, SACRED (its minimal record) and LATER are counted, never
    # listed; REFUSED and WITHDRAWN are not even counted; PUBLIC is listed.
    assert "1 envíos." in page
    assert "3 registros de acceso restringido" in page


def test_the_exports_and_aggregates_say_so_in_the_audit_log_not_what_they_held(world):
    runtime = world.app.extensions["ayni"]
    with runtime.db.read() as session:
        details = json.dumps(
            [
                row.details
                for row in session.execute(sa.text("SELECT details FROM audit_log"))
            ],
            default=str,
        )
    assert not [secret for secret in SECRETS.values() if secret in details]
