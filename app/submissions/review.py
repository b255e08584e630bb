"""Reviewing submissions: listing with filters and paging, one submission's
detail (answers, attachments, versions, comments) and its review state.

The web console reads submissions only through this module, and this module
shows nothing knowledge governance has not passed: every record (and every
older version of it) goes through `GovernanceContext.apply` before it is
listed, shown, counted or its media served (design.md "Knowledge governance",
domain.md §4). A record governance HIDES does not exist here (404); one it
reduces to a count is counted but never listed or opened.

Who may read and who may review is decided here too (`can_view`,
`can_review`), so no edge can forget it. Services take the session first,
flush and never commit; no Flask here.

Paging a governed form happens in Python: whether a record is visible depends
on its values (level, consents, ayllu), so the database cannot count visible
records. The records are streamed in batches and only the requested page is
kept, which is fine for the CdP's thousands of records. Forms outside
governance, without filters on answers, are paged by the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth.actors import Actor
from app.db.models import (
    AppUser,
    AuditLog,
    Blob,
    Comment,
    Form,
    FormVersion,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    User,
)
from app.db.types import utcnow
from app.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from app.exports.query import current_records
from app.exports.records import ExportRecord
from app.forms import service as forms_service
from app.forms.xform import FormSchema
from app.governance import rules
from app.governance.service import GovernanceContext, Viewer, governance_context

# "edited" is set by ingest when a tablet sends an edit; people set the others.
REVIEW_STATES = ("received", "hasIssues", "edited", "approved", "rejected")
SETTABLE_STATES = ("received", "hasIssues", "approved", "rejected")
VIEW_ROLES = ("manager", "analyst", "guardian")
REVIEW_ROLES = ("manager",)
MAX_COMMENT = 10_000
MAX_PER_PAGE = 200
BATCH = 500


# Errors live here: this service is their only raiser (as in governance).
class SubmissionNotFoundError(NotFoundError):
    code = "submission_not_found"
    default_es = "No se encontró el envío."
    default_en = "The submission was not found."


class ContentRestrictedError(PermissionDeniedError):
    code = "content_restricted"
    default_es = (
        "Este registro es de acceso restringido: solo quien tiene el permiso de "
        "custodia de su ayllu puede ver su contenido."
    )
    default_en = (
        "This record is restricted: only holders of its ayllu's guardian "
        "permission may see its content."
    )


class AttachmentNotFoundError(NotFoundError):
    code = "attachment_not_found"
    default_es = "No se encontró el archivo adjunto."
    default_en = "The attachment was not found."


class ReviewInputError(InvalidInputError):
    code = "review_invalid"


# --- who may do what --------------------------------------------------------------


def can_view(actor: Actor | None, project_id: int) -> bool:
    """Managers, analysts, guardians of the project and site admins read data."""
    return (
        actor is not None
        and actor.kind == "user"
        and (actor.site_admin or actor.has_project_role(project_id, *VIEW_ROLES))
    )


def can_review(actor: Actor | None, project_id: int) -> bool:
    """Managers of the project and site admins set review states and comment."""
    return (
        actor is not None
        and actor.kind == "user"
        and (actor.site_admin or actor.has_project_role(project_id, *REVIEW_ROLES))
    )


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError(
            "No tiene permiso para ver los envíos de este proyecto.",
            "You are not allowed to see this project's submissions.",
        )


# --- shapes handed to the edge -------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    since: datetime | None = None  # inclusive, aware
    until: datetime | None = None  # exclusive, aware
    ayllu: str | None = None
    mesa: str | None = None
    review_states: tuple[str, ...] = ()
    submitter: str | None = None  # "u<id>" (web user) or "a<id>" (tablet)
    include_deleted: bool = False

    @property
    def on_answers(self) -> bool:
        return bool(self.ayllu or self.mesa)


@dataclass(frozen=True)
class SubmissionPage:
    records: list[ExportRecord]
    total: int  # records this viewer may see, after filters
    restricted: int  # records counted but not listed (content hidden)
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Submitter:
    key: str  # "u<id>" or "a<id>", as ListFilters.submitter takes it
    name: str
    kind: str  # "user" | "app_user"


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
class Change:
    path: str  # "grupo/campo" or "repeticion[2]/campo"
    before: Any
    after: Any


@dataclass(frozen=True)
class VersionEntry:
    instance_id: str
    deprecated_id: str | None
    created_at: datetime
    submitter_name: str | None
    device_id: str | None
    current: bool
    form_version: str
    content_hidden: bool
    changes: tuple[Change, ...] = ()  # against the version before; () for the first


@dataclass(frozen=True)
class CommentEntry:
    body: str
    author_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class AttachmentEntry:
    name: str
    present: bool
    sha256: str | None = None
    content_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class SubmissionDetail:
    project_id: int
    xml_form_id: str
    form_title: str
    record: ExportRecord
    schema: FormSchema
    governed: bool
    attachments: list[AttachmentEntry] = field(default_factory=list)
    versions: list[VersionEntry] = field(default_factory=list)
    comments: list[CommentEntry] = field(default_factory=list)


# --- shared reading ----------------------------------------------------------------


def _is_governed(session: Session, form: Form) -> bool:
    """A form counts as governed when any of its versions is (as aggregates do):
    an old record keeps the protection it was given."""
    versions = session.scalars(
        sa.select(FormVersion).where(FormVersion.form_id == form.id)
    )
    return any(rules.is_governed(forms_service.schema_of(v)) for v in versions)


def first_value(values: Mapping[str, Any], name: str) -> Any:
    """The first field called `name` outside repeats, at any group depth."""
    if name in values and not isinstance(values[name], list | dict):
        return values[name]
    for value in values.values():
        if isinstance(value, dict):
            found = first_value(value, name)
            if found is not None:
                return found
    return None


def _matches_answers(values: Mapping[str, Any], filters: ListFilters) -> bool:
    if filters.ayllu and first_value(values, "ayllu") != filters.ayllu:
        return False
    if filters.mesa:
        mesa = first_value(values, "mesa") or first_value(values, "mesas") or ""
        if filters.mesa not in str(mesa).split():
            return False
    return True


def _submitter_name() -> sa.ColumnElement[Any]:
    return sa.func.coalesce(User.display_name, AppUser.display_name)


def _record(row: Any) -> ExportRecord:
    return ExportRecord(
        instance_id=row.instance_id,
        submission_id=row.id,
        submission_date=row.created_at,
        updated_at=row.updated_at,
        submitter_id=row.submitter_id,
        submitter_name=row.submitter_name,
        attachments_present=row.present,
        attachments_expected=row.expected,
        status="",
        review_state=row.review_state,
        device_id=row.device_id,
        edits=row.edits,
        form_version=row.form_version,
        values=row.field_values or {},
        deleted=row.deleted_at is not None,
    )


def _filtered(stmt: sa.Select[Any], filters: ListFilters) -> sa.Select[Any]:
    if not filters.include_deleted:
        stmt = stmt.where(Submission.deleted_at.is_(None))
    if filters.since is not None:
        stmt = stmt.where(Submission.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(Submission.created_at < filters.until)
    if filters.review_states:
        stmt = stmt.where(Submission.review_state.in_(filters.review_states))
    if filters.submitter:
        kind, raw = filters.submitter[:1], filters.submitter[1:]
        if not raw.isdigit() or kind not in ("u", "a"):
            raise ReviewInputError(
                "Filtro de remitente no válido.", "Invalid submitter filter."
            )
        column = (
            Submission.submitter_user_id
            if kind == "u"
            else Submission.submitter_app_user_id
        )
        stmt = stmt.where(column == int(raw))
    return stmt


def _check_filters(filters: ListFilters) -> None:
    unknown = set(filters.review_states) - set(REVIEW_STATES)
    if unknown:
        raise ReviewInputError(
            f"Estado de revisión desconocido: {', '.join(sorted(unknown))}.",
            f"Unknown review state: {', '.join(sorted(unknown))}.",
        )


# --- forms with their counts ---------------------------------------------------------


def form_summaries(
    session: Session, project_id: int, viewer: Viewer
) -> list[FormSummary]:
    """The project's published forms with the submissions this viewer may know
    of (hidden records are not counted) and the last one's date.

    Raises: PermissionDeniedError.
    """
    _require(viewer.is_member)
    context = governance_context(session, project_id, None, viewer)
    summaries = []
    for form, version in forms_service.list_forms(session, project_id):
        governed = _is_governed(session, form)
        base = sa.select(Submission.created_at).where(
            Submission.form_id == form.id, Submission.deleted_at.is_(None)
        )
        if governed:
            count, last = _governed_count(session, form, context)
        else:
            count = session.scalar(
                sa.select(sa.func.count()).select_from(base.subquery())
            )
            last = session.scalar(
                sa.select(sa.func.max(Submission.created_at)).where(
                    Submission.form_id == form.id, Submission.deleted_at.is_(None)
                )
            )
        summaries.append(
            FormSummary(
                form_id=form.id,
                xml_form_id=form.xml_form_id,
                title=form.title,
                state=form.state,
                version=version.version,
                governed=governed,
                submissions=int(count or 0),
                last_submission_at=last,
                updated_at=form.updated_at or form.created_at,
            )
        )
    return summaries


def _governed_count(
    session: Session, form: Form, context: GovernanceContext
) -> tuple[int, datetime | None]:
    stmt = (
        sa.select(Submission.id, Submission.created_at, SubmissionVersion.field_values)
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .where(Submission.form_id == form.id, Submission.deleted_at.is_(None))
        .execution_options(yield_per=BATCH)
    )
    count, last = 0, None
    for row in session.execute(stmt):
        values = row.field_values or {}
        if context.decide(True, values, row.id) is rules.Visibility.HIDDEN:
            continue
        count += 1
        if last is None or row.created_at > last:
            last = row.created_at
    return count, last


# --- listing -------------------------------------------------------------------------


def list_submitters(
    session: Session, project_id: int, xml_form_id: str
) -> list[Submitter]:
    """Who sent submissions to the form (names only), for the filter.

    Raises: FormNotFoundError.
    """
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
    found += [Submitter(f"a{i}", name, "app_user") for i, name in tablets]
    return sorted(found, key=lambda s: (s.name.casefold(), s.key))


def list_submissions(
    session: Session,
    project_id: int,
    xml_form_id: str,
    viewer: Viewer,
    filters: ListFilters | None = None,
    *,
    page: int = 1,
    per_page: int = 25,
) -> SubmissionPage:
    """One page of the form's submissions as this viewer may see them, newest
    first. Records governance reduces to a count are counted in `restricted`,
    never listed.

    Raises: FormNotFoundError, PermissionDeniedError, ReviewInputError.
    """
    _require(can_view(viewer.actor, project_id))
    filters = filters or ListFilters()
    _check_filters(filters)
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    form = forms_service.get_form(session, project_id, xml_form_id)
    governed = _is_governed(session, form)
    context = governance_context(session, project_id, form.id, viewer)
    stmt = _filtered(current_records(form.id), filters).order_by(
        Submission.created_at.desc(), Submission.id.desc()
    )
    if not governed and not filters.on_answers:
        total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
        records = [
            shown
            for row in rows
            if (shown := context.apply(_record(row), governed)) is not None
        ]
        return SubmissionPage(records, int(total or 0), 0, page, per_page)
    start, end = (page - 1) * per_page, page * per_page
    records, total, restricted = [], 0, 0
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        values = row.field_values or {}
        if not _matches_answers(values, filters):
            continue
        shown = context.apply(_record(row), governed)
        if shown is None:
            continue
        if shown.content_hidden:
            restricted += 1
            continue
        if start <= total < end:
            records.append(shown)
        total += 1
    return SubmissionPage(records, total, restricted, page, per_page)


# --- one submission ------------------------------------------------------------------


def _visible_record(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
) -> tuple[Form, ExportRecord, bool, int]:
    """The record as this viewer may see it in full, its form, whether the form
    is governed, and its current version's id.

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError,
        ContentRestrictedError.
    """
    _require(can_view(viewer.actor, project_id))
    form = forms_service.get_form(session, project_id, xml_form_id)
    row = session.execute(
        current_records(form.id).where(
            Submission.instance_id == instance_id, Submission.deleted_at.is_(None)
        )
    ).first()
    if row is None:
        raise SubmissionNotFoundError()
    governed = _is_governed(session, form)
    context = governance_context(session, project_id, form.id, viewer)
    shown = context.apply(_record(row), governed)
    if shown is None:
        # Hidden means not there at all: the same answer as a wrong id.
        raise SubmissionNotFoundError()
    if shown.content_hidden:
        raise ContentRestrictedError()
    return form, shown, governed, row.version_id


def _attachments(session: Session, version_id: int) -> list[AttachmentEntry]:
    rows = session.execute(
        sa.select(SubmissionAttachment.name, Blob.sha256, Blob.content_type, Blob.size)
        .outerjoin(Blob, Blob.id == SubmissionAttachment.blob_id)
        .where(SubmissionAttachment.submission_version_id == version_id)
        .order_by(SubmissionAttachment.name)
    ).all()
    return [
        AttachmentEntry(name, sha is not None, sha, ctype, size)
        for name, sha, ctype, size in rows
    ]


def _flatten(values: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf paths of a values dict; repeat entries numbered from 1."""
    flat: dict[str, Any] = {}
    if isinstance(values, Mapping):
        for key, value in values.items():
            path = f"{prefix}/{key}" if prefix else str(key)
            flat.update(_flatten(value, path))
    elif isinstance(values, list):
        for index, entry in enumerate(values, start=1):
            flat.update(_flatten(entry, f"{prefix}[{index}]"))
    else:
        flat[prefix] = values
    return flat


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Change, ...]:
    old, new = _flatten(before), _flatten(after)
    paths = [p for p in new if p not in old] + list(old)
    return tuple(
        Change(path, old.get(path), new.get(path))
        for path in dict.fromkeys(sorted(paths))
        if old.get(path) != new.get(path) and not path.startswith("meta/")
    )


def _versions(
    session: Session,
    record: ExportRecord,
    context: GovernanceContext,
    governed: bool,
) -> list[VersionEntry]:
    """The edit history, oldest first. Each version passes governance on its
    own values: an older version of a record may have had another level."""
    rows = session.execute(
        sa.select(
            SubmissionVersion.instance_id,
            SubmissionVersion.deprecated_id,
            SubmissionVersion.created_at,
            SubmissionVersion.device_id,
            SubmissionVersion.current,
            SubmissionVersion.field_values,
            FormVersion.version,
            _submitter_name().label("submitter_name"),
        )
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == SubmissionVersion.submitter_user_id)
        .outerjoin(AppUser, AppUser.id == SubmissionVersion.submitter_app_user_id)
        .where(SubmissionVersion.submission_id == record.submission_id)
        .order_by(SubmissionVersion.created_at, SubmissionVersion.id)
    ).all()
    entries: list[VersionEntry] = []
    previous: dict[str, Any] | None = None
    for row in rows:
        values = row.field_values or {}
        decision = context.decide(governed, values, record.submission_id)
        hidden = decision is not rules.Visibility.FULL
        changes: tuple[Change, ...] = ()
        if previous is not None and not hidden:
            changes = _changes(previous, values)
        entries.append(
            VersionEntry(
                instance_id=row.instance_id,
                deprecated_id=row.deprecated_id,
                created_at=row.created_at,
                submitter_name=row.submitter_name,
                device_id=row.device_id,
                current=row.current,
                form_version=row.version,
                content_hidden=hidden,
                changes=changes,
            )
        )
        # A hidden version's values never serve as the base of a shown diff.
        previous = None if hidden else values
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

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError,
        ContentRestrictedError.
    """
    form, record, governed, version_id = _visible_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    version = session.get_one(SubmissionVersion, version_id)
    schema = forms_service.schema_of(
        session.get_one(FormVersion, version.form_version_id)
    )
    context = governance_context(session, project_id, form.id, viewer)
    return SubmissionDetail(
        project_id=project_id,
        xml_form_id=form.xml_form_id,
        form_title=form.title,
        record=record,
        schema=schema,
        governed=governed,
        attachments=_attachments(session, version_id),
        versions=_versions(session, record, context, governed),
        comments=_comments(session, record.submission_id),
    )


def attachment_for(
    session: Session,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    name: str,
    viewer: Viewer,
) -> AttachmentEntry:
    """A received attachment of the current version, if this viewer may see
    the record in full (media of restricted knowledge is content too).

    Raises: FormNotFoundError, PermissionDeniedError, SubmissionNotFoundError,
        ContentRestrictedError, AttachmentNotFoundError.
    """
    _form, _record, _governed, version_id = _visible_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    for entry in _attachments(session, version_id):
        if entry.name == name and entry.present:
            return entry
    raise AttachmentNotFoundError()


# --- review --------------------------------------------------------------------------


def _reviewer(viewer: Viewer, project_id: int) -> Actor:
    actor = viewer.actor
    if actor is None or not can_review(actor, project_id):
        raise PermissionDeniedError(
            "No tiene permiso para revisar envíos de este proyecto.",
            "You are not allowed to review this project's submissions.",
        )
    return actor


def _comment_text(body: str | None) -> str | None:
    text = (body or "").strip()
    if len(text) > MAX_COMMENT:
        raise ReviewInputError(
            f"El comentario es demasiado largo (máximo {MAX_COMMENT} caracteres).",
            f"The comment is too long (at most {MAX_COMMENT} characters).",
        )
    return text or None


def set_review_state(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    state: str,
    viewer: Viewer,
    comment: str | None = None,
) -> Submission:
    """Set the review state (received, hasIssues, approved, rejected), with an
    optional comment; both go into the audit log.

    Raises: PermissionDeniedError, ReviewInputError, FormNotFoundError,
        SubmissionNotFoundError, ContentRestrictedError.
    """
    actor = _reviewer(viewer, project_id)
    if state not in SETTABLE_STATES:
        raise ReviewInputError(
            f"Estado de revisión no válido: «{state}».",
            f"Invalid review state '{state}'.",
        )
    text = _comment_text(comment)
    _form, record, _governed, _vid = _visible_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    submission = session.get_one(Submission, record.submission_id)
    previous = submission.review_state
    submission.review_state = state
    submission.updated_at = utcnow()
    session.add(
        AuditLog(
            action="submission.update.review_state",
            actor_user_id=actor.id,
            target_type="submission",
            target_id=str(submission.id),
            details={"instance_id": instance_id, "from": previous, "to": state},
        )
    )
    if text is not None:
        _add_comment(session, submission.id, actor.id, text, instance_id)
    session.flush()
    return submission


def add_comment(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    instance_id: str,
    viewer: Viewer,
    body: str,
) -> Comment:
    """Comment on a submission.

    Raises: PermissionDeniedError, ReviewInputError, FormNotFoundError,
        SubmissionNotFoundError, ContentRestrictedError.
    """
    actor = _reviewer(viewer, project_id)
    text = _comment_text(body)
    if text is None:
        raise ReviewInputError("Escriba el comentario.", "Write the comment.")
    _form, record, _governed, _vid = _visible_record(
        session, project_id, xml_form_id, instance_id, viewer
    )
    comment = _add_comment(session, record.submission_id, actor.id, text, instance_id)
    session.flush()
    return comment


def _add_comment(
    session: Session, submission_id: int, author_id: int, text: str, instance_id: str
) -> Comment:
    comment = Comment(
        submission_id=submission_id, author_id=author_id, body=text, created_at=utcnow()
    )
    session.add(comment)
    session.flush()
    # The comment's text stays in `comments`; the log says who commented when.
    session.add(
        AuditLog(
            action="submission.comment",
            actor_user_id=author_id,
            target_type="submission",
            target_id=str(submission_id),
            details={"instance_id": instance_id, "comment_id": comment.id},
        )
    )
    return comment
