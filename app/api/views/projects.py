"""Projects, their assignments, app users and form assignments:
`/v1/projects/...` (Central's Projects and App Users)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_projects", __name__)
