"""Errors of the projects service."""

from __future__ import annotations

from app.errors import NotFoundError


class ProjectNotFoundError(NotFoundError):
    code = "project_not_found"
    default_es = "No existe ese proyecto."
    default_en = "No such project."
