"""What every console view shares: the project bar and its permissions,
messages in the chosen language, and reading dates and flags from inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import flash, request

from app.errors import AppError, InvalidInputError
from app.exports import service as exports_service
from app.forms import service as forms_service
from app.governance import service as governance
from app.projects import service as projects_service
from app.submissions import review
from app.web import session as web_session
from app.web.i18n import current_lang, gettext
from app.web.presenters import day_start_utc


@dataclass(frozen=True)
class ProjectRef:
    id: int
    name: str


@dataclass(frozen=True)
class Permissions:
    member: bool
    manage: bool  # forms, media, tablets
    view: bool  # submissions, dashboard
    review: bool  # review states, comments
    export: bool
    consent: bool  # record and lift consent withdrawals


def permissions(project_id: int) -> Permissions:
    actor = web_session.actor()
    return Permissions(
        member=web_session.is_member(project_id),
        manage=web_session.can_manage(project_id),
        view=review.can_view(actor, project_id),
        review=review.can_review(actor, project_id),
        export=exports_service.can_export(actor, project_id),
        consent=governance.can_govern_consent(actor, project_id),
    )


def project_context(session: Any, project_id: int) -> dict[str, Any]:
    """The project bar's data; only members of the project get past this.

    Raises: ProjectNotFoundError, PermissionDeniedError.
    """
    project = projects_service.get_project(session, project_id)
    perms = permissions(project_id)
    web_session.require(perms.member)
    return {"project": ProjectRef(project.id, project.name), "perms": perms}


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
    value = (request.values.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            gettext("input.bad_date", field=name), gettext("input.bad_date", field=name)
        ) from None


def day_range(since: date | None, until: date | None) -> tuple[datetime | None, ...]:
    """Inclusive Bolivian days as [start, end) UTC datetimes."""
    start = day_start_utc(since) if since else None
    end = day_start_utc(until + timedelta(days=1)) if until else None
    return start, end


def flag(name: str, default: bool = False) -> bool:
    if name not in request.values:
        return default
    return request.values.get(name, "").lower() in ("1", "on", "true", "yes", "si")


def project_choices(session: Any, project_id: int) -> dict[str, dict[str, Any]]:
    """Choice labels of the project's forms by field name ("ayllu", "sector",
    "sexo" …), merged over forms: {name: {value: labels}}. Aggregates and
    filters speak in choice values; people read these labels."""
    found: dict[str, dict[str, Any]] = {}
    for _form, version in forms_service.list_forms(session, project_id):
        for item in forms_service.schema_of(version).fields:
            if not item.choices:
                continue
            known = found.setdefault(item.name, {})
            for choice in item.choices:
                known.setdefault(choice.name, choice.labels)
    return found
