"""OData v4 for each form: /v1/projects/{id}/forms/{fid}.svc/... (Central's OData)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_odata", __name__)
