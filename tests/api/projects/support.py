"""What the project and app-user tests share: Central's key sets, a snapshot
of everything these endpoints could store, and a submission sent by a tablet."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from app.db.models import AppUser, AuditLog, Form, Project, RoleAssignment
from app.runtime import Runtime
from tests.support import encuesta_xml, new_instance_id

# Central's Project (`components/schemas/Project` and the frame's readable
# fields) and its extended shape; pyODK's Project reads the same keys.
PROJECT_KEYS = {
    "id",
    "name",
    "description",
    "archived",
    "keyId",
    "createdAt",
    "updatedAt",
    "deletedAt",
}
EXTENDED_KEYS = {"appUsers", "forms", "lastSubmission", "datasets", "lastEntity"}
# Central's App User (a field key) and its extended shape.
APP_USER_KEYS = {
    "projectId",
    "id",
    "type",
    "displayName",
    "token",
    "createdAt",
    "updatedAt",
    "deletedAt",
}
EXTENDED_APP_USER_KEYS = {"createdBy", "lastUsed", "properties"}
ACTOR_KEYS = {"id", "type", "displayName", "createdAt", "updatedAt", "deletedAt"}
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def snapshot(runtime: Runtime) -> dict[str, Any]:
    """Every row these endpoints could add or change, to prove a refused
    request stored nothing."""
    with runtime.db.read() as session:
        return {
            "projects": session.execute(
                sa.select(
                    Project.id,
                    Project.name,
                    Project.description,
                    Project.archived,
                    Project.updated_at,
                    Project.deleted_at,
                ).order_by(Project.id)
            ).all(),
            "forms": session.execute(
                sa.select(Form.id, Form.state).order_by(Form.id)
            ).all(),
            "app_users": session.execute(
                sa.select(AppUser.id, AppUser.token, AppUser.revoked_at).order_by(
                    AppUser.id
                )
            ).all(),
            "grants": session.scalar(
                sa.select(sa.func.count()).select_from(RoleAssignment)
            ),
            "audit": session.scalar(sa.select(sa.func.count()).select_from(AuditLog)),
        }


def audit_entries(runtime: Runtime, action: str) -> list[AuditLog]:
    with runtime.db.read() as session:
        entries = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
        ).all()
        session.expunge_all()
        return list(entries)


def send_submission(client, project_id: int, token: str) -> None:  # type: ignore[no-untyped-def]
    """One submission of the test form, as Collect sends it with a token."""
    xml = encuesta_xml(new_instance_id(), foto=None)
    response = client.post(
        f"/v1/key/{token}/projects/{project_id}/submission",
        data={"xml_submission_file": (io.BytesIO(xml), "i.xml", "text/xml")},
        headers={"X-OpenRosa-Version": "1.0"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def problem(response, status: int, code: float) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The response is Central's problem with this status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == code, body
    assert body["message"] and body["detail"]
    return body  # type: ignore[no-any-return]
