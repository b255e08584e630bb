"""Edits under the rules (domain.md §4): opening a governed record up (a less
strict level or consent, another ayllu) needs the guardian of its ayllu, over
the OpenRosa route a tablet uses; everyone else gets a 403 that says why in
Spanish and English, and nothing is stored. Tightening is always allowed.
Every change of level, consent or ayllu is its own audit entry, and files never
follow an edit across a change of level."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from lxml import etree

from app.auth import accounts, roles
from app.db.models import AuditLog, Blob, Submission, SubmissionVersion
from app.governance import consent
from tests.integration.forms.instances import build_instance
from tests.integration.governance.support import SCHEMAS, XML
from tests.support import admin_actor
from tests.web.support import PASSWORD, WebWorld, make_web_world

OPENROSA = {"X-OpenRosa-Version": "1.0"}
NS = "{http://openrosa.org/http/response}"
GUARDED, OTHER = "aransaya", "manasaya"
SECRET = "remedio-de-la-abuela-7731"


@dataclass(frozen=True)
class Sent:
    instance_id: str
    xml: bytes
    media: dict[str, bytes]


@pytest.fixture
def world(runtime) -> WebWorld:
    built = make_web_world(runtime)
    with runtime.db.transaction() as session:
        # Guardians who also collect data: their refusal (or not) below is the
        # knowledge rule's, not a missing right to submit.
        for name in ("guardiana", "guardian_manasaya"):
            roles.assign_role(
                session,
                role="data_collector",
                user_id=built.user_ids[name],
                project_id=built.project_id,
            )
    return built


def bearer(client, login: str) -> dict[str, str]:
    password = PASSWORD if login != "admin" else "clave-de-prueba-123"
    response = client.post("/v1/sessions", json={"email": login, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


class Sender:
    """Who sends: the tablet (its token URL) or a person (a Bearer session,
    opened once, before anything is measured)."""

    def __init__(self, client, world: WebWorld, who: str) -> None:  # type: ignore[no-untyped-def]
        self.client, self.world, self.who = client, world, who
        self.headers = {} if who == "tableta" else bearer(client, who)

    def post(self, xml: bytes, files=None):  # type: ignore[no-untyped-def]
        return post(self.client, self.world, self.who, xml, files, self.headers)


def post(client, world: WebWorld, who: str, xml: bytes, files=None, headers=None):  # type: ignore[no-untyped-def]
    data: dict = {"xml_submission_file": (io.BytesIO(xml), "s.xml", "text/xml")}
    for name, content in (files or {}).items():
        data[name] = (io.BytesIO(content), name, "application/octet-stream")
    if who == "tableta":
        path = f"/v1/key/{world.token}/projects/{world.project_id}/submission"
        headers = {}
    else:
        path = f"/v1/projects/{world.project_id}/submission"
        headers = headers if headers is not None else bearer(client, who)
    return client.post(
        path,
        data=data,
        headers={**OPENROSA, **headers},
        content_type="multipart/form-data",
    )


def practice(client, world: WebWorld, **answers: str) -> Sent:
    """A practice sent by the tablet with its photos, audio and video."""
    defaults = {
        "ayllu": GUARDED,
        "nivel_acceso": "restringido",
        "consentimiento/consentimiento_colectivo": "otorgado",
        "consentimiento/consentimiento_individual": "otorgado",
        "contenido/descripcion": SECRET,
        "fecha_registro": "2025-10-15",
    }
    built = build_instance(
        SCHEMAS["practica_saber"], XML["practica_saber"], {**defaults, **answers}
    )
    response = post(client, world, "tableta", built.xml, built.media)
    assert response.status_code == 201, response.get_data(as_text=True)
    return Sent(built.instance_id, built.xml, dict(built.media))


def edit_of(sent: Sent, **answers: str) -> tuple[bytes, str]:
    """The record as Collect sends an edit: a new instanceID, the old one as
    deprecatedID, the given answers changed and every file name kept."""
    root = etree.fromstring(sent.xml)
    for path, value in answers.items():
        element = root.find(path)
        assert element is not None, path
        element.text = value
    new_id = f"uuid:{uuid.uuid4()}"
    meta = root.find("meta")
    assert meta is not None
    meta.find("instanceID").text = new_id  # type: ignore[union-attr]
    deprecated = meta.find("deprecatedID")
    if deprecated is None:
        deprecated = etree.SubElement(meta, "deprecatedID")
    deprecated.text = sent.instance_id
    return b"<?xml version='1.0' ?>" + etree.tostring(root, encoding="utf-8"), new_id


def state(runtime) -> dict[str, object]:
    with runtime.db.read() as session:
        return {
            "versions": session.scalar(sa.select(sa.func.count(SubmissionVersion.id))),
            "blobs": session.scalar(sa.select(sa.func.count(Blob.id))),
            "audit": session.scalar(sa.select(sa.func.count(AuditLog.id))),
            "current": sorted(
                session.scalars(
                    sa.select(SubmissionVersion.instance_id).where(
                        SubmissionVersion.current.is_(True)
                    )
                )
            ),
        }


def audit_entries(runtime, action: str) -> list[AuditLog]:
    with runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(AuditLog)
                .where(AuditLog.action == action)
                .order_by(AuditLog.id)
            )
        )


def assert_refused(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 403
    assert response.mimetype == "text/xml"
    message = etree.fromstring(response.data).find(f"{NS}message")
    assert message is not None
    assert message.get("nature") == "error"
    # Spanish first, then English: Collect shows it verbatim.
    assert "custodia" in message.text and "guardian" in message.text
    assert message.text.index("custodia") < message.text.index("guardian")
    assert "No se guardó nada" in message.text


# --- opening up: refused to everyone but the ayllu's guardian ------------------------

OPENING = {
    "a looser level": {"nivel_acceso": "publico"},
    "a looser level, one step": {"nivel_acceso": "comunitario"},
    "another ayllu": {"ayllu": OTHER},
    "a looser level and another ayllu": {"nivel_acceso": "publico", "ayllu": OTHER},
}
NOT_GUARDIANS = ["tableta", "recolectora", "guardian_manasaya", "coordinadora", "admin"]


@pytest.mark.parametrize("who", NOT_GUARDIANS)
@pytest.mark.parametrize("change", list(OPENING), ids=list(OPENING))
def test_an_edit_opening_a_record_up_is_refused_to_all_but_its_guardian(
    client, runtime, world, who, change
):
    sent = practice(client, world)
    sender = Sender(client, world, who)
    before = state(runtime)

    xml, _new_id = edit_of(sent, **OPENING[change])
    # The attack of an edit naming the old files without their bytes: nothing
    # of the restricted media may come out of it.
    response = sender.post(xml)

    assert_refused(response)
    assert state(runtime) == before
    assert audit_entries(runtime, "submission.update") == []


def test_a_looser_consent_is_opening_up_too(client, runtime, world):
    sent = practice(
        client, world, **{"consentimiento/consentimiento_colectivo": "pendiente"}
    )
    before = state(runtime)
    xml, _ = edit_of(sent, **{"consentimiento/consentimiento_colectivo": "otorgado"})

    assert_refused(post(client, world, "tableta", xml))
    assert state(runtime) == before


def test_an_edit_cannot_move_a_record_out_of_a_withdrawn_ayllu(client, runtime, world):
    sent = practice(client, world, nivel_acceso="publico")
    with runtime.db.transaction() as session:
        consent.withdraw_consent(
            session,
            admin_actor(session),
            project_id=world.project_id,
            layer="colectivo",
            ayllu=GUARDED,
            reason="Decisión del Chawkh Parla (acta 4)",
        )
    senders = [
        Sender(client, world, w) for w in ("tableta", "guardian_manasaya", "admin")
    ]
    before = state(runtime)
    xml, _ = edit_of(sent, ayllu=OTHER)

    for sender in senders:
        assert_refused(sender.post(xml))
    assert state(runtime) == before


@pytest.mark.parametrize(
    "spelling", [" Publico ", "PÚBLICO", "publico"], ids=["spaces", "upper", "plain"]
)
def test_no_spelling_of_a_looser_level_gets_past(client, runtime, world, spelling):
    sent = practice(client, world)
    before = state(runtime)
    xml, _ = edit_of(sent, nivel_acceso=spelling)
    assert_refused(post(client, world, "tableta", xml))
    assert state(runtime) == before


# --- what a guardian of the ayllu may do ---------------------------------------------


def test_the_guardian_of_the_ayllu_opens_a_record_up_and_the_audit_says_so(
    client, runtime, world
):
    sent = practice(client, world)
    xml, new_id = edit_of(sent, nivel_acceso="publico")

    response = post(client, world, "guardiana", xml)

    assert response.status_code == 201, response.get_data(as_text=True)
    changes = audit_entries(runtime, "submission.update.access_level")
    assert [(e.details["from"], e.details["to"]) for e in changes] == [
        ("restringido", "publico")
    ]
    assert changes[0].actor_user_id == world.user_ids["guardiana"]
    assert changes[0].details["instance_id"] == new_id


def test_files_never_follow_an_edit_across_a_change_of_level(client, runtime, world):
    sent = practice(client, world)
    xml, new_id = edit_of(sent, nivel_acceso="publico")
    assert post(client, world, "guardiana", xml).status_code == 201
    with runtime.db.read() as session:
        version = session.scalars(
            sa.select(SubmissionVersion).where(SubmissionVersion.instance_id == new_id)
        ).one()
        present = session.scalar(
            sa.text(
                "SELECT COUNT(blob_id) FROM submission_attachments "
                "WHERE submission_version_id = :v"
            ),
            {"v": version.id},
        )
    # The edit names every file of the restricted record: none is published
    # by it; the guardian resends the ones meant to be public.
    assert present == 0

    again = post(client, world, "guardiana", xml, sent.media)
    assert again.status_code == 201
    with runtime.db.read() as session:
        present = session.scalar(
            sa.text(
                "SELECT COUNT(blob_id) FROM submission_attachments "
                "WHERE submission_version_id = :v"
            ),
            {"v": version.id},
        )
    assert present == len(sent.media)


def test_a_same_level_edit_keeps_the_files_it_names(client, runtime, world):
    sent = practice(client, world)
    xml, _new_id = edit_of(sent, **{"contenido/nombre_local": "Lameo, corregido"})

    response = post(client, world, "tableta", xml)

    assert response.status_code == 201
    with runtime.db.read() as session:
        current = session.scalars(
            sa.select(Submission).where(Submission.instance_id == sent.instance_id)
        ).one()
        present = session.scalar(
            sa.text(
                "SELECT COUNT(blob_id) FROM submission_attachments "
                "WHERE submission_version_id = :v"
            ),
            {"v": current.current_version_id},
        )
    assert present == len(sent.media)
    assert audit_entries(runtime, "submission.update.access_level") == []


# --- tightening: anyone who may submit ------------------------------------------------


def test_a_tightening_edit_is_always_allowed_and_audited(client, runtime, world):
    sent = practice(client, world, nivel_acceso="publico")
    xml, _ = edit_of(sent, nivel_acceso="restringido")

    response = post(client, world, "tableta", xml)

    assert response.status_code == 201
    [entry] = audit_entries(runtime, "submission.update.access_level")
    assert (entry.details["from"], entry.details["to"]) == ("publico", "restringido")
    assert entry.actor_app_user_id is not None


def test_withdrawing_consent_in_an_edit_is_allowed_and_drops_the_content(
    client, runtime, world
):
    sent = practice(client, world, nivel_acceso="publico")
    xml, new_id = edit_of(
        sent, **{"consentimiento/consentimiento_individual": "negado"}
    )

    assert post(client, world, "tableta", xml).status_code == 201

    [entry] = audit_entries(runtime, "submission.update.consent")
    assert entry.details == {
        "instance_id": new_id,
        "layer": "individual",
        "from": "otorgado",
        "to": "negado",
    }
    with runtime.db.read() as session:
        stored = session.scalars(
            sa.select(SubmissionVersion).where(SubmissionVersion.instance_id == new_id)
        ).one()
        assert SECRET.encode() not in stored.xml
        assert "contenido" not in stored.field_values


def test_an_ayllu_change_by_its_guardian_is_audited_with_both_ayllus(
    client, runtime, world
):
    sent = practice(client, world)
    xml, _ = edit_of(sent, ayllu=OTHER)

    assert post(client, world, "guardiana", xml).status_code == 201

    [entry] = audit_entries(runtime, "submission.update.ayllu")
    assert (entry.details["from"], entry.details["to"]) == (GUARDED, OTHER)


def test_a_guardian_of_the_record_but_not_a_collector_still_cannot_submit(
    client, runtime, world
):
    # Custody is about reading and opening up; submitting is another right.
    with runtime.db.transaction() as session:
        roles.revoke_role(
            session,
            role="data_collector",
            user_id=world.user_ids["guardiana"],
            project_id=world.project_id,
        )
        assert accounts.find_user(session, "guardiana") is not None
    sent = practice(client, world)
    xml, _ = edit_of(sent, nivel_acceso="publico")
    response = post(client, world, "guardiana", xml)
    assert response.status_code == 403
    assert b"enviar datos" in response.data
