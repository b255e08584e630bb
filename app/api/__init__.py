"""The REST API in ODK Central's v1 shapes, plus `/healthz`.

Each module of `app.api.views` owns one group of Central's endpoints and has
one blueprint; `register` mounts them all. Every `/v1/` view is declared for
the OpenAPI document (`app.api.openapi.operation`).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.api.health import bp as health
    from app.api.views import (
        aggregates,
        audits,
        consent,
        exports,
        forms,
        odata,
        openapi,
        projects,
        sessions,
        submissions,
        users,
    )

    app.register_blueprint(health)
    for module in (
        sessions,
        users,
        audits,
        projects,
        forms,
        submissions,
        exports,
        aggregates,
        consent,
        odata,
        openapi,
    ):
        app.register_blueprint(module.bp)
