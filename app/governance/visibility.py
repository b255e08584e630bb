"""The one governed read: what of a form's submissions a viewer may have.

Every surface that shows or exports submission content reads it here: the
console's lists, detail pages and media, exports in every format, the planning
aggregates (and the REST API and OData after them). Nobody passes a decision
in: this module decides whether the form is governed (any version it ever
had), loads the viewer's side once (membership, the ayllus they guard,
withdrawals in force) and applies `rules.visibility` to every record it
streams. A record a viewer may not know of is never yielded; one they may only
count comes with `content_hidden` set and nothing but the counted fields.

Never writes, never commits, takes no Flask objects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth import permissions
from app.auth.actors import Actor
from app.db.models import ConsentWithdrawal, Form, Submission
from app.errors import NotFoundError
from app.forms import service as forms_service
from app.governance import query, rules
from app.governance.records import Attachment, RecordFilter, SubmissionRecord
from app.governance.rules import KnowledgeFacts, Visibility

BATCH = 500
_GOVERNED_CACHE = "ayni_governed_forms"


class SubmissionNotFoundError(NotFoundError):
    code = "submission_not_found"
    default_es = "No se encontró el envío."
    default_en = "The submission was not found."


@dataclass(frozen=True)
class Viewer:
    """Who a page, export or aggregate is for: an actor (None = anonymous) in
    the project whose records are shown."""

    actor: Actor | None
    project_id: int

    @property
    def is_member(self) -> bool:
        """A signed-in person who may read this project (a site admin too).

        App users (tablets) submit; they are never viewers of exports or
        figures, so they count as outsiders here.
        """
        actor = self.actor
        if actor is None or actor.is_app_user:
            return False
        return permissions.can(
            actor, "project.read", permissions.Project(self.project_id)
        )

    @property
    def guarded(self) -> permissions.AylluReach:
        """Ayllus whose restricted knowledge this viewer keeps in the project."""
        return permissions.ayllus_where(self.actor, "knowledge.guard", self.project_id)


def form_is_governed(session: Session, form_id: int) -> bool:
    """Whether any version the form ever had records governed knowledge.

    Decided once per session (a request's read session, an export's): a later
    version that renames, removes or moves `nivel_acceso` does not make the
    records of the earlier ones, or its own, less protected.
    """
    cache: dict[int, bool] = session.info.setdefault(_GOVERNED_CACHE, {})
    if form_id not in cache:
        cache[form_id] = any(
            rules.schema_is_governed(schema)
            for schema in forms_service.version_schemas(session, form_id)
        )
    return cache[form_id]


@dataclass(frozen=True)
class GovernanceContext:
    """The viewer's side of the decision for one form, loaded once."""

    project_id: int
    form_id: int
    governed: bool
    member: bool
    guarded: permissions.AylluReach
    withdrawn_submissions: frozenset[int]
    withdrawn_ayllus: frozenset[str]

    def decide(self, values: dict[str, Any], submission_id: int) -> Visibility:
        """What this viewer may see of one record (pure: no query)."""
        facts = rules.facts_from_values(values)
        return self._decide(facts, submission_id)

    def _decide(self, facts: KnowledgeFacts, submission_id: int) -> Visibility:
        withdrawn = submission_id in self.withdrawn_submissions or (
            facts.ayllu is not None and facts.ayllu in self.withdrawn_ayllus
        )
        return rules.visibility(
            governed=self.governed,
            member=self.member,
            level=facts.level,
            consented=facts.consented,
            withdrawn=withdrawn,
            guardian=facts.ayllu is not None and facts.ayllu in self.guarded,
        )

    def apply(self, record: SubmissionRecord) -> SubmissionRecord | None:
        """The record as this viewer may have it; None leaves it out entirely.

        COUNT_ONLY keeps only `rules.COUNT_FIELDS` and no attachments, with
        `content_hidden` set, so a writer or an aggregate can count it but has
        nothing else to show.
        """
        if not self.governed:
            return record if self.member else None
        facts = rules.facts_from_values(record.values)
        decision = self._decide(facts, record.submission_id)
        if decision is Visibility.HIDDEN:
            return None
        if decision is Visibility.COUNT_ONLY:
            return dataclasses.replace(
                record,
                values=rules.count_values(record.values, facts),
                attachments=(),
                attachments_present=0,
                attachments_expected=0,
                content_hidden=True,
                access_level=facts.level,
                access_conditions=None,
                instance_name=None,
                submitter_name=None,
                device_id=None,
            )
        return dataclasses.replace(
            record,
            content_hidden=False,
            access_level=facts.level,
            access_conditions=rules.access_conditions(record.values),
        )


def governance_context(
    session: Session, viewer: Viewer, form: Form
) -> GovernanceContext:
    """Load, once, what the rules need beyond the record itself.

    Individual withdrawals are those of this form's records; collective ones
    cover the whole project.
    """
    same_project = viewer.project_id == form.project_id
    active = sa.select(
        ConsentWithdrawal.layer,
        ConsentWithdrawal.submission_id,
        ConsentWithdrawal.ayllu,
    ).where(
        ConsentWithdrawal.project_id == form.project_id,
        ConsentWithdrawal.lifted_at.is_(None),
        sa.or_(
            ConsentWithdrawal.layer == "colectivo",
            ConsentWithdrawal.form_id == form.id,
        ),
    )
    submissions: set[int] = set()
    ayllus: set[str] = set()
    for layer, submission_id, ayllu in session.execute(active):
        if layer == "individual" and submission_id is not None:
            submissions.add(submission_id)
        elif ayllu:
            ayllus.add(rules.normalise(ayllu))
    return GovernanceContext(
        project_id=form.project_id,
        form_id=form.id,
        governed=form_is_governed(session, form.id),
        member=same_project and viewer.is_member,
        guarded=viewer.guarded
        if same_project
        else permissions.AylluReach(False, frozenset()),
        withdrawn_submissions=frozenset(submissions),
        withdrawn_ayllus=frozenset(ayllus),
    )


def _record(row: Any, with_counts: bool) -> SubmissionRecord:
    return SubmissionRecord(
        instance_id=row.instance_id,
        submission_id=row.id,
        submission_date=row.created_at,
        updated_at=row.updated_at,
        submitter_id=row.submitter_id,
        submitter_name=row.submitter_name,
        attachments_present=row.present if with_counts else 0,
        attachments_expected=row.expected if with_counts else 0,
        status="",
        review_state=row.review_state,
        device_id=row.device_id,
        edits=row.edits if with_counts else 0,
        form_version=row.form_version,
        values=row.field_values or {},
        deleted=row.deleted_at is not None,
        instance_name=row.instance_name,
    )


def _files(session: Session, version_id: int) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(name, sha, content_type, size)
        for name, sha, content_type, size in session.execute(
            query.version_files(version_id)
        )
    )


def governed_records(
    session: Session,
    viewer: Viewer,
    form: Form,
    wanted: RecordFilter | None = None,
    *,
    with_attachments: bool = False,
    with_counts: bool = True,
) -> Iterator[SubmissionRecord]:
    """The form's records as this viewer may have them, streamed.

    Rows come from a server-side cursor in batches (memory stays flat);
    `with_attachments` adds the files of records shown in full.
    """
    wanted = wanted or RecordFilter()
    context = governance_context(session, viewer, form)
    stmt = query.filtered(
        query.current_records(form.id, with_counts=with_counts), wanted
    )
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        shown = context.apply(_record(row, with_counts))
        if shown is None or not wanted.matches_answers(shown.values):
            continue
        if with_attachments and not shown.content_hidden:
            shown = dataclasses.replace(
                shown, attachments=_files(session, row.version_id)
            )
        yield shown


@dataclass(frozen=True)
class RecordPage:
    records: list[SubmissionRecord]
    total: int  # records this viewer may read, after filters
    counted: int  # records they may only count (content hidden), not listed
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def governed_page(
    session: Session,
    viewer: Viewer,
    form: Form,
    wanted: RecordFilter,
    *,
    page: int,
    per_page: int,
) -> RecordPage:
    """One page of records the viewer may read in full, newest first, and how
    many more they may only count.

    Whether a governed record is visible depends on its values, so such forms
    (and filters on answers) are paged here as the records stream by; other
    forms are paged by the database.
    """
    context = governance_context(session, viewer, form)
    stmt = query.filtered(query.current_records(form.id), wanted)
    if not context.governed and not wanted.on_answers:
        if not context.member:
            return RecordPage([], 0, 0, page, per_page)
        total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
        records = [_record(row, True) for row in rows]
        return RecordPage(records, int(total or 0), 0, page, per_page)
    start, end = (page - 1) * per_page, page * per_page
    records, total, counted = [], 0, 0
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        shown = context.apply(_record(row, True))
        if shown is None or not wanted.matches_answers(shown.values):
            continue
        if shown.content_hidden:
            counted += 1
            continue
        if start <= total < end:
            records.append(shown)
        total += 1
    return RecordPage(records, total, counted, page, per_page)


def governed_count(
    session: Session, viewer: Viewer, form: Form
) -> tuple[int, datetime | None]:
    """How many live records of the form the viewer may know of (counted ones
    included) and when the newest arrived."""
    context = governance_context(session, viewer, form)
    live = sa.and_(Submission.form_id == form.id, Submission.deleted_at.is_(None))
    if not context.governed:
        if not context.member:
            return 0, None
        count, last = session.execute(
            sa.select(
                sa.func.count(Submission.id), sa.func.max(Submission.created_at)
            ).where(live)
        ).one()
        return int(count or 0), last
    count, last = 0, None
    stmt = query.filtered(
        query.current_records(form.id, with_counts=False), RecordFilter()
    )
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        if context.apply(_record(row, False)) is None:
            continue
        count += 1
        if last is None or row.created_at > last:
            last = row.created_at
    return count, last


def governed_record(
    session: Session, viewer: Viewer, form: Form, instance_id: str
) -> SubmissionRecord:
    """One live record the viewer may read in full, with its files.

    Raises:
        SubmissionNotFoundError: no such record, or one this viewer may not
            read in full: a restricted record answers exactly as a missing one,
            so its existence is not told to those who may not see it.
    """
    context = governance_context(session, viewer, form)
    stmt = query.filtered(
        query.current_records(form.id), RecordFilter(instance_id=instance_id)
    )
    row = session.execute(stmt).first()
    shown = context.apply(_record(row, True)) if row is not None else None
    if row is None or shown is None or shown.content_hidden:
        raise SubmissionNotFoundError()
    return dataclasses.replace(shown, attachments=_files(session, row.version_id))


@dataclass(frozen=True)
class VersionRecord:
    """One version in a record's edit history; `values` is None when this
    viewer may not read that version in full (an older version may have had
    another level or ayllu)."""

    instance_id: str
    deprecated_id: str | None
    created_at: datetime
    submitter_name: str | None
    device_id: str | None
    current: bool
    form_version: str
    values: dict[str, Any] | None

    @property
    def content_hidden(self) -> bool:
        return self.values is None


def governed_versions(
    session: Session, viewer: Viewer, form: Form, record: SubmissionRecord
) -> list[VersionRecord]:
    """The edit history of a record the viewer may read, oldest first, each
    version passed through governance on its own values."""
    context = governance_context(session, viewer, form)
    found = []
    for row in session.execute(query.version_history(record.submission_id)):
        values = row.field_values or {}
        full = context.decide(values, record.submission_id) is Visibility.FULL
        found.append(
            VersionRecord(
                instance_id=row.instance_id,
                deprecated_id=row.deprecated_id,
                created_at=row.created_at,
                submitter_name=row.submitter_name,
                device_id=row.device_id,
                current=row.current,
                form_version=row.form_version,
                values=values if full else None,
            )
        )
    return found
