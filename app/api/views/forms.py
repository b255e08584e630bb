"""Forms, versions, drafts and form attachments:
`/v1/projects/{id}/forms/...` (Central's Forms)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_forms", __name__)
