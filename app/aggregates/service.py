"""The CdP's planning aggregates (domain.md §6), after knowledge governance.

Each public function answers one planning question for a project and a viewer:
it streams the current, non-deleted submissions of the form it needs, passes
every record through the project's `GovernanceContext` (withdrawn or
unconsented knowledge is left out, restricted and sacred knowledge is reduced
to what may be counted) and folds what is left in Python
(`app.aggregates.figures`). Results are plain JSON-safe data.

Why Python and not SQL: the figures live in repeats (needs, attendees,
agreements, commitments) stored as JSON arrays inside `field_values`, and
unnesting JSON arrays is dialect-specific (`json_each` on SQLite,
`jsonb_array_elements` on PostgreSQL); governance must also see each record
before it is counted. Streaming keeps memory flat: rows arrive in batches from
a server-side cursor and only the running figures are held.

It never writes, and it takes no Flask objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.aggregates import figures
from app.aggregates.csvrows import to_csv_rows
from app.aggregates.figures import Filters
from app.db.models import FormVersion, Submission, SubmissionVersion
from app.exports.records import ExportRecord
from app.forms import service as forms_service
from app.governance import rules
from app.governance.service import Viewer, governance_context
from app.projects import service as projects_service

__all__ = [
    "AGGREGATES",
    "actors",
    "agreements",
    "commitments",
    "exchanges",
    "needs_ranking",
    "participation",
    "practices_summary",
    "to_csv_rows",
]

BATCH = 500
NEEDS_FORM = "necesidades_ayllu"
PRACTICES_FORM = "practica_saber"
MEETINGS_FORM = "reunion_cdp"
ACTORS_FORM = "registro_actor"

Day = date | datetime | None


def stream_records(
    session: Session, project_id: int, xml_form_id: str, viewer: Viewer
) -> Iterator[ExportRecord]:
    """The form's current, non-deleted records as this viewer may have them.

    Nothing when the project has no such form. A form counts as governed when
    any of its versions is: an old record keeps the protection it was given.
    """
    form = forms_service.find_form(session, project_id, xml_form_id)
    if form is None:
        return
    versions = session.scalars(
        sa.select(FormVersion).where(FormVersion.form_id == form.id)
    )
    governed = any(rules.is_governed(forms_service.schema_of(v)) for v in versions)
    context = governance_context(session, project_id, form.id, viewer)
    stmt = (
        sa.select(
            Submission.id,
            Submission.instance_id,
            Submission.created_at,
            Submission.updated_at,
            Submission.review_state,
            Submission.device_id,
            SubmissionVersion.field_values,
            FormVersion.version,
        )
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .where(Submission.form_id == form.id, Submission.deleted_at.is_(None))
        .order_by(Submission.id)
        # A server-side cursor on PostgreSQL, batches of BATCH rows on both.
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(stmt):
        record = ExportRecord(
            instance_id=row.instance_id,
            submission_id=row.id,
            submission_date=row.created_at,
            updated_at=row.updated_at,
            submitter_id=None,
            submitter_name=None,
            attachments_present=0,
            attachments_expected=0,
            status="",
            review_state=row.review_state,
            device_id=row.device_id,
            edits=0,
            form_version=row.version,
            values=row.field_values or {},
        )
        shown = context.apply(record, governed)
        if shown is not None:
            yield shown


def _filters(
    session: Session,
    project_id: int,
    since: Day,
    until: Day,
    ayllu: str | None,
    mesa: str | None,
) -> Filters:
    projects_service.get_project(session, project_id)
    return Filters.build(since=since, until=until, ayllu=ayllu, mesa=mesa)


def _today(today: date | None) -> date:
    return today or datetime.now(UTC).date()


def needs_ranking(
    session: Session,
    project_id: int,
    viewer: Viewer,
    *,
    since: Day = None,
    until: Day = None,
    ayllu: str | None = None,
    mesa: str | None = None,
) -> list[dict[str, Any]]:
    """Which needs come first (§6.1): ayllu × sector × urgency, ranked.

    Raises: ProjectNotFoundError.
    """
    filters = _filters(session, project_id, since, until, ayllu, mesa)
    records = stream_records(session, project_id, NEEDS_FORM, viewer)
    return figures.needs_ranking(records, filters)


def practices_summary(
    session: Session,
    project_id: int,
    viewer: Viewer,
    *,
    since: Day = None,
    until: Day = None,
    ayllu: str | None = None,
    mesa: str | None = None,
) -> list[dict[str, Any]]:
    """What knowledge is documented (§6.2): domain × ayllu × origin × level.

    Raises: ProjectNotFoundError.
    """
    filters = _filters(session, project_id, since, until, ayllu, mesa)
    records = stream_records(session, project_id, PRACTICES_FORM, viewer)
    return figures.practices_summary(records, filters)


def participation(
    session: Session,
    project_id: int,
    viewer: Viewer,
    *,
    since: Day = None,
    until: Day = None,
    ayllu: str | None = None,
    mesa: str | None = None,
) -> list[dict[str, Any]]:
    """Who takes part (§6.3): attendees by month × mesa × level × sex.

    Raises: ProjectNotFoundError.
    """
    filters = _filters(session, project_id, since, until, ayllu, mesa)
    records = stream_records(session, project_id, MEETINGS_FORM, viewer)
    return figures.participation(records, filters)


def agreements(
    session: Session,
    project_id: int,
    viewer: Viewer,
    *,
    since: Day = None,
    until: Day = None,
    ayllu: str | None = None,
    mesa: str | None = None,
    today: date | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Are agreements kept (§6.4): counts by status and the overdue list.

    Raises: ProjectNotFoundError.
    """
    filters = _filters(session, project_id, since, until, ayllu, mesa)
    records = stream_records(session, project_id, MEETINGS_FORM, viewer)
    return figures.agreements(records, filters, _today(today))


def commitments(
    session: Session,
    project_id: int,
    viewer: Viewer,
    *,
    since: Day = None,
    until: Day = None,
    ayllu: str | None = None,
    mesa: str | None = None,
) -> list[dict[str, Any]]:
    """Who is with us (§6.5): meeting commitments by institution × level ×
    permanence, with cash sums per currency.

    Raises: ProjectNotFoundError.
    """
    filters = _filters(session, project_id, since, until, ayllu, mesa)
    records = stream_records(session, project_id, MEETINGS_FORM, viewer)
    return figures.commitments(records, filters)


def actors(
    session: Session,
    project_id: int,
    viewer: Viewer,
    *,
    since: Day = None,
    until: Day = None,
    ayllu: str | None = None,
    mesa: str | None = None,
    today: date | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Who is with us (§6.5), from the actor registry: by permanence × level ×
    mesa, and institutions whose relationship ends soon.

    Raises: ProjectNotFoundError.
    """
    filters = _filters(session, project_id, since, until, ayllu, mesa)
    records = stream_records(session, project_id, ACTORS_FORM, viewer)
    return figures.actors(records, filters, _today(today))


def exchanges(
    session: Session,
    project_id: int,
    viewer: Viewer,
    *,
    since: Day = None,
    until: Day = None,
    ayllu: str | None = None,
    mesa: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Are communities learning from each other (§6.6): `intercambio` meetings
    and practices of origin `intercambio` (visible ones; the rest counted).

    Raises: ProjectNotFoundError.
    """
    filters = _filters(session, project_id, since, until, ayllu, mesa)
    meetings = stream_records(session, project_id, MEETINGS_FORM, viewer)
    # One open cursor at a time: `stream_records` is a generator, so the
    # practices query runs only when figures.exchanges reaches it, after the
    # meetings are folded (two live server-side cursors on one connection
    # are not something to rely on on both backends).
    practices = stream_records(session, project_id, PRACTICES_FORM, viewer)
    return figures.exchanges(meetings, practices, filters)


# Names the API and the CLI use (`/v1/projects/<id>/aggregates/<name>[.csv]`).
AGGREGATES: dict[str, Callable[..., Any]] = {
    "necesidades": needs_ranking,
    "practicas": practices_summary,
    "participacion": participation,
    "acuerdos": agreements,
    "compromisos": commitments,
    "actores": actors,
    "intercambios": exchanges,
}
