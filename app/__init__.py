"""Ayni: the data-collection server of the Comunidades de Práctica of Chipaya."""

from __future__ import annotations

import logging

from flask import Flask

from app.blobs import INCOMING_MAX_AGE
from app.config import Settings
from app.httpbody import BodyGuard
from app.logredact import redact_every_handler
from app.netinfo import record_listening, running_under_server
from app.runtime import EXTENSION_KEY, Runtime, close_request_session


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI application: `gunicorn 'app:create_app()'`."""
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # App-user tokens sit in URLs, and URLs reach log lines and tracebacks:
    # every handler configured by now masks them (gunicorn's own too).
    redact_every_handler()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Werkzeug refuses larger bodies with 413 before reading them; the extra
        # 1 MB is multipart overhead above the advertised limit (openrosa.md §4.2).
        MAX_CONTENT_LENGTH=settings.max_submission_bytes + 1_000_000,
        MAX_FORM_MEMORY_SIZE=1_000_000,
        JSON_SORT_KEYS=False,
    )
    runtime = app.extensions[EXTENSION_KEY] = Runtime.from_settings(settings)
    # Once per process start (each gunicorn worker builds its own app): upload
    # files a killed worker left behind, and where this server listens for
    # `ayni urls` / `ayni create-app-user` in another shell.
    runtime.blobs.sweep_incoming(INCOMING_MAX_AGE)
    if running_under_server():
        record_listening(settings)

    from app.api import register as register_api
    from app.cli import register_cli
    from app.errorhandlers import register_error_handlers
    from app.openrosa import responses as openrosa_responses
    from app.openrosa.views import bp as openrosa_bp
    from app.web.views import init_app as init_web

    app.register_blueprint(openrosa_bp)
    register_api(app)
    init_web(app)
    openrosa_responses.init_app(app, settings.max_submission_bytes)
    register_error_handlers(app)
    register_cli(app)
    app.teardown_appcontext(close_request_session)
    # A body that is malformed or stops arriving is the client's error (400,
    # 408), whichever edge reads it.
    app.wsgi_app = BodyGuard(app.wsgi_app)  # type: ignore[method-assign]
    return app


def main() -> None:
    """The `ayni` command: Ayni's CLI commands on a fresh application."""
    from flask.cli import FlaskGroup

    FlaskGroup(create_app=create_app, add_default_commands=False)()
