"""The web console blueprint: sign-in, projects and forms, tablets,
submissions and their review, exports, the planning dashboard, users.

Views parse the request, authorise, call services and render; they never
touch SQL (import-linter keeps `sqlalchemy` and `app.db` out of `app.web`).
Every POST carries a CSRF token (Flask-WTF), checked here for this blueprint
only: OpenRosa and the API are not cookie-authenticated, so they need none and
their clients (Collect, pyODK) could not send one. Pages are served with a
Content-Security-Policy that allows nothing but this server, which is also
how the console proves it loads nothing from the internet.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.runtime import EXTENSION_KEY
from app.web import i18n
from app.web.errors import error_page
from app.web.presenters import local_date, local_time
from app.web.session import init_login
from app.web.views.common import lang_url

WEB_DIR = Path(__file__).resolve().parent.parent
bp = Blueprint(
    "web",
    __name__,
    template_folder=str(WEB_DIR / "templates"),
    static_folder=str(WEB_DIR / "static"),
    static_url_path="/assets",
)
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


@bp.before_request
def _check_csrf() -> None:
    i18n.current_lang()
    if request.method == "POST":
        csrf.protect()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        # Pages show personal data: never kept by a shared laptop's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return i18n.remember_lang(response)


@bp.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> Response:
    return error_page(400, i18n.gettext("error.csrf"), i18n.current_lang())


def init_app(app: Flask) -> None:
    """Register the console: blueprint, sign-in, CSRF, template helpers."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # only this blueprint
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid for the session
    # Flask's defaults exist already (setdefault would keep them): the cookie
    # is not sent on cross-site requests, and named for this app.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_NAME"] = "ayni_session"
    # The embedded laptop serves plain HTTP on the LAN; behind TLS (the grown
    # deployment, PUBLIC_URL https://…) the cookie must never travel in clear.
    public_url = app.extensions[EXTENSION_KEY].settings.public_url or ""
    app.config["SESSION_COOKIE_SECURE"] = public_url.startswith("https://")
    csrf.init_app(app)
    init_login(app)
    app.jinja_env.globals.update(
        _=i18n.gettext,
        label_of=i18n.label_of,
        current_lang=i18n.current_lang,
        local_time=local_time,
        local_date=local_date,
        lang_url=lang_url,
    )
    from app.web.views import (  # noqa: F401 - registers the routes
        admin,
        auth,
        consent,
        dashboard,
        exports,
        projects,
        submissions,
        tablets,
    )

    app.register_blueprint(bp)
