"""Signing in and out, and changing one's own password.

Failed sign-ins go through the throttle shared with the OpenRosa edge
(`app.auth.service.login_delay` / `record_login_failure`), counted in the
database so every worker slows the same client down.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import service as auth_service
from app.auth.errors import WeakPasswordError
from app.runtime import current_runtime
from app.web.i18n import gettext
from app.web.session import client_key, web_user
from app.web.views import bp
from app.web.views.common import message


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("web.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("web.index")
    if target.startswith("//") or "\\" in target:
        return url_for("web.index")
    return target


@bp.get("/")
@login_required
def index() -> Response:
    return redirect(url_for("web.project_list"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("web/login.html", next=request.args.get("next", ""))
    runtime = current_runtime()
    login_name = (request.form.get("login") or "").strip()
    password = request.form.get("password") or ""
    target = request.form.get("next") or ""
    key = client_key()
    with runtime.db.transaction() as session:
        delay = auth_service.login_delay(session, key)
        if delay > 0:
            flash(gettext("auth.throttled", seconds=int(delay) + 1), "error")
            return (
                render_template("web/login.html", next=target, login=login_name),
                429,
            )
        user = auth_service.authenticate(session, login_name, password)
        if user is None:
            auth_service.record_login_failure(
                session, key, limit=runtime.settings.login_attempts_per_minute
            )
        else:
            auth_service.record_login_success(session, key)
            signed_in = web_user(session, user)
    if user is None:
        flash(gettext("auth.failed"), "error")
        return (
            render_template("web/login.html", next=target, login=login_name),
            401,
        )
    login_user(signed_in)
    return redirect(_safe_next(target))


@bp.post("/logout")
def logout() -> Response:
    logout_user()
    flash(gettext("auth.logged_out"), "success")
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def account_password() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("web/password.html", nav="account")
    current = request.form.get("current") or ""
    new = request.form.get("new") or ""
    repeat = request.form.get("repeat") or ""
    runtime = current_runtime()
    key = client_key()
    error = None
    with runtime.db.transaction() as session:
        if auth_service.login_delay(session, key) > 0:
            error = gettext("auth.throttled_short")
        elif auth_service.authenticate(session, current_user.username, current) is None:
            auth_service.record_login_failure(
                session, key, limit=runtime.settings.login_attempts_per_minute
            )
            error = gettext("password.wrong_current")
        elif new != repeat:
            error = gettext("password.mismatch")
        else:
            try:
                auth_service.reset_password(session, current_user.username, new)
            except WeakPasswordError as exc:
                error = message(exc)
            else:
                user = auth_service.get_user(session, current_user.username)
                renewed = web_user(session, user)
    if error is not None:
        flash(error, "error")
        return render_template("web/password.html", nav="account"), 400
    # The fingerprint changed with the hash: sign in again on this session
    # (other sessions of this user end at their next request).
    login_user(renewed)
    flash(gettext("password.changed"), "success")
    return redirect(url_for("web.index"))
