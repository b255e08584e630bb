"""Tablets (ODK Central's app users): create, revoke, and the QR code that
configures ODK Collect in one scan (openrosa.md §6)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.auth import service as auth_service
from app.errors import NotFoundError
from app.netinfo import server_urls
from app.projects import onboarding
from app.runtime import current_runtime
from app.web import session as web_session
from app.web.i18n import gettext
from app.web.views import bp
from app.web.views.common import project_context

MAX_NAME = 120


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def server_candidates() -> list[str]:
    """Base URLs a tablet could use, best first: the configured public URL,
    the address this page was opened at (unless it is the laptop's own
    loopback, which a tablet cannot reach), then the LAN addresses."""
    settings = current_runtime().settings
    found: list[str] = []
    if settings.public_url:
        found.append(settings.public_url.rstrip("/"))
    here = request.host_url.rstrip("/")
    if not _is_loopback(here):
        found.append(here)
    found += server_urls(settings.host, settings.port)
    if not found:
        found.append(here)
    return list(dict.fromkeys(found))


def _tablets(session: Any, project_id: int) -> list[Any]:
    return auth_service.list_app_users(session, project_id)


@bp.get("/projects/<int:project_id>/tablets")
@login_required
def tablet_list(project_id: int) -> str:
    web_session.require(web_session.can_manage(project_id))
    with current_runtime().db.read() as session:
        context = project_context(session, project_id)
        tablets = [
            {
                "id": t.id,
                "name": t.display_name,
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
            }
            for t in reversed(_tablets(session, project_id))
        ]
    return render_template(
        "web/tablets.html", tablets=tablets, nav="tablets", **context
    )


@bp.post("/projects/<int:project_id>/tablets")
@login_required
def tablet_create(project_id: int) -> Response:
    web_session.require(web_session.can_manage(project_id))
    name = (request.form.get("name") or "").strip()[:MAX_NAME]
    if not name:
        flash(gettext("tablets.name_required"), "error")
        return redirect(url_for("web.tablet_list", project_id=project_id))
    with current_runtime().db.transaction() as session:
        project_context(session, project_id)
        tablet = auth_service.create_app_user(
            session,
            project_id=project_id,
            display_name=name,
            created_by_id=web_session.actor().id,
        )
        tablet_id = tablet.id
    flash(gettext("tablets.created", name=name), "success")
    return redirect(
        url_for("web.tablet_show", project_id=project_id, tablet_id=tablet_id)
    )


@bp.get("/projects/<int:project_id>/tablets/<int:tablet_id>")
@login_required
def tablet_show(project_id: int, tablet_id: int) -> str:
    web_session.require(web_session.can_manage(project_id))
    with current_runtime().db.read() as session:
        context = project_context(session, project_id)
        tablet = next(
            (t for t in _tablets(session, project_id) if t.id == tablet_id), None
        )
        if tablet is None:
            raise NotFoundError(
                "No existe esa tableta en este proyecto.",
                "No such tablet in this project.",
            )
        info = {
            "id": tablet.id,
            "name": tablet.display_name,
            "revoked_at": tablet.revoked_at,
            "created_at": tablet.created_at,
        }
        token = tablet.token
    candidates = server_candidates()
    base = request.args.get("base")
    if base not in candidates:
        base = candidates[0]
    qr = None
    server_url = None
    if info["revoked_at"] is None:
        server_url = onboarding.app_user_server_url(base, token, project_id)
        settings = onboarding.collect_settings(server_url, context["project"].name)
        # segno's SVG: generated here from our own data, safe to inline.
        qr = Markup(onboarding.qr_svg(onboarding.qr_payload(settings)))  # noqa: S704
    return render_template(
        "web/tablet.html",
        tablet=info,
        qr=qr,
        server_url=server_url,
        base=base,
        candidates=candidates,
        nav="tablets",
        **context,
    )


@bp.post("/projects/<int:project_id>/tablets/<int:tablet_id>/revoke")
@login_required
def tablet_revoke(project_id: int, tablet_id: int) -> Response:
    web_session.require(web_session.can_manage(project_id))
    with current_runtime().db.transaction() as session:
        project_context(session, project_id)
        if not any(t.id == tablet_id for t in _tablets(session, project_id)):
            raise NotFoundError(
                "No existe esa tableta en este proyecto.",
                "No such tablet in this project.",
            )
        auth_service.revoke_app_user(
            session, tablet_id, by_user_id=web_session.actor().id
        )
    flash(gettext("tablets.revoked"), "success")
    return redirect(url_for("web.tablet_list", project_id=project_id))
