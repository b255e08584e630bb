"""A record's edit history as ODK Central serves it: its versions (metadata,
XML, files) and what each edit changed.

A record is addressed by its first instanceID, a version by its own. Both go
through governance: the record must be one the viewer reads in full
(`app.governance.visibility.governed_record`), and each version is judged on
its own values (an older version may have had another level or ayllu): one
the viewer may not read in full is listed with its metadata only (no
instanceName), and its XML, files and diffs answer as missing ones.
Services take the session first; no Flask here.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.models import FormVersion, SubmissionVersion
from app.forms import service as forms_service
from app.governance.records import Attachment
from app.governance.visibility import (
    SubmissionNotFoundError,
    Viewer,
    governed_history_xml,
    governed_version_files,
    governed_version_xml,
    governed_versions,
)
from app.submissions.diff import central_diffs
from app.submissions.errors import AttachmentNotFoundError
from app.submissions.reading import (
    VersionInfo,
    actor_infos,
    actor_key,
    describe_version,
    readable_record,
)


def list_versions(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> list[VersionInfo]:
    """Every version of a record the viewer reads in full, newest first.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    hidden = {
        version.instance_id
        for version in governed_versions(session, viewer, form, record)
        if version.content_hidden
    }
    rows = session.execute(
        sa.select(SubmissionVersion, FormVersion.version)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .where(SubmissionVersion.submission_id == record.submission_id)
        .order_by(SubmissionVersion.created_at.desc(), SubmissionVersion.id.desc())
    ).all()
    found = list(rows)
    keys = [actor_key(v.submitter_user_id, v.submitter_app_user_id) for v, _ in found]
    actors = actor_infos(
        session,
        {k[1] for k in keys if k and k[0] == "user"},
        {k[1] for k in keys if k and k[0] == "field_key"},
    )
    return [
        describe_version(v, form_version, actors, hidden=v.instance_id in hidden)
        for v, form_version in found
    ]


def get_version(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    version_id: str,
    viewer: Viewer,
) -> VersionInfo:
    """One version of a record the viewer reads in full.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    for version in list_versions(session, project_id, xml_form_id, instance_id, viewer):
        if version.instance_id == version_id:
            return version
    raise SubmissionNotFoundError()


def version_xml(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    version_id: str,
    viewer: Viewer,
) -> bytes:
    """One version's XML, exactly as stored.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    return governed_version_xml(session, viewer, form, record, version_id)


def version_attachments(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    version_id: str,
    viewer: Viewer,
) -> tuple[Attachment, ...]:
    """The files one version names, received or not, by name.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    return governed_version_files(session, viewer, form, record, version_id)


def version_attachment(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    version_id: str,
    name: str,
    viewer: Viewer,
) -> Attachment:
    """A received file of one version.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError,
        AttachmentNotFoundError.
    """
    for attachment in version_attachments(
        session, project_id, xml_form_id, instance_id, version_id, viewer
    ):
        if attachment.name == name and attachment.present:
            return attachment
    raise AttachmentNotFoundError()


def repeat_paths(session: Session, form_id: int) -> frozenset[str]:
    """Every repeat any version of the form ever had."""
    return frozenset(
        field.path
        for schema in forms_service.version_schemas(session, form_id)
        for field in schema.fields
        if field.kind == "repeat"
    )


def diffs(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> dict[str, list[dict[str, Any]]]:
    """Central's diffs of a record: for each later version the viewer reads
    in full, what changed from the one before (if they read that one too).

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    history = governed_history_xml(session, viewer, form, record)
    return central_diffs(history, repeat_paths(session, form.id))
