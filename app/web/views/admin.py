"""Site administration: web users, their passwords and their roles
(site admin; manager, analyst, data collector per project; guardian of
restricted knowledge per project and ayllu, domain.md §4), and the audit log.

Every page here needs a site verb of the permission table (`user.list`,
`user.create`, `assignment.create`, `audit.read`, …). Granting a role,
guardianship included, leaves an audit entry that the audit log shows; the
role page warns that only an ayllu's authorities should be named its
guardians.

New and reset passwords are shown once, on the page that answers the POST;
they never go into a flashed message, which would put them in the session
cookie.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app import audit
from app.auth import accounts, permissions, roles
from app.auth.actors import actor_for_user
from app.auth.errors import UserNotFoundError
from app.errors import AppError
from app.projects import service as projects_service
from app.runtime import read_session, write_transaction
from app.web import session as web_session
from app.web.i18n import gettext
from app.web.views import bp
from app.web.views.common import (
    day_range,
    flash_error,
    message,
    parse_day,
    project_choices,
)

# domain.md §2: the four ayllus; used when no form of a project lists them.
DEFAULT_AYLLUS = ("aransaya", "manasaya", "wistrullani", "ayparavi")
AUDIT_PER_PAGE = 50


def _require(verb: str) -> None:
    web_session.require(verb, permissions.SITE)


def _users() -> list[dict[str, Any]]:
    session = read_session()
    projects = {p.id: p.name for p in projects_service.list_projects(session)}
    me = web_session.actor().id
    rows = []
    for user in accounts.list_users(session):
        grants = actor_for_user(session, user).grants
        rows.append(
            {
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "display_name": user.display_name,
                "collect": user.collect_enabled,
                "created_at": user.created_at,
                "roles": [
                    {
                        "role": grant.role,
                        "project_id": grant.project_id,
                        "project": projects.get(grant.project_id, "")
                        if grant.project_id
                        else "",
                        "ayllu": grant.ayllu,
                        # An administrator never takes their own rights away
                        # (the site would be left without one).
                        "removable": not (
                            user.id == me and grant.role == permissions.ADMIN
                        ),
                    }
                    for grant in grants
                    if grant.role in permissions.USER_ROLES
                ],
            }
        )
    return rows


def _ayllus() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for project in projects_service.list_projects(read_session()):
        found.update(project_choices(project.id).get("ayllu", {}))
    return found or {name: {"": name.capitalize()} for name in DEFAULT_AYLLUS}


def _list_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    return (
        render_template("web/users.html", users=_users(), nav="users", **extra),
        status,
    )


@bp.get("/admin/users")
@login_required
def user_list() -> tuple[str, int]:
    _require("user.list")
    return _list_page()


@bp.post("/admin/users")
@login_required
def user_create() -> tuple[str, int]:
    _require("user.create")
    form = request.form
    username = (form.get("username") or "").strip()
    email = (form.get("email") or "").strip() or f"{username}@localhost"
    make_admin = bool(form.get("admin"))
    if make_admin:
        _require("assignment.create")
    if not username:
        flash(gettext("users.username_required"), "error")
        return _list_page(422)
    try:
        with write_transaction() as session:
            created = accounts.create_user(
                session,
                username=username,
                email=email,
                password=form.get("password") or None,
                display_name=(form.get("display_name") or "").strip() or username,
                collect_enabled=bool(form.get("collect")),
                admin=make_admin,
                by_user_id=web_session.actor().id,
            )
            user_id, password = created.user.id, created.password
            generated = created.generated
    except AppError as exc:
        flash_error(exc)
        return _list_page(422)
    flash(gettext("users.created", username=username), "success")
    return _user_page(user_id, new_password=password if generated else None)


def _user_page(
    user_id: int, *, new_password: str | None = None, status: int = 200
) -> tuple[str, int]:
    found = next((u for u in _users() if u["id"] == user_id), None)
    if found is None:
        raise UserNotFoundError()
    projects = [
        {"id": p.id, "name": p.name}
        for p in projects_service.list_projects(read_session())
    ]
    return (
        render_template(
            "web/user.html",
            user=found,
            projects=projects,
            ayllus=_ayllus(),
            roles=permissions.USER_ROLES,
            new_password=new_password,
            nav="users",
        ),
        status,
    )


@bp.get("/admin/users/<int:user_id>")
@login_required
def user_show(user_id: int) -> tuple[str, int]:
    _require("user.read")
    return _user_page(user_id)


@bp.post("/admin/users/<int:user_id>/password")
@login_required
def user_password_reset(user_id: int) -> tuple[str, int]:
    _require("user.password.invalidate")
    given = request.form.get("password") or None
    try:
        with write_transaction() as session:
            user = accounts.get_user_by_id(session, user_id)
            password = accounts.reset_password(
                session, user.username, given, by_user_id=web_session.actor().id
            )
    except AppError as exc:
        if exc.status == 404:
            raise
        flash_error(exc)
        return _user_page(user_id, status=422)
    flash(gettext("users.password_reset"), "success")
    return _user_page(user_id, new_password=None if given else password)


def _scope() -> dict[str, Any]:
    role = request.form.get("role", "")
    raw_project = request.form.get("project_id", "")
    project_id = int(raw_project) if raw_project.isdigit() else None
    scope = permissions.ROLES[role].scope if role in permissions.ROLES else None
    return {
        "role": role,
        "project_id": None if scope == "site" else project_id,
        "ayllu": (request.form.get("ayllu") or None) if scope == "ayllu" else None,
    }


@bp.post("/admin/users/<int:user_id>/roles")
@login_required
def role_assign(user_id: int) -> Response:
    _require("assignment.create")
    scope = _scope()
    try:
        with write_transaction() as session:
            roles.assign_role(
                session, user_id=user_id, by_user_id=web_session.actor().id, **scope
            )
    except AppError as exc:
        if exc.status == 404 and isinstance(exc, UserNotFoundError):
            raise
        flash(message(exc), "error")
    else:
        flash(
            gettext("users.role_assigned", role=gettext(f"role.{scope['role']}")),
            "success",
        )
    return redirect(url_for("web.user_show", user_id=user_id))


@bp.post("/admin/users/<int:user_id>/roles/revoke")
@login_required
def role_revoke(user_id: int) -> Response:
    _require("assignment.delete")
    scope = _scope()
    if scope["role"] == permissions.ADMIN and user_id == web_session.actor().id:
        flash(gettext("users.keep_own_admin"), "error")
        return redirect(url_for("web.user_show", user_id=user_id))
    try:
        with write_transaction() as session:
            revoked = roles.revoke_role(
                session, user_id=user_id, by_user_id=web_session.actor().id, **scope
            )
    except AppError as exc:
        flash(message(exc), "error")
    else:
        key = "users.role_revoked" if revoked else "users.role_not_held"
        flash(gettext(key, role=gettext(f"role.{scope['role']}")), "success")
    return redirect(url_for("web.user_show", user_id=user_id))


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return 1
    return max(1, int(raw))


@bp.get("/admin/audit")
@login_required
def audit_log() -> str:
    """The server's audit log, newest first, like Central's: who did what and
    when, filterable by action and by day (Bolivian days)."""
    _require("audit.read")
    action = (request.args.get("action") or "").strip()[:64] or None
    since, until = parse_day("since"), parse_day("until")
    start, end = day_range(since, until)
    session = read_session()
    page = audit.entries(
        session,
        action=action,
        since=start,
        until=end,
        page=_page_number(),
        per_page=AUDIT_PER_PAGE,
    )
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return render_template(
        "web/audit.html",
        page=page,
        actions=audit.actions(session),
        values={
            "action": action or "",
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        },
        page_args=args,
        nav="audit",
    )
