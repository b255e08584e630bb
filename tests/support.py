"""Test helpers shared by the suites: forms, instances, accounts, counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from lxml import etree

from app.auth import accounts, app_users
from app.auth.actors import actor_for_user
from app.db.models import Blob, Submission, SubmissionAttachment, SubmissionVersion
from app.forms import service as forms_service
from app.forms.compiler import compile_markdown
from app.projects import service as projects_service
from app.runtime import Runtime
from app.system.service import bootstrap

ADMIN_PASSWORD = "clave-de-prueba-123"

# A form with what Collect sends most: groups, a repeat with a photo inside, a
# top-level photo, a select, a geopoint.
ENCUESTA_MD = """
| survey |
| | type | name | label::Español (es) | label::English (en) |
| | text | nombre | Nombre | Name |
| | begin_group | lugar | Lugar | Place |
| | select_one ayllu | ayllu | Ayllu | Ayllu |
| | geopoint | ubicacion | Ubicación | Location |
| | end_group | | | |
| | image | foto | Foto | Photo |
| | begin_repeat | asistentes | Asistentes | Attendees |
| | text | asistente | Nombre | Name |
| | image | foto_asistente | Foto | Photo |
| | end_repeat | | | |
| choices |
| | list_name | name | label::Español (es) | label::English (en) |
| | ayllu | aransaya | Aransaya | Aransaya |
| | ayllu | manasaya | Manasaya | Manasaya |
| settings |
| | form_id | version | form_title | default_language |
| | encuesta | {version} | Encuesta de prueba | Español (es) |
"""


# The first bytes of the files a tablet sends for each kind of field: ingest
# checks a file's content against the field that names it.
MEDIA_MAGIC = {
    "image": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01",  # JPEG
    "audio": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom",  # M4A
    "video": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41",  # MP4
    "file": b"%PDF-1.7\n",
}


def media_bytes(kind: str, marker: bytes | str = b"", size: int = 2048) -> bytes:
    """Plausible bytes of a photo, recording, video or document, carrying
    `marker` (so a test can find them again) and padded to `size`."""
    if isinstance(marker, str):
        marker = marker.encode()
    body = MEDIA_MAGIC[kind] + marker
    return body + bytes(max(0, size - len(body)))


JPEG = media_bytes("image", b"foto")


def encuesta_md(version: str = "2026112401") -> str:
    return ENCUESTA_MD.replace("{version}", version)


def new_instance_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def encuesta_xml(
    instance_id: str,
    *,
    version: str = "2026112401",
    nombre: str = "Juana",
    foto: str | None = "1732455064123.jpg",
    asistentes: tuple[tuple[str, str | None], ...] = (("Pedro", None),),
    deprecated_id: str | None = None,
    form_id: str = "encuesta",
) -> bytes:
    """Instance XML written the way Collect writes it."""
    root = etree.Element("data", id=form_id, version=version)
    etree.SubElement(root, "nombre").text = nombre
    lugar = etree.SubElement(root, "lugar")
    etree.SubElement(lugar, "ayllu").text = "aransaya"
    etree.SubElement(lugar, "ubicacion").text = "-19.0412 -68.0843 3650 5"
    etree.SubElement(root, "foto").text = foto
    for name, photo in asistentes:
        rep = etree.SubElement(root, "asistentes")
        etree.SubElement(rep, "asistente").text = name
        etree.SubElement(rep, "foto_asistente").text = photo
    meta = etree.SubElement(root, "meta")
    etree.SubElement(meta, "instanceID").text = instance_id
    if deprecated_id:
        etree.SubElement(meta, "deprecatedID").text = deprecated_id
    return b"<?xml version='1.0' ?>" + etree.tostring(root)


@dataclass(frozen=True)
class Seeded:
    project_id: int
    admin_id: int
    token: str  # an app user's token in the default project


def seed(runtime: Runtime, *, md: str | None = None, media=None) -> Seeded:  # type: ignore[no-untyped-def]
    """Default project + admin + the test form + one app user."""
    with runtime.db.transaction() as session:
        bootstrap(
            session,
            project_name="CdP Chipaya",
            admin_user="admin",
            admin_email="admin@localhost",
            admin_password=ADMIN_PASSWORD,
            admin_collect_enabled=True,
        )
        project = projects_service.default_project(session)
        admin = accounts.find_user(session, "admin")
        assert admin is not None
        forms_service.publish_form(
            session,
            runtime.blobs,
            project_id=project.id,
            compiled=compile_markdown(md or encuesta_md()),
            media=media,
        )
        app_user = app_users.create_app_user(
            session, project_id=project.id, display_name="Tableta 1"
        )
        return Seeded(project.id, admin.id, app_user.token)


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.db.read() as session:
        return {
            model.__tablename__: session.scalar(
                sa.select(sa.func.count()).select_from(model)
            )
            for model in (Submission, SubmissionVersion, SubmissionAttachment, Blob)
        }


def admin_actor(session):  # type: ignore[no-untyped-def]
    """The seeded site admin as an actor (for services that take one)."""
    admin = accounts.find_user(session, "admin")
    assert admin is not None
    return actor_for_user(session, admin)
