"""Users, roles and assignments: `/v1/users`, `/v1/roles`,
`/v1/assignments` (Central's Accounts and Assignments)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_users", __name__)
