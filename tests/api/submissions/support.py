"""Helpers of the submissions API tests: paths, sending XML and files as a
client of Central's API would, the CdP forms for governance, and reading
the database to prove nothing was half-stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from app.db.models import AuditLog, Comment
from app.forms import service as forms_service
from app.runtime import Runtime
from tests.integration.forms.instances import FORMS_DIR, build_instance
from tests.integration.governance.support import SCHEMAS, XML
from tests.support import counts

FORM = "encuesta"
Headers = dict[str, str]

# Central's keys, from central.yaml's schemas and lib/model/frames.
SUBMISSION_KEYS = {
    "instanceId",
    "submitterId",
    "deviceId",
    "userAgent",
    "reviewState",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "currentVersion",
}
VERSION_KEYS = {
    "instanceId",
    "instanceName",
    "submitterId",
    "deviceId",
    "userAgent",
    "createdAt",
    "current",
}
ACTOR_KEYS = {"id", "type", "displayName", "createdAt", "updatedAt", "deletedAt"}
COMMENT_KEYS = {"body", "actorId", "createdAt"}
AUDIT_KEYS = {"actorId", "action", "acteeId", "details", "loggedAt"}


def base(project_id: int, form: str = FORM) -> str:
    return f"/v1/projects/{project_id}/forms/{form}/submissions"


def one(project_id: int, instance_id: str, form: str = FORM) -> str:
    return f"{base(project_id, form)}/{instance_id}"


def post_xml(
    client: FlaskClient,
    headers: Headers,
    project_id: int,
    xml: bytes,
    form: str = FORM,
    **query: str,
):  # type: ignore[no-untyped-def]
    return client.post(
        base(project_id, form),
        data=xml,
        headers={**headers, "Content-Type": "application/xml"},
        query_string=query,
    )


def put_xml(
    client: FlaskClient,
    headers: Headers,
    project_id: int,
    instance_id: str,
    xml: bytes,
    form: str = FORM,
):  # type: ignore[no-untyped-def]
    return client.put(
        one(project_id, instance_id, form),
        data=xml,
        headers={**headers, "Content-Type": "text/xml"},
    )


def post_file(
    client: FlaskClient,
    headers: Headers,
    project_id: int,
    instance_id: str,
    name: str,
    data: bytes,
    form: str = FORM,
):  # type: ignore[no-untyped-def]
    return client.post(
        f"{one(project_id, instance_id, form)}/attachments/{name}",
        data=data,
        headers={**headers, "Content-Type": "image/jpeg"},
    )


def problem(response) -> float:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)[:300]
    return float(body["code"])


def is_iso(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("Z") and len(value) == 24


@dataclass(frozen=True)
class Snapshot:
    """Everything a failed request must leave as it was."""

    rows: dict[str, int]
    audits: int
    comments: int
    review: dict[str, str]


def snapshot(runtime: Runtime) -> Snapshot:
    with runtime.db.read() as session:
        audits = session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
        comments = session.scalar(sa.select(sa.func.count()).select_from(Comment))
        review = {
            instance_id: state
            for instance_id, state in session.execute(
                sa.text("SELECT instance_id, review_state FROM submissions")
            )
        }
    return Snapshot(counts(runtime), int(audits or 0), int(comments or 0), review)


def publish_cdp_forms(runtime: Runtime, project_id: int, *only: str) -> None:
    with runtime.db.transaction() as session:
        for compiled, media in forms_service.compiled_forms_in(FORMS_DIR):
            if not only or compiled.xml_form_id in only:
                forms_service.publish_form(
                    session,
                    runtime.blobs,
                    project_id=project_id,
                    compiled=compiled,
                    media=media,
                )


def practice_instance(
    *,
    level: str,
    ayllu: str = "aransaya",
    colectivo: str = "otorgado",
    individual: str = "otorgado",
    name: str = "Lameo de la pampa",
    extra: Mapping[str, str] | None = None,
) -> tuple[bytes, str, dict[str, bytes]]:
    """A documented practice as Collect would send it: XML, instanceID and
    the files it names (photos, audio, video)."""
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
            **(extra or {}),
        },
    )
    return built.xml, built.instance_id, dict(built.media)
