"""Reading submissions in the console: forms with their counts, the filtered
and paged list, one submission's detail (answers, files, edit history,
comments) and its files.

Everything comes from governance's one read (`app.governance.visibility`): a
record the viewer may not know of does not exist here, one they may only
count is counted and never listed or opened, and a restricted record answers
a non-guardian exactly as a missing one does (404). Who may read is the
permission table's: `submission.list` for lists, `submission.read` for a
record. Services take the session first; no Flask here.

The REST API reads the same way (`SubmissionInfo`, `VersionInfo`,
`ActorInfo`: ODK Central's submission metadata): governance decides which
records a viewer has, and only for those is their metadata (submitter,
device, user agent, instanceName) loaded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.auth import permissions
from app.db.models import (
    AppUser,
    Comment,
    Form,
    FormVersion,
    Submission,
    SubmissionVersion,
    User,
)
from app.forms import service as forms_service
from app.forms.xform import FormSchema
from app.governance.records import Attachment, RecordFilter, SubmissionRecord
from app.governance.visibility import (
    RecordPage,
    SubmissionNotFoundError,
    VersionRecord,
    Viewer,
    form_is_governed,
    governed_count,
    governed_page,
    governed_record,
    governed_records,
    governed_version_xml,
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
    """Who sent the submissions this viewer may read in full (names only),
    for the filter: who recorded a record governance hides is part of what
    it hides.

    Raises: FormNotFoundError, PermissionDeniedError.
    """
    permissions.require(
        viewer.actor, "submission.list", permissions.Project(project_id)
    )
    form = forms_service.get_form(session, project_id, xml_form_id)
    found = [
        Submitter(
            f"{'u' if actor.kind == 'user' else 'a'}{actor.id}",
            actor.display_name,
            actor.kind,
        )
        for actor in _visible_submitters(session, viewer, form)
    ]
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

    The form is looked up first, as Central does: an unknown form is 404
    whoever asks, a known one 403 to whoever may not read its submissions.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.read", permissions.Form(project_id, form.id)
    )
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


# --- ODK Central's submission metadata (the REST API) ---------------------------------

BATCH = 500


@dataclass(frozen=True)
class ActorInfo:
    """Central's Actor: a web user (`user`) or an app user (`field_key`)."""

    id: int
    kind: str
    display_name: str
    created_at: datetime
    updated_at: datetime | None
    deleted_at: datetime | None


@dataclass(frozen=True)
class VersionInfo:
    """Central's submission version (`submission_defs`) metadata."""

    instance_id: str
    instance_name: str | None
    submitter_id: int | None
    submitter: ActorInfo | None
    device_id: str | None
    user_agent: str | None
    created_at: datetime
    current: bool
    form_version: str
    content_hidden: bool = False


@dataclass(frozen=True)
class SubmissionInfo:
    """Central's Submission: the first version's identity and submitter, the
    review state and dates, and the current version's metadata."""

    submission_id: int
    instance_id: str
    submitter_id: int | None
    submitter: ActorInfo | None
    device_id: str | None
    user_agent: str | None
    review_state: str | None  # None: received, as Central says it
    created_at: datetime
    updated_at: datetime | None
    deleted_at: datetime | None
    current_version: VersionInfo


@dataclass(frozen=True)
class CommentInfo:
    body: str
    author_id: int | None
    author: ActorInfo | None
    created_at: datetime


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def actor_infos(
    session: Session, user_ids: set[int], app_user_ids: set[int]
) -> dict[tuple[str, int], ActorInfo]:
    """Users and app users by ("user" | "field_key", id)."""
    found: dict[tuple[str, int], ActorInfo] = {}
    for chunk in _chunks(sorted(user_ids)):
        for user in session.scalars(sa.select(User).where(User.id.in_(chunk))):
            found["user", user.id] = ActorInfo(
                user.id,
                "user",
                user.display_name,
                user.created_at,
                user.updated_at,
                user.deleted_at,
            )
    for chunk in _chunks(sorted(app_user_ids)):
        for tablet in session.scalars(sa.select(AppUser).where(AppUser.id.in_(chunk))):
            # A revoked app user is, to Central's clients, a deleted actor.
            found["field_key", tablet.id] = ActorInfo(
                tablet.id,
                "field_key",
                tablet.display_name,
                tablet.created_at,
                tablet.updated_at,
                tablet.revoked_at,
            )
    return found


def actor_key(user_id: int | None, app_user_id: int | None) -> tuple[str, int] | None:
    if user_id is not None:
        return ("user", user_id)
    if app_user_id is not None:
        return ("field_key", app_user_id)
    return None


def describe_version(
    version: SubmissionVersion,
    form_version: str,
    actors: dict[tuple[str, int], ActorInfo],
    *,
    hidden: bool = False,
) -> VersionInfo:
    key = actor_key(version.submitter_user_id, version.submitter_app_user_id)
    return VersionInfo(
        instance_id=version.instance_id,
        # instanceName is written by the form from its answers: content.
        instance_name=None if hidden else version.instance_name,
        submitter_id=key[1] if key else None,
        submitter=actors.get(key) if key else None,
        device_id=version.device_id,
        user_agent=version.user_agent,
        created_at=version.created_at,
        current=version.current,
        form_version=form_version,
        content_hidden=hidden,
    )


def submission_infos(
    session: Session, submission_ids: list[int]
) -> dict[int, SubmissionInfo]:
    """Central's metadata of the given submissions, by id.

    Metadata only, and only for records the caller already had from
    governance (or has just written): no answers, no files.
    """
    rows: list[tuple[Submission, SubmissionVersion, str]] = []
    for chunk in _chunks(submission_ids):
        rows += session.execute(
            sa.select(Submission, SubmissionVersion, FormVersion.version)
            .join(
                SubmissionVersion,
                SubmissionVersion.id == Submission.current_version_id,
            )
            .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
            .where(Submission.id.in_(chunk))
        ).all()
    users: set[int] = set()
    tablets: set[int] = set()
    for submission, version, _v in rows:
        for who in (submission, version):
            if who.submitter_user_id is not None:
                users.add(who.submitter_user_id)
            if who.submitter_app_user_id is not None:
                tablets.add(who.submitter_app_user_id)
    actors = actor_infos(session, users, tablets)
    found = {}
    for submission, version, form_version in rows:
        key = actor_key(submission.submitter_user_id, submission.submitter_app_user_id)
        found[submission.id] = SubmissionInfo(
            submission_id=submission.id,
            instance_id=submission.instance_id,
            submitter_id=key[1] if key else None,
            submitter=actors.get(key) if key else None,
            device_id=submission.device_id,
            user_agent=submission.user_agent,
            review_state=(
                None
                if submission.review_state == "received"
                else submission.review_state
            ),
            created_at=submission.created_at,
            updated_at=submission.updated_at,
            deleted_at=submission.deleted_at,
            current_version=describe_version(version, form_version, actors),
        )
    return found


def submission_info(session: Session, submission_id: int) -> SubmissionInfo:
    """One submission's metadata (see `submission_infos`)."""
    return submission_infos(session, [submission_id])[submission_id]


def list_submission_infos(
    session: Session,
    project_id: int,
    xml_form_id: str,
    viewer: Viewer,
    *,
    deleted: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[SubmissionInfo]:
    """The form's submissions this viewer may read in full, newest first
    (Central's order: creation date, then id, descending), live ones or only
    deleted ones, `offset` and `limit` counted on that list. Records
    governance reduces to a count are not listed.

    Raises: FormNotFoundError, PermissionDeniedError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.list", permissions.Form(project_id, form.id)
    )
    records = governed_records(
        session, viewer, form, RecordFilter(include_deleted=deleted), with_counts=False
    )
    try:
        shown = (
            r.submission_id
            for r in records
            if not r.content_hidden and r.deleted == deleted
        )
        stop = None if limit is None else offset + limit
        ids = list(itertools.islice(shown, offset, stop))
    finally:
        records.close()
    infos = submission_infos(session, ids)
    return [infos[i] for i in ids]


def get_submission_info(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> SubmissionInfo:
    """One live submission the viewer may read in full.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    return submission_info(session, record.submission_id)


def root_of_version(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> str | None:
    """The first instanceID of the live record whose later version is
    `instance_id`, if the viewer may read that record in full (Central
    redirects a version's instanceID to the record's versions resource);
    None otherwise.

    Raises: FormNotFoundError, PermissionDeniedError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.read", permissions.Form(project_id, form.id)
    )
    root = session.scalar(
        sa.select(Submission.instance_id)
        .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
        .where(
            SubmissionVersion.form_id == form.id,
            SubmissionVersion.instance_id == instance_id,
            Submission.instance_id != instance_id,
            Submission.deleted_at.is_(None),
        )
    )
    if root is None:
        return None
    try:
        governed_record(session, viewer, form, root)
    except SubmissionNotFoundError:
        return None
    return str(root)


def current_xml(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> bytes:
    """The current version's XML, exactly as stored.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    return governed_version_xml(session, viewer, form, record)


def list_attachments(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> tuple[Attachment, ...]:
    """The files the current version names, received or not, by name.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    return record.attachments


def _visible_submitters(
    session: Session, viewer: Viewer, form: Form
) -> list[ActorInfo]:
    records = governed_records(session, viewer, form, with_counts=False)
    try:
        ids = [r.submission_id for r in records if not r.content_hidden]
    finally:
        records.close()
    users: set[int] = set()
    tablets: set[int] = set()
    for chunk in _chunks(ids):
        for user_id, app_user_id in session.execute(
            sa.select(Submission.submitter_user_id, Submission.submitter_app_user_id)
            .where(Submission.id.in_(chunk))
            .distinct()
        ):
            if user_id is not None:
                users.add(user_id)
            elif app_user_id is not None:
                tablets.add(app_user_id)
    return list(actor_infos(session, users, tablets).values())


def form_submitters(
    session: Session, project_id: int, xml_form_id: str, viewer: Viewer
) -> list[ActorInfo]:
    """Each actor who sent a live submission this viewer may read in full,
    once, by display name (Central's `…/submissions/submitters`).

    Raises: FormNotFoundError, PermissionDeniedError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.read", permissions.Form(project_id, form.id)
    )
    found = _visible_submitters(session, viewer, form)
    return sorted(found, key=lambda a: (a.display_name.casefold(), a.kind, a.id))


def encryption_keys(
    session: Session, project_id: int, xml_form_id: str, viewer: Viewer
) -> list[dict[str, object]]:
    """Central's managed encryption keys of the form: Ayni manages none, so
    the list is always empty (self-supplied keys never leave the tablets'
    owners).

    Raises: FormNotFoundError, PermissionDeniedError.
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    permissions.require(
        viewer.actor, "submission.read", permissions.Form(project_id, form.id)
    )
    return []


def list_comments(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> list[CommentInfo]:
    """The comments on a record the viewer may read in full, newest first
    (Central's order).

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    rows = session.execute(
        sa.select(Comment.body, Comment.author_id, Comment.created_at)
        .where(Comment.submission_id == record.submission_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    ).all()
    actors = actor_infos(session, {a for _b, a, _c in rows if a is not None}, set())
    return [
        CommentInfo(
            body, author, actors.get(("user", author)) if author else None, created
        )
        for body, author, created in rows
    ]


def submission_audits(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> list[audit.CentralAudit]:
    """The audit entries about a record the viewer reads in full, newest
    first, as Central's `/v1/audits` shows them (`app.audit.central_entries`,
    the log's one reader for Central: Central's action names, `submissionId`
    and `instanceId` in the details, the form as the actee).

    Central's submission events and Ayni's governance ones (`submission`
    category) since the record arrived (none about it can be older), kept
    when they name it.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError.
    """
    _form, record = readable_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    return [
        entry
        for entry in audit.central_entries(
            session, action="submission", start=record.submission_date
        )
        if (entry.details or {}).get("submissionId") == record.submission_id
    ]
