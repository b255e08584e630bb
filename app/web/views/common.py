"""What every console view shares: the project bar and its permissions,
messages in the chosen language, and reading dates and flags from inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import flash, request

from app import datebounds
from app.auth import permissions as table
from app.errors import AppError
from app.forms import service as forms_service
from app.governance import consent
from app.projects import service as projects_service
from app.runtime import read_session
from app.web import session as web_session
from app.web.i18n import current_lang
from app.web.presenters import day_start_utc


@dataclass(frozen=True)
class ProjectRef:
    id: int
    name: str


# The console's buttons and menus, each shown to whoever holds its verb on the
# project (the permission table decides; this only names them for templates).
CONSOLE_VERBS = {
    "member": "project.read",
    "manage": "form.update",  # forms and their media
    "tablets": "field_key.list",
    "view": "submission.list",  # submissions, dashboard
    "review": "submission.update",  # review states, comments
    "export": "export.create",
}


@dataclass(frozen=True)
class Permissions:
    member: bool
    manage: bool
    tablets: bool
    view: bool
    review: bool
    export: bool
    consent: bool  # record and lift consent withdrawals (for some ayllu)


def permissions(project_id: int) -> Permissions:
    actor = web_session.actor()
    target = table.Project(project_id)
    flags = {
        name: table.can(actor, verb, target) for name, verb in CONSOLE_VERBS.items()
    }
    return Permissions(**flags, consent=consent.may_record(actor, project_id))


def project_context(project_id: int) -> dict[str, Any]:
    """The project bar's data; only members of the project get past this.

    Raises: ProjectNotFoundError, PermissionDeniedError.
    """
    project = projects_service.get_project(read_session(), project_id)
    web_session.require("project.read", table.Project(project_id))
    return {
        "project": ProjectRef(project.id, project.name),
        "perms": permissions(project_id),
    }


def message(error: AppError) -> str:
    """An error's message in the console's language only."""
    return error.en if current_lang() == "en" else error.es


def flash_error(error: AppError) -> None:
    flash(message(error), "error")


def lang_url(code: str) -> str:
    """This page again, in another language."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', code)])}"


def parse_day(name: str) -> date | None:
    """A day typed into a filter input, or None when left empty.

    Raises: DateBoundError (400) for a value that is not a day or is outside
    1900-01-01..9998-12-31 (`app.datebounds`), so `day_range` and the
    dashboard's inclusive `until` (+1 day) can never overflow.
    """
    value = (request.values.get(name) or "").strip()
    if not value:
        return None
    return datebounds.parse_day(value, name)


def day_range(since: date | None, until: date | None) -> tuple[datetime | None, ...]:
    """Inclusive Bolivian days (from `parse_day`) as [start, end) UTC datetimes."""
    start = day_start_utc(since) if since else None
    end = day_start_utc(until + timedelta(days=1)) if until else None
    return start, end


def flag(name: str, default: bool = False) -> bool:
    if name not in request.values:
        return default
    return request.values.get(name, "").lower() in ("1", "on", "true", "yes", "si")


def project_choices(project_id: int) -> dict[str, dict[str, Any]]:
    """Choice labels of the project's forms by field name ("ayllu", "sector",
    "sexo" …), merged over forms: {name: {value: labels}}. Aggregates and
    filters speak in choice values; people read these labels."""
    found: dict[str, dict[str, Any]] = {}
    for _form, version in forms_service.list_forms(read_session(), project_id):
        for item in forms_service.schema_of(version).fields:
            if not item.choices:
                continue
            known = found.setdefault(item.name, {})
            for choice in item.choices:
                known.setdefault(choice.name, choice.labels)
    return found
