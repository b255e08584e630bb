"""The audit log: who did what, when, written and read through one helper.

Every service that must leave a trace calls `record(...)`; nothing else builds
`AuditLog` rows. Actions are dotted names in ODK Central's style
(`submission.update.review_state`, `role.assign`, `consent.withdraw`), so the
log page can filter by prefix. Details name things (ids, instanceIDs, element
paths) and never carry submission content: sacred or restricted knowledge must
not reach the log (domain.md §4).

Central's `/v1/audits` reads the same log (`central_entries`): actions are
shown under Central's names where Central logs the same event (`CENTRAL_NAMES`:
Ayni's `role.assign` is Central's `user.assignment.create`, `form.new_version`
its `form.update.publish`…), Ayni's own (consent, governance) as they are, and
Central's action filters and categories (`user`, `form`, `nonverbose`…) select
by those names. Central's `acteeId` (the UUID of the thing acted on) is derived
from the entry's target (`actee_id`), stably, so equal targets share it.

Services flush, never commit; no Flask here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.db.models import AppUser, AuditLog, Form, Project, Submission, User


class Who(Protocol):
    """Whoever acts (`app.auth.actors.Actor`): a web user or an app user."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def app_user_id(self) -> int | None: ...


MAX_PAGE = 200


def record(
    session: Session,
    action: str,
    *,
    by: Who | None = None,
    by_user_id: int | None = None,
    target_type: str | None = None,
    target_id: object = None,
    **details: Any,
) -> AuditLog:
    """Append one entry. `by` (a user or an app user) or `by_user_id` says
    who; neither means the server itself (setup, the command line)."""
    entry = AuditLog(
        action=action,
        actor_user_id=by.user_id if by is not None else by_user_id,
        actor_app_user_id=by.app_user_id if by is not None else None,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditEntry:
    id: int
    action: str
    actor_name: str | None
    actor_kind: str | None  # "user", "field_key" or None (the server)
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def entries(
    session: Session,
    *,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """The log, newest first. `action` matches the whole name or a dotted
    prefix (`submission` finds `submission.update.access_level`)."""
    per_page = max(1, min(per_page, MAX_PAGE))
    page = max(1, page)
    query = sa.select(AuditLog)
    if action:
        query = query.where(
            sa.or_(
                AuditLog.action == action,
                AuditLog.action.startswith(f"{action}.", autoescape=True),
            )
        )
    if since is not None:
        query = query.where(AuditLog.created_at >= since)
    if until is not None:
        query = query.where(AuditLog.created_at < until)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    user, app_user = aliased(User), aliased(AppUser)
    rows = session.execute(
        query.add_columns(user.display_name, app_user.display_name)
        .outerjoin(user, user.id == AuditLog.actor_user_id)
        .outerjoin(app_user, app_user.id == AuditLog.actor_app_user_id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    found = [
        AuditEntry(
            id=log.id,
            action=log.action,
            actor_name=user_name or app_user_name,
            actor_kind="user"
            if log.actor_user_id
            else ("field_key" if log.actor_app_user_id else None),
            target_type=log.target_type,
            target_id=log.target_id,
            details=dict(log.details or {}),
            created_at=log.created_at,
        )
        for log, user_name, app_user_name in rows
    ]
    return AuditPage(found, int(total or 0), page, per_page)


def actions(session: Session) -> list[str]:
    """Every action name in the log, for the filter."""
    return list(
        session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action))
    )


# --- Central's /v1/audits ------------------------------------------------------------


@dataclass(frozen=True)
class _Rename:
    """An Ayni action shown under Central's name; `when`/`unless` name a
    detail that must be set / unset for the rename to apply."""

    stored: str
    central: str
    when: str | None = None
    unless: str | None = None

    def applies(self, details: dict[str, Any]) -> bool:
        if self.when is not None and details.get(self.when) is None:
            return False
        return self.unless is None or details.get(self.unless) is None

    def condition(self) -> sa.ColumnElement[bool]:
        parts = [AuditLog.action == self.stored]
        if self.when is not None:
            parts.append(AuditLog.details[self.when].as_string().is_not(None))
        if self.unless is not None:
            parts.append(AuditLog.details[self.unless].as_string().is_(None))
        return sa.and_(*parts)


# Ayni's names for events Central logs under another name. Services that log
# Central's own name (`submission.create`, `field_key.create`…) need nothing
# here; `app_user.*` are the names older entries carry.
_RENAMES = (
    _Rename("role.assign", "field_key.assignment.create", when="app_user_id"),
    _Rename("role.assign", "user.assignment.create", unless="app_user_id"),
    _Rename("role.revoke", "field_key.assignment.delete", when="app_user_id"),
    _Rename("role.revoke", "user.assignment.delete", unless="app_user_id"),
    _Rename("user.password_reset", "user.update"),
    _Rename("app_user.create", "field_key.create"),
    _Rename("app_user.revoke", "field_key.delete"),
    _Rename("form.created", "form.create"),
    _Rename("form.new_version", "form.update.publish"),
    _Rename("form.media_update", "form.attachment.update"),
    _Rename("form.media_updated", "form.attachment.update"),
    _Rename("form.state", "form.update"),
    # A tablet's edit (a new version through `deprecatedID`); Central's plain
    # `submission.update` is a review, which Ayni logs as `…review_state`.
    _Rename("submission.update", "submission.update.version", unless="reviewState"),
    _Rename("submission.update.review_state", "submission.update"),
    _Rename("submission.comment", "comment.create"),
)
CENTRAL_NAMES: dict[str, tuple[str, ...]] = {}
for _rule in _RENAMES:
    CENTRAL_NAMES.setdefault(_rule.stored, ())
    CENTRAL_NAMES[_rule.stored] += (_rule.central,)

# Central's action categories (its `lib/model/query/audits.js`), plus Ayni's
# own submission events under `submission`.
CATEGORIES: dict[str, frozenset[str]] = {
    "user": frozenset(
        {
            "user.create",
            "user.update",
            "user.delete",
            "user.assignment.create",
            "user.assignment.delete",
            "user.session.create",
        }
    ),
    "field_key": frozenset(
        {
            "field_key.create",
            "field_key.assignment.create",
            "field_key.assignment.delete",
            "field_key.session.end",
            "field_key.delete",
            "field_key.property.set",
        }
    ),
    "public_link": frozenset(
        {
            "public_link.create",
            "public_link.assignment.create",
            "public_link.assignment.delete",
            "public_link.session.end",
            "public_link.delete",
            "public_link.property.set",
        }
    ),
    "project": frozenset(
        {"project.create", "project.update", "project.delete", "actor_property.create"}
    ),
    "form": frozenset(
        {
            "form.create",
            "form.update",
            "form.delete",
            "form.restore",
            "form.purge",
            "form.attachment.update",
            "form.submission.export",
            "form.update.draft.set",
            "form.update.draft.delete",
            "form.update.draft.replace",
            "form.update.publish",
        }
    ),
    "submission": frozenset(
        {
            "submission.create",
            "submission.update",
            "submission.update.version",
            "submission.attachment.update",
            "submission.backlog.hold",
            "submission.backlog.reprocess",
            "submission.backlog.force",
            "submission.delete",
            "submission.restore",
            "submission.purge",
            # Ayni's: what governs a record changed, or content was dropped.
            "submission.update.access_level",
            "submission.update.consent",
            "submission.update.ayllu",
            "submission.content_dropped",
        }
    ),
    "dataset": frozenset(
        {
            "dataset.create",
            "dataset.update",
            "entity.bulk.delete",
            "entity.bulk.restore",
            "dataset.delete",
            "dataset.update.property.delete",
        }
    ),
    "entity": frozenset(
        {
            "entity.create",
            "entity.bulk.create",
            "entity.error",
            "entity.update.version",
            "entity.update.resolve",
            "entity.delete",
            "entity.restore",
            "entity.purge",
            "entity.bulk.delete",
            "entity.bulk.restore",
        }
    ),
    "upgrade": frozenset(
        {
            "upgrade.server",
            "upgrade.process.form",
            "upgrade.process.form.draft",
            "upgrade.process.form.entities_version",
        }
    ),
    "config": frozenset({"config.set"}),
}
# What `action=nonverbose` leaves out: every single submission and entity.
VERBOSE = frozenset(
    {
        "entity.create",
        "entity.bulk.create",
        "entity.error",
        "entity.update.version",
        "entity.update.resolve",
        "entity.delete",
        "entity.restore",
        "entity.purge",
        "submission.create",
        "submission.update",
        "submission.update.version",
        "submission.attachment.update",
        "submission.backlog.hold",
        "submission.backlog.reprocess",
        "submission.backlog.force",
        "submission.delete",
        "submission.restore",
        "user.preference.update",
        "user.preference.delete",
        "backup",
        "analytics",
    }
)


def central_action(action: str, details: dict[str, Any]) -> str:
    """The name Central gives the event an entry records."""
    for rule in _RENAMES:
        if rule.stored == action and rule.applies(details):
            return rule.central
    return action


def _named(central: str) -> sa.ColumnElement[bool]:
    """Entries shown as `central`: renamed to it, or stored so and not renamed."""
    renamed = [rule.condition() for rule in _RENAMES if rule.central == central]
    away = [rule.condition() for rule in _RENAMES if rule.stored == central]
    as_stored = AuditLog.action == central
    if away:
        as_stored = sa.and_(as_stored, sa.not_(sa.or_(*away)))
    return sa.or_(as_stored, *renamed)


def action_condition(action: str) -> sa.ColumnElement[bool]:
    """Central's `?action=`: a category, `nonverbose`, or one action name."""
    if action == "nonverbose":
        return sa.not_(sa.or_(*(_named(name) for name in sorted(VERBOSE))))
    if action in CATEGORIES:
        return sa.or_(*(_named(name) for name in sorted(CATEGORIES[action])))
    return _named(action)


_ACTEE_NAMESPACE = uuid.UUID("8f7f3f4e-2b1a-5c55-9a0e-61796e692e61")
SITE_ACTEE = "*"  # Central's actee of everything (site-wide grants)


def actee_id(kind: str, key: object) -> str:
    """Central's `acteeId` of a user, app user (`field_key`), project or form
    (keyed `<projectId>/<xmlFormId>`): a UUID derived from the kind and key,
    so it is the same on every entry and every request. Central's are random
    (version 4) and its clients' checks expect that shape, so the derived
    bits are stamped as version 4."""
    derived = uuid.uuid5(_ACTEE_NAMESPACE, f"{kind}:{key}")
    return str(uuid.UUID(bytes=derived.bytes, version=4))


Actee = User | AppUser | Project | Form


@dataclass(frozen=True)
class CentralAudit:
    """One entry as Central's `/v1/audits` shows it."""

    actor_id: int | None
    action: str
    actee_id: str | None
    details: dict[str, Any] | None
    logged_at: datetime
    actor: User | AppUser | None = None
    actee: Actee | None = field(default=None)


def parse_form_target(target_id: str | None) -> tuple[int, str] | None:
    project, _, xml_form_id = (target_id or "").partition("/")
    if not (project.isdigit() and xml_form_id):
        return None
    return int(project), xml_form_id


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


@dataclass
class _Lookups:
    """The rows a page of entries names, fetched once per kind."""

    users: dict[int, User] = field(default_factory=dict)
    app_users: dict[int, AppUser] = field(default_factory=dict)
    projects: dict[int, Project] = field(default_factory=dict)
    forms_by_id: dict[int, Form] = field(default_factory=dict)
    forms: dict[tuple[int, str], Form] = field(default_factory=dict)
    submission_forms: dict[int, int] = field(default_factory=dict)


def _actee_key(log: AuditLog) -> tuple[str, object] | None:
    """What the entry acted on, as (kind, key); forms by `(project, xmlFormId)`
    or `("form_id", id)`, submissions by their id (their actee is the form)."""
    details = log.details or {}
    kind, target = log.target_type, log.target_id
    if kind in ("user", "field_key", "project") and _int(target) is not None:
        return kind, _int(target)
    if kind == "form":
        parsed = parse_form_target(target)
        return ("form", parsed) if parsed else None
    if kind == "submission" and _int(target) is not None:
        return "submission", _int(target)
    if kind == "role_assignment":
        # Central's actee of an assignment is the actor granted the role.
        if _int(details.get("app_user_id")) is not None:
            return "field_key", _int(details.get("app_user_id"))
        if _int(details.get("user_id")) is not None:
            return "user", _int(details.get("user_id"))
        return None
    if _int(details.get("project_id")) is not None:
        return "project", _int(details.get("project_id"))
    return None


def _load(session: Session, logs: list[AuditLog]) -> _Lookups:
    found = _Lookups()
    keys = [key for key in map(_actee_key, logs) if key is not None]
    submission_ids = {k for kind, k in keys if kind == "submission"}
    if submission_ids:
        found.submission_forms = {
            int(sid): int(fid)
            for sid, fid in session.execute(
                sa.select(Submission.id, Submission.form_id).where(
                    Submission.id.in_(submission_ids)
                )
            )
        }
        found.forms_by_id = {
            f.id: f
            for f in session.scalars(
                sa.select(Form).where(Form.id.in_(set(found.submission_forms.values())))
            )
        }
    form_keys = {k for kind, k in keys if kind == "form"}
    for project_id, xml_form_id in form_keys:
        form = session.scalars(
            sa.select(Form)
            .where(Form.project_id == project_id, Form.xml_form_id == xml_form_id)
            .order_by(Form.id.desc())
        ).first()
        if form is not None:
            found.forms[(project_id, xml_form_id)] = form
    user_ids = {k for kind, k in keys if kind == "user"}
    user_ids |= {log.actor_user_id for log in logs if log.actor_user_id}
    app_user_ids = {k for kind, k in keys if kind == "field_key"}
    app_user_ids |= {log.actor_app_user_id for log in logs if log.actor_app_user_id}
    project_ids = {k for kind, k in keys if kind == "project"}
    if user_ids:
        found.users = {
            u.id: u
            for u in session.scalars(sa.select(User).where(User.id.in_(user_ids)))
        }
    if app_user_ids:
        found.app_users = {
            a.id: a
            for a in session.scalars(
                sa.select(AppUser).where(AppUser.id.in_(app_user_ids))
            )
        }
    if project_ids:
        found.projects = {
            p.id: p
            for p in session.scalars(
                sa.select(Project).where(Project.id.in_(project_ids))
            )
        }
    return found


def _actee(log: AuditLog, found: _Lookups) -> tuple[str | None, Actee | None]:
    key = _actee_key(log)
    if key is None:
        return None, None
    kind, value = key
    if kind == "submission":
        form_id = found.submission_forms.get(value)  # type: ignore[call-overload]
        form = found.forms_by_id.get(form_id) if form_id is not None else None
        if form is None:
            return None, None
        return actee_id("form", f"{form.project_id}/{form.xml_form_id}"), form
    if kind == "form":
        project_id, xml_form_id = value  # type: ignore[misc]
        return (
            actee_id("form", f"{project_id}/{xml_form_id}"),
            found.forms.get((project_id, xml_form_id)),
        )
    table: dict[Any, Any] = {
        "user": found.users,
        "field_key": found.app_users,
        "project": found.projects,
    }[kind]
    return actee_id(kind, value), table.get(value)


def _central_details(
    log: AuditLog, found: _Lookups, central: str
) -> dict[str, Any] | None:
    """The stored details, plus the keys Central's clients read for the
    events they share: a submission's `instanceId` and `submissionId`, a
    grant's `roleId` and `grantedActeeId`/`revokedActeeId`. Details never
    hold submission content (see `record`)."""
    details = dict(log.details or {})
    if log.target_type == "submission" and _int(log.target_id) is not None:
        details.setdefault("submissionId", _int(log.target_id))
        if "instance_id" in details:
            details.setdefault("instanceId", details["instance_id"])
    if log.action in ("role.assign", "role.revoke"):
        if details.get("role_id") is not None:
            details.setdefault("roleId", details["role_id"])
        project_id, form_id = (
            _int(details.get("project_id")),
            _int(details.get("form_id")),
        )
        if form_id is not None and project_id is not None:
            form = found.forms_by_id.get(form_id)
            granted = (
                actee_id("form", f"{form.project_id}/{form.xml_form_id}")
                if form is not None
                else None
            )
        elif project_id is not None:
            granted = actee_id("project", project_id)
        else:
            granted = SITE_ACTEE
        key = "grantedActeeId" if central.endswith(".create") else "revokedActeeId"
        details.setdefault(key, granted)
    return details or None


def central_entries(
    session: Session,
    *,
    action: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[CentralAudit]:
    """The log as Central's `GET /v1/audits` gives it: newest first, `start`
    inclusive, `end` exclusive, every entry unless `limit` is given."""
    query = sa.select(AuditLog)
    if action:
        query = query.where(action_condition(action))
    if start is not None:
        query = query.where(AuditLog.created_at >= start)
    if end is not None:
        query = query.where(AuditLog.created_at < end)
    query = query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    if limit is not None:
        query = query.limit(max(0, limit))
    if offset:
        query = query.offset(max(0, offset))
    logs = list(session.scalars(query))
    found = _load(session, logs)
    grant_forms = (
        {
            _int((log.details or {}).get("form_id"))
            for log in logs
            if log.action in ("role.assign", "role.revoke")
        }
        - {None}
        - set(found.forms_by_id)
    )
    if grant_forms:
        found.forms_by_id.update(
            (f.id, f)
            for f in session.scalars(sa.select(Form).where(Form.id.in_(grant_forms)))
        )
    entries = []
    for log in logs:
        details = dict(log.details or {})
        central = central_action(log.action, details)
        actee_uuid, actee = _actee(log, found)
        actor: User | AppUser | None = None
        if log.actor_user_id is not None:
            actor = found.users.get(log.actor_user_id)
        elif log.actor_app_user_id is not None:
            actor = found.app_users.get(log.actor_app_user_id)
        entries.append(
            CentralAudit(
                actor_id=log.actor_user_id or log.actor_app_user_id,
                action=central,
                actee_id=actee_uuid,
                details=_central_details(log, found, central),
                logged_at=log.created_at,
                actor=actor,
                actee=actee,
            )
        )
    return entries
