"""Tablets (ODK Central's app users): create, revoke, and the QR code that
configures ODK Collect in one scan (openrosa.md §6)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.auth import app_users, permissions
from app.auth.errors import AppUserNotFoundError
from app.errors import NotFoundError
from app.netinfo import server_urls
from app.projects import onboarding
from app.runtime import current_runtime, read_session, write_transaction
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


def _tablet(project_id: int, tablet_id: int) -> Any:
    try:
        return app_users.get_app_user(read_session(), project_id, tablet_id)
    except AppUserNotFoundError:
        raise NotFoundError(
            "No existe esa tableta en este proyecto.",
            "No such tablet in this project.",
        ) from None


@bp.get("/projects/<int:project_id>/tablets")
@login_required
def tablet_list(project_id: int) -> str:
    context = project_context(project_id)
    web_session.require("field_key.list", permissions.Project(project_id))
    tablets = [
        {
            "id": t.id,
            "name": t.display_name,
            "created_at": t.created_at,
            "revoked_at": t.revoked_at,
        }
        for t in reversed(app_users.list_app_users(read_session(), project_id))
    ]
    return render_template(
        "web/tablets.html", tablets=tablets, nav="tablets", **context
    )


@bp.post("/projects/<int:project_id>/tablets")
@login_required
def tablet_create(project_id: int) -> Response:
    project_context(project_id)
    web_session.require("field_key.create", permissions.Project(project_id))
    name = (request.form.get("name") or "").strip()[:MAX_NAME]
    if not name:
        flash(gettext("tablets.name_required"), "error")
        return redirect(url_for("web.tablet_list", project_id=project_id))
    with write_transaction() as session:
        tablet = app_users.create_app_user(
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
    context = project_context(project_id)
    web_session.require("field_key.list", permissions.Project(project_id))
    tablet = _tablet(project_id, tablet_id)
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
    project_context(project_id)
    web_session.require("field_key.delete", permissions.Project(project_id))
    _tablet(project_id, tablet_id)
    with write_transaction() as session:
        app_users.revoke_app_user(session, tablet_id, by_user_id=web_session.actor().id)
    flash(gettext("tablets.revoked"), "success")
    return redirect(url_for("web.tablet_list", project_id=project_id))
