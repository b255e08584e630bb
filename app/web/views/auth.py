"""Signing in and out, and changing one's own password.

Failed sign-ins go through the throttle shared with the OpenRosa and API
edges (`app.auth.throttle`), counted in the database so every worker slows the
same client down. A sign-in is a session row (`app.auth.sessions`); signing
out ends it on the server, and a password change ends all of the user's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import accounts, sessions, throttle
from app.auth.errors import WeakPasswordError
from app.httpauth import client_key
from app.runtime import current_runtime, write_transaction
from app.web.i18n import gettext
from app.web.session import web_user
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
    with write_transaction() as session:
        delay = throttle.login_delay(session, key)
        if delay > 0:
            flash(gettext("auth.throttled", seconds=int(delay) + 1), "error")
            return (
                render_template("web/login.html", next=target, login=login_name),
                429,
            )
        user = accounts.authenticate(session, login_name, password)
        if user is None:
            throttle.record_login_failure(
                session, key, limit=runtime.settings.login_attempts_per_minute
            )
        else:
            throttle.record_login_success(session, key)
            token = sessions.create_session(session, user).token
            signed_in = web_user(session, user, token)
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
    token = getattr(current_user, "token", None)
    if token:
        # The session ends on the server: a copy of the cookie is worth nothing.
        with write_transaction() as session:
            sessions.end_session(session, token)
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
    with write_transaction() as session:
        if throttle.login_delay(session, key) > 0:
            error = gettext("auth.throttled_short")
        elif accounts.authenticate(session, current_user.username, current) is None:
            throttle.record_login_failure(
                session, key, limit=runtime.settings.login_attempts_per_minute
            )
            error = gettext("password.wrong_current")
        elif new != repeat:
            error = gettext("password.mismatch")
        else:
            try:
                accounts.reset_password(
                    session, current_user.username, new, by_user_id=current_user.user_id
                )
            except WeakPasswordError as exc:
                error = message(exc)
            else:
                user = accounts.get_user(session, current_user.username)
                token = sessions.create_session(session, user).token
                renewed = web_user(session, user, token)
    if error is not None:
        flash(error, "error")
        return render_template("web/password.html", nav="account"), 400
    # Every session of the user ended with the old password, this one too:
    # sign this browser in again (other browsers and Bearer tokens stay out).
    login_user(renewed)
    flash(gettext("password.changed"), "success")
    return redirect(url_for("web.index"))
