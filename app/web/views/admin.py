"""Site administration: web users, their passwords and their roles
(site admin; manager, analyst, data collector per project; guardian of
restricted knowledge per project and ayllu, domain.md §4).

New and reset passwords are shown once, on the page that answers the POST;
they never go into a flashed message, which would put them in the session
cookie.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app.auth import service as auth_service
from app.auth.actors import actor_for_user
from app.auth.errors import UserNotFoundError
from app.errors import AppError
from app.projects import service as projects_service
from app.runtime import current_runtime
from app.web import session as web_session
from app.web.i18n import gettext
from app.web.views import bp
from app.web.views.common import flash_error, message, project_choices

ROLES = ("site_admin", "manager", "analyst", "data_collector", "guardian")
# domain.md §2: the four ayllus; used when no form of a project lists them.
DEFAULT_AYLLUS = ("aransaya", "manasaya", "wistrullani", "ayparavi")


def _require_admin() -> None:
    web_session.require(web_session.actor().site_admin)


def _users(session: Any) -> list[dict[str, Any]]:
    projects = {p.id: p.name for p in projects_service.list_projects(session)}
    rows = []
    for user in auth_service.list_users(session):
        roles = actor_for_user(session, user).roles
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
                        "role": role,
                        "project_id": pid,
                        "project": projects.get(pid, "") if pid else "",
                        "ayllu": ayllu,
                    }
                    for role, pid, ayllu in roles
                    if role != "app_user"
                ],
            }
        )
    return rows


def _ayllus(session: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for project in projects_service.list_projects(session):
        found.update(project_choices(session, project.id).get("ayllu", {}))
    return found or {name: {"": name.capitalize()} for name in DEFAULT_AYLLUS}


def _list_page(status: int = 200, **extra: Any) -> tuple[str, int]:
    with current_runtime().db.read() as session:
        users = _users(session)
    return (
        render_template("web/users.html", users=users, nav="users", **extra),
        status,
    )


@bp.get("/admin/users")
@login_required
def user_list() -> tuple[str, int]:
    _require_admin()
    return _list_page()


@bp.post("/admin/users")
@login_required
def user_create() -> tuple[str, int]:
    _require_admin()
    form = request.form
    username = (form.get("username") or "").strip()
    email = (form.get("email") or "").strip() or f"{username}@localhost"
    if not username:
        flash(gettext("users.username_required"), "error")
        return _list_page(422)
    try:
        with current_runtime().db.transaction() as session:
            created = auth_service.create_user(
                session,
                username=username,
                email=email,
                password=form.get("password") or None,
                display_name=(form.get("display_name") or "").strip() or username,
                collect_enabled=bool(form.get("collect")),
                site_admin=bool(form.get("site_admin")),
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
    with current_runtime().db.read() as session:
        found = next((u for u in _users(session) if u["id"] == user_id), None)
        if found is None:
            raise UserNotFoundError()
        projects = [
            {"id": p.id, "name": p.name}
            for p in projects_service.list_projects(session)
        ]
        ayllus = _ayllus(session)
    return (
        render_template(
            "web/user.html",
            user=found,
            projects=projects,
            ayllus=ayllus,
            roles=ROLES,
            new_password=new_password,
            is_self=found["id"] == web_session.actor().id,
            nav="users",
        ),
        status,
    )


@bp.get("/admin/users/<int:user_id>")
@login_required
def user_show(user_id: int) -> tuple[str, int]:
    _require_admin()
    return _user_page(user_id)


def _username(session: Any, user_id: int) -> str:
    user = next((u for u in auth_service.list_users(session) if u.id == user_id), None)
    if user is None:
        raise UserNotFoundError()
    return user.username


@bp.post("/admin/users/<int:user_id>/password")
@login_required
def user_password_reset(user_id: int) -> tuple[str, int]:
    _require_admin()
    given = request.form.get("password") or None
    try:
        with current_runtime().db.transaction() as session:
            password = auth_service.reset_password(
                session, _username(session, user_id), given
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
    return {
        "role": role,
        "project_id": None if role == "site_admin" else project_id,
        "ayllu": (request.form.get("ayllu") or None) if role == "guardian" else None,
    }


@bp.post("/admin/users/<int:user_id>/roles")
@login_required
def role_assign(user_id: int) -> Response:
    _require_admin()
    scope = _scope()
    try:
        with current_runtime().db.transaction() as session:
            auth_service.assign_role(
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
    _require_admin()
    scope = _scope()
    if scope["role"] == "site_admin" and user_id == web_session.actor().id:
        flash(gettext("users.keep_own_admin"), "error")
        return redirect(url_for("web.user_show", user_id=user_id))
    try:
        with current_runtime().db.transaction() as session:
            revoked = auth_service.revoke_role(
                session, user_id=user_id, by_user_id=web_session.actor().id, **scope
            )
    except AppError as exc:
        flash(message(exc), "error")
    else:
        key = "users.role_revoked" if revoked else "users.role_not_held"
        flash(gettext(key, role=gettext(f"role.{scope['role']}")), "success")
    return redirect(url_for("web.user_show", user_id=user_id))
