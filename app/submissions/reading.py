"""Reading submissions in the console: forms with their counts, the filtered
and paged list, one submission's detail (answers, files, edit history,
comments) and its files.

Everything comes from governance's one read (`app.governance.visibility`): a
record the viewer may not know of does not exist here, one they may only
count is counted and never listed or opened, and a restricted record answers
a non-guardian exactly as a missing one does (404). Who may read is the
permission table's: `submission.list` for lists, `submission.read` for a
record. Services take the session first; no Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth import permissions
from app.db.models import AppUser, Comment, Form, Submission, User
from app.forms import service as forms_service
from app.forms.xform import FormSchema
from app.governance.records import Attachment, RecordFilter, SubmissionRecord
from app.governance.visibility import (
    RecordPage,
    VersionRecord,
    Viewer,
    form_is_governed,
    governed_count,
    governed_page,
    governed_record,
    governed_versions,
)
from app.submissions.diff import Change, changes
from app.submissions.errors import AttachmentNotFoundError, ReviewInputError

# "edited" is set by ingest when a tablet sends an edit; people set the others.
REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Submitter:
    key: str  # "u<id>" or "a<id>", as `submitter_filter` takes it
    name: str
    kind: str  # "user" | "field_key"


@dataclass(frozen=True)
class FormSummary:
    form_id: int
    xml_form_id: str
    title: str
    state: str
    version: str
    governed: bool
    submissions: int  # visible to this viewer (counted ones included)
    last_submission_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class VersionEntry:
    version: VersionRecord
    changes: tuple[Change, ...] = ()  # against the version before; () for the first


@dataclass(frozen=True)
class CommentEntry:
    body: str
    author_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class SubmissionDetail:
    project_id: int
    xml_form_id: str
    form_title: str
    record: SubmissionRecord
    schema: FormSchema
    governed: bool
    attachments: tuple[Attachment, ...] = ()
    versions: list[VersionEntry] = field(default_factory=list)
    comments: list[CommentEntry] = field(default_factory=list)


def submitter_filter(key: str | None) -> dict[str, int | None]:
    """`RecordFilter` arguments for a submitter key ("u<id>" or "a<id>").

    Raises: ReviewInputError.
    """
    if not key:
        return {}
    kind, raw = key[:1], key[1:]
    if not (raw.isascii() and raw.isdigit()) or kind not in ("u", "a") or len(raw) > 9:
        raise ReviewInputError(
            "Filtro de remitente no válido.", "Invalid submitter filter."
        )
    name = "submitter_user_id" if kind == "u" else "submitter_app_user_id"
    return {name: int(raw)}


def _check_filter(wanted: RecordFilter) -> None:
    unknown = set(wanted.review_states) - set(REVIEW_STATES)
    if unknown:
        raise ReviewInputError(
            f"Estado de revisión desconocido: {', '.join(sorted(unknown))}.",
            f"Unknown review state: {', '.join(sorted(unknown))}.",
        )


def form_summaries(
    session: Session, project_id: int, viewer: Viewer
) -> list[FormSummary]:
    """The project's published forms with the submissions this viewer may know
    of (hidden records are not counted) and the last one's date.

    Raises: PermissionDeniedError.
    """
    permissions.require(viewer.actor, "project.read", permissions.Project(project_id))
    may_list = permissions.can(
        viewer.actor, "submission.list", permissions.Project(project_id)
    )
    summaries = []
    for form, version in forms_service.list_forms(session, project_id):
        count, last = governed_count(session, viewer, form) if may_list else (0, None)
        summaries.append(
            FormSummary(
                form_id=form.id,
                xml_form_id=form.xml_form_id,
                title=form.title,
                state=form.state,
                version=version.version,
                governed=form_is_governed(session, form.id),
                submissions=count,
                last_submission_at=last,
                updated_at=form.updated_at or form.created_at,
            )
        )
    return summaries


def list_submitters(
    session: Session, project_id: int, xml_form_id: str, viewer: Viewer
) -> list[Submitter]:
    """Who sent submissions to the form (names only), for the filter.

    Raises: FormNotFoundError, PermissionDeniedError.
    """
    permissions.require(
        viewer.actor, "submission.list", permissions.Project(project_id)
    )
    form = forms_service.get_form(session, project_id, xml_form_id)
    users = session.execute(
        sa.select(User.id, User.display_name)
        .join(Submission, Submission.submitter_user_id == User.id)
        .where(Submission.form_id == form.id)
        .distinct()
    ).all()
    tablets = session.execute(
        sa.select(AppUser.id, AppUser.display_name)
        .join(Submission, Submission.submitter_app_user_id == AppUser.id)
        .where(Submission.form_id == form.id)
        .distinct()
    ).all()
    found = [Submitter(f"u{i}", name, "user") for i, name in users]
    found += [Submitter(f"a{i}", name, "field_key") for i, name in tablets]
    return sorted(found, key=lambda s: (s.name.casefold(), s.key))


def list_submissions(
    session: Session,
    project_id: int,
    xml_form_id: str,
    viewer: Viewer,
    wanted: RecordFilter | None = None,
    *,
    page: int = 1,
    per_page: int = 25,
) -> RecordPage:
    """One page of the form's submissions as this viewer may see them, newest
    first. Records governance reduces to a count are counted in `counted`,
    never listed.

    Raises: FormNotFoundError, PermissionDeniedError, ReviewInputError.
    """
    permissions.require(
        viewer.actor, "submission.list", permissions.Project(project_id)
    )
    wanted = wanted or RecordFilter()
    _check_filter(wanted)
    form = forms_service.get_form(session, project_id, xml_form_id)
    return governed_page(
        session,
        viewer,
        form,
        wanted,
        page=max(1, page),
        per_page=max(1, min(per_page, MAX_PER_PAGE)),
    )


def readable_record(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> tuple[Form, SubmissionRecord]:
    """A live record the viewer may read in full, with its files.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    permissions.require(
        viewer.actor, "submission.read", permissions.Project(project_id)
    )
    form = forms_service.get_form(session, project_id, xml_form_id)
    return form, governed_record(session, viewer, form, instance_id)


def _versions(
    session: Session, viewer: Viewer, form: Form, record: SubmissionRecord
) -> list[VersionEntry]:
    entries: list[VersionEntry] = []
    previous = None
    for version in governed_versions(session, viewer, form, record):
        diff = (
            changes(previous, version.values)
            if previous is not None and version.values is not None
            else ()
        )
        entries.append(VersionEntry(version, diff))
        # A hidden version's values never serve as the base of a shown diff.
        previous = version.values
    return entries


def _comments(session: Session, submission_id: int) -> list[CommentEntry]:
    rows = session.execute(
        sa.select(Comment.body, User.display_name, Comment.created_at)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.submission_id == submission_id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    return [CommentEntry(body, name, created) for body, name, created in rows]


def get_submission_detail(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> SubmissionDetail:
    """Everything the detail page shows, after governance.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    version = forms_service.get_version(session, form, record.form_version)
    return SubmissionDetail(
        project_id=project_id,
        xml_form_id=form.xml_form_id,
        form_title=form.title,
        record=record,
        schema=forms_service.schema_of(version),
        governed=form_is_governed(session, form.id),
        attachments=record.attachments,
        versions=_versions(session, viewer, form, record),
        comments=_comments(session, record.submission_id),
    )


def attachment_for(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    name: str,
    viewer: Viewer,
) -> Attachment:
    """A received file of the current version, if this viewer may read the
    record in full (media of restricted knowledge is content too).

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError,
        AttachmentNotFoundError.
    """
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    for attachment in record.attachments:
        if attachment.name == name and attachment.present:
            return attachment
    raise AttachmentNotFoundError()
