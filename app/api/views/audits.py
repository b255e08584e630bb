"""/v1/audits: the audit log in Central's shape."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_audits", __name__)
