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


def _record(
    row: Any, with_counts: bool, deleted_at: datetime | None = None
) -> SubmissionRecord:
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
        deleted_at=deleted_at,
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
    result = session.execute(stmt.execution_options(yield_per=BATCH))
    try:
        for row in result:
            shown = context.apply(_record(row, with_counts))
            if shown is None or not wanted.matches_answers(shown.values):
                continue
            if with_attachments and not shown.content_hidden:
                shown = dataclasses.replace(
                    shown, attachments=_files(session, row.version_id)
                )
            yield shown
    finally:
        # A reader that stops early (a page, `limit`) must not leave
        # PostgreSQL's server-side cursor open until garbage collection.
        result.close()


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


@dataclass(frozen=True)
class FormTally:
    """`governed_count` with the records counted per review state (Central's
    extended form: `submissions`, `reviewStates`, `lastSubmission`)."""

    submissions: int
    review_states: dict[str, int]
    last_submission: datetime | None


def governed_tally(session: Session, viewer: Viewer, form: Form) -> FormTally:
    """How many live records of the form the viewer may know of (counted ones
    included), how many of them are in each review state, and when the newest
    arrived: the same records `governed_count` counts, nothing more."""
    context = governance_context(session, viewer, form)
    states: dict[str, int] = {}
    if not context.governed:
        if not context.member:
            return FormTally(0, states, None)
        rows = session.execute(
            sa.select(
                Submission.review_state,
                sa.func.count(Submission.id),
                sa.func.max(Submission.created_at),
            )
            .where(Submission.form_id == form.id, Submission.deleted_at.is_(None))
            .group_by(Submission.review_state)
        ).all()
        for state, count, _newest in rows:
            states[state or "received"] = int(count or 0)
        newest = [row[2] for row in rows if row[2] is not None]
        return FormTally(sum(states.values()), states, max(newest, default=None))
    last = None
    stmt = query.filtered(
        query.current_records(form.id, with_counts=False), RecordFilter()
    )
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        shown = context.apply(_record(row, False))
        if shown is None:
            continue
        state = shown.review_state or "received"
        states[state] = states.get(state, 0) + 1
        if last is None or row.created_at > last:
            last = row.created_at
    return FormTally(sum(states.values()), states, last)


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


def _full_version(
    session: Session,
    context: GovernanceContext,
    record: SubmissionRecord,
    instance_id: str | None,
) -> Any:
    """The version row (`query.version_history`) of `record` called
    `instance_id` (None: the current one), if this viewer may read that
    version in full; an older version is judged on its own values."""
    for row in session.execute(query.version_history(record.submission_id)):
        if row.current if instance_id is None else row.instance_id == instance_id:
            values = row.field_values or {}
            if context.decide(values, record.submission_id) is Visibility.FULL:
                return row
            break
    raise SubmissionNotFoundError()


def governed_version_xml(
    session: Session,
    viewer: Viewer,
    form: Form,
    record: SubmissionRecord,
    instance_id: str | None = None,
) -> bytes:
    """The XML, exactly as stored, of one version of a record the viewer reads
    in full (`governed_record`); `instance_id` None is the current version.

    Raises:
        SubmissionNotFoundError: no such version of this record, or one this
            viewer may not read in full (answered as a missing one).
    """
    context = governance_context(session, viewer, form)
    row = _full_version(session, context, record, instance_id)
    return bytes(session.execute(query.version_xml(row.id)).scalar_one())


def governed_version_files(
    session: Session,
    viewer: Viewer,
    form: Form,
    record: SubmissionRecord,
    instance_id: str | None = None,
) -> tuple[Attachment, ...]:
    """The files one version of a record names, received or not, by name, if
    the viewer may read that version in full (`governed_version_xml`'s rule).

    Raises: SubmissionNotFoundError.
    """
    context = governance_context(session, viewer, form)
    row = _full_version(session, context, record, instance_id)
    return _files(session, row.id)


def governed_history_xml(
    session: Session, viewer: Viewer, form: Form, record: SubmissionRecord
) -> list[tuple[str, bytes | None]]:
    """Every version of a record the viewer reads in full, oldest first, as
    (instanceID, XML); the XML is None for a version this viewer may not read
    in full, so no diff is ever computed against hidden content."""
    context = governance_context(session, viewer, form)
    found: list[tuple[str, bytes | None]] = []
    for row in session.execute(query.version_history(record.submission_id)).all():
        full = (
            context.decide(row.field_values or {}, record.submission_id)
            is Visibility.FULL
        )
        xml = session.execute(query.version_xml(row.id)).scalar_one() if full else None
        found.append((row.instance_id, bytes(xml) if xml is not None else None))
    return found


@dataclass
class RecordWindow:
    """One window of the records a viewer may read in full, read lazily.

    Iterate `records` once; then `more` says whether another such record
    follows the window, and `total` (when asked for) how many such records
    the filter gives, the cursor and the window aside.
    """

    records: Iterator[SubmissionRecord]
    more: bool = False
    total: int | None = None


def governed_window(
    session: Session,
    viewer: Viewer,
    form: Form,
    wanted: RecordFilter,
    *,
    after: str | None = None,
    skip: int = 0,
    top: int | None = None,
    count: bool = False,
) -> RecordWindow:
    """The records this viewer may read in full (never one whose content is
    hidden, and never counted), from the record after `after` (its
    instanceID, newest-first order; deleted or not), `skip` of them left out,
    at most `top`; with their deletion times.

    A form that is not governed is windowed and counted by the database, so
    a window of a large form reads only that window. A governed form's
    records are judged one by one as they stream (visibility depends on their
    values), stopping once the window is full unless a count is asked for.

    Raises:
        ValueError: `after` with an order other than newest first.
    """
    if after is not None and (wanted.order or not wanted.newest_first):
        raise ValueError("a cursor pages the newest-first order only")
    context = governance_context(session, viewer, form)
    window = RecordWindow(iter(()))
    stmt = query.filtered(query.current_records(form.id), wanted)
    if after is not None:
        stmt = query.after_record(stmt, form.id, after)
    if not context.governed and not wanted.on_answers:
        if not context.member:
            window.total = 0 if count else None
            return window
        if count:
            everything = query.filtered(
                query.current_records(form.id, with_counts=False), wanted
            ).order_by(None)
            window.total = int(
                session.scalar(
                    sa.select(sa.func.count()).select_from(everything.subquery())
                )
                or 0
            )
        paged = query.window(
            form.id,
            wanted,
            after=after,
            skip=skip,
            # One more tells whether more follow.
            limit=None if top is None else top + 1,
        )
        window.records = _database_window(session, paged, top, window)
        return window
    window.records = _judged_window(
        session, context, form, wanted, stmt, skip, top, count, after, window
    )
    return window


def _window_record(row: Any, with_counts: bool) -> SubmissionRecord:
    return _record(row, with_counts, row.deleted_at)


def _database_window(
    session: Session, stmt: Any, top: int | None, window: RecordWindow
) -> Iterator[SubmissionRecord]:
    result = session.execute(stmt.execution_options(yield_per=BATCH))
    try:
        for given, row in enumerate(result):
            if top is not None and given == top:
                window.more = True
                break
            yield _window_record(row, True)
    finally:
        result.close()


def _readable(
    session: Session,
    context: GovernanceContext,
    wanted: RecordFilter,
    stmt: Any,
    with_counts: bool,
) -> Iterator[SubmissionRecord]:
    """The rows of `stmt` this viewer may read in full, as records."""
    result = session.execute(stmt.execution_options(yield_per=BATCH))
    try:
        for row in result:
            shown = context.apply(_window_record(row, with_counts))
            if shown is None or shown.content_hidden:
                continue
            if wanted.matches_answers(shown.values):
                yield shown
    finally:
        result.close()


def _judged_window(
    session: Session,
    context: GovernanceContext,
    form: Form,
    wanted: RecordFilter,
    stmt: Any,
    skip: int,
    top: int | None,
    count: bool,
    after: str | None,
    window: RecordWindow,
) -> Iterator[SubmissionRecord]:
    found = given = 0
    records = _readable(session, context, wanted, stmt, True)
    try:
        for record in records:
            found += 1
            if found <= skip:
                continue
            if top is None or given < top:
                given += 1
                yield record
                continue
            window.more = True
            if not count or after is not None:
                break
    finally:
        records.close()
    if count:
        if after is None:
            window.total = found
        else:
            # The count ignores the cursor (Central's `@odata.count`).
            everything = query.filtered(
                query.current_records(form.id, with_counts=False), wanted
            )
            window.total = sum(
                1 for _ in _readable(session, context, wanted, everything, False)
            )
