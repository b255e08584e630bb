"""A CdP project with the four real forms, people in every governance role and
helpers to ingest hand-shaped but plausible submissions.

Instances come from `tests.integration.forms.instances.build_instance` (what
Collect would send for the compiled form), then repeat entries are set to the
values a test needs, so figures can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from lxml import etree

from app.auth import accounts, roles
from app.auth.actors import Actor, actor_for_app_user, actor_for_user
from app.db.models import AppUser, User
from app.forms import service as forms_service
from app.forms.xform import FormSchema, parse_xform
from app.governance.visibility import Viewer
from app.runtime import Runtime
from app.submissions.service import Upload, ingest_submission
from tests.integration.forms.instances import FORMS_DIR, build_instance
from tests.support import seed

FORM_IDS = ("necesidades_ayllu", "practica_saber", "reunion_cdp", "registro_actor")
XML = {form_id: (FORMS_DIR / f"{form_id}.xml").read_bytes() for form_id in FORM_IDS}
SCHEMAS: dict[str, FormSchema] = {f: parse_xform(x) for f, x in XML.items()}
VIEWER_KINDS = ("anonimo", "tableta", "miembro", "admin", "guardian", "guardian_otro")
GUARDED_AYLLU = "aransaya"
OTHER_AYLLU = "manasaya"

RepeatSpec = Sequence[Mapping[str, str | None]]


@dataclass(frozen=True)
class World:
    project_id: int
    admin_id: int
    actors: dict[str, Actor | None]  # viewer kind -> actor (None: anonymous)

    def viewer(self, kind: str) -> Viewer:
        return Viewer(actor=self.actors[kind], project_id=self.project_id)


def _user(session, username: str) -> User:  # type: ignore[no-untyped-def]
    # No password: hashing is slow and these people never sign in here.
    user = User(
        username=username, email=f"{username}@cdp.example", display_name=username
    )
    session.add(user)
    session.flush()
    return user


def make_world(runtime: Runtime) -> World:
    """The default project with the CdP forms, an analyst, guardians of two
    ayllus, the site admin and a tablet."""
    seeded = seed(runtime)
    with runtime.db.transaction() as session:
        for compiled, media in forms_service.compiled_forms_in(FORMS_DIR):
            forms_service.publish_form(
                session,
                runtime.blobs,
                project_id=seeded.project_id,
                compiled=compiled,
                media=media,
            )
        analyst = _user(session, "analista")
        guardian = _user(session, "guardiana")
        other = _user(session, "guardian_manasaya")
        grants = [
            (analyst, "analyst", None),
            (guardian, "guardian", GUARDED_AYLLU),
            (other, "guardian", OTHER_AYLLU),
        ]
        for user, role, ayllu in grants:
            roles.assign_role(
                session,
                role=role,
                user_id=user.id,
                project_id=seeded.project_id,
                ayllu=ayllu,
            )
        admin = accounts.find_user(session, "admin")
        app_user = session.scalars(
            sa.select(AppUser).where(AppUser.token == seeded.token)
        ).one()
        assert admin is not None
        actors: dict[str, Actor | None] = {
            "anonimo": None,
            "tableta": actor_for_app_user(session, app_user),
            "miembro": actor_for_user(session, analyst),
            "admin": actor_for_user(session, admin),
            "guardian": actor_for_user(session, guardian),
            "guardian_otro": actor_for_user(session, other),
        }
    return World(seeded.project_id, seeded.admin_id, actors)


def instance_xml(
    form_id: str,
    overrides: Mapping[str, str] | None = None,
    repeats: Mapping[str, RepeatSpec] | None = None,
) -> tuple[bytes, str]:
    """A plausible instance of a CdP form with the given answers; each repeat
    in `repeats` gets exactly those entries (None removes a child element)."""
    repeats = repeats or {}
    count = max([1, *(len(entries) for entries in repeats.values())])
    built = build_instance(SCHEMAS[form_id], XML[form_id], overrides, top_repeats=count)
    root = etree.fromstring(built.xml)
    for path, entries in repeats.items():
        found = root.findall(path)
        assert found, f"{form_id} built no {path}"
        parent = found[0].getparent()
        assert parent is not None
        template = found[0]
        for extra in found[len(entries) :]:
            parent.remove(extra)
        while len(root.findall(path)) < len(entries):
            copy = etree.fromstring(etree.tostring(template))
            parent.insert(parent.index(root.findall(path)[-1]) + 1, copy)
        for element, entry in zip(root.findall(path), entries, strict=True):
            for name, value in entry.items():
                child = element.find(name)
                if value is None:
                    if child is not None:
                        element.remove(child)
                    continue
                if child is None:
                    child = etree.SubElement(element, name)
                child.text = value
    xml = b"<?xml version='1.0' ?>" + etree.tostring(root, encoding="utf-8")
    return xml, built.instance_id


def ingest(
    runtime: Runtime,
    project_id: int,
    form_id: str,
    overrides: Mapping[str, str] | None = None,
    repeats: Mapping[str, RepeatSpec] | None = None,
) -> int:
    """Ingest one instance as the admin would send it; returns the submission id."""
    xml, _instance_id = instance_xml(form_id, overrides, repeats)
    with runtime.db.transaction() as session:
        admin = accounts.find_user(session, "admin")
        assert admin is not None
        result = ingest_submission(
            session,
            runtime.blobs,
            project_id=project_id,
            upload=Upload(xml=xml),
            actor=actor_for_user(session, admin),
        )
        return result.submission.id


def practice(
    runtime: Runtime,
    project_id: int,
    *,
    level: str | None,
    ayllu: str = GUARDED_AYLLU,
    colectivo: str = "otorgado",
    individual: str = "otorgado",
    dominio: str = "medicina",
    origen: str = "ancestral",
    fecha: str = "2025-10-15",
    extra: Mapping[str, str] | None = None,
) -> int:
    """One documented practice; `level=None` leaves `nivel_acceso` empty."""
    overrides = {
        "ayllu": ayllu,
        "dominio": dominio,
        "fecha_registro": fecha,
        "nivel_acceso": level or "",
        "consentimiento/consentimiento_colectivo": colectivo,
        "consentimiento/consentimiento_individual": individual,
        "contenido/origen": origen,
        **(extra or {}),
    }
    return ingest(runtime, project_id, "practica_saber", overrides)
