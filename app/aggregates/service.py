"""The CdP's planning aggregates (domain.md §6), after knowledge governance.

Each public function answers one planning question for a project and a viewer:
it reads the form it needs through governance's one read (withdrawn or
unconsented knowledge is left out, restricted and sacred knowledge is reduced
to what may be counted, and a viewer outside the project gets only public
knowledge) and folds what is left in Python (`app.aggregates.figures`).
Results are plain JSON-safe data. Who may ask for the figures at all is the
edges' check (`submission.list`, from the permission table).

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

from sqlalchemy.orm import Session

from app.aggregates import figures
from app.aggregates.csvrows import to_csv_rows, to_csv_text
from app.aggregates.figures import Filters
from app.forms import service as forms_service
from app.governance.records import RecordFilter, SubmissionRecord
from app.governance.visibility import Viewer, governed_records
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
    "to_csv_text",
]

NEEDS_FORM = "necesidades_ayllu"
PRACTICES_FORM = "practica_saber"
MEETINGS_FORM = "reunion_cdp"
ACTORS_FORM = "registro_actor"

Day = date | datetime | None


def stream_records(
    session: Session, project_id: int, xml_form_id: str, viewer: Viewer
) -> Iterator[SubmissionRecord]:
    """The form's current, non-deleted records as governance lets this viewer
    have them (governance's one read); nothing when the project has no such
    form."""
    form = forms_service.find_form(session, project_id, xml_form_id)
    if form is None:
        return iter(())
    return governed_records(
        session, viewer, form, RecordFilter(newest_first=False), with_counts=False
    )


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
