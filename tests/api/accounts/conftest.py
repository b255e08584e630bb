"""Helpers of the accounts API tests: what is stored, ids by login, and
Central's shapes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from app.db.models import ApiSession, AppUser, AuditLog, RoleAssignment, User
from app.runtime import Runtime

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
USER_KEYS = {
    "id",
    "type",
    "displayName",
    "email",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "lastLoginAt",
}
ACTOR_KEYS = {"id", "type", "displayName", "createdAt", "updatedAt", "deletedAt"}


def is_iso(value: object) -> bool:
    return isinstance(value, str) and bool(ISO.match(value))


def assert_user(body: dict) -> None:  # type: ignore[type-arg]
    assert set(body) == USER_KEYS
    assert isinstance(body["id"], int) and body["type"] == "user"
    assert isinstance(body["displayName"], str) and isinstance(body["email"], str)
    assert is_iso(body["createdAt"])
    for key in ("updatedAt", "deletedAt", "lastLoginAt"):
        assert body[key] is None or is_iso(body[key])


def assert_actor(body: dict) -> None:  # type: ignore[type-arg]
    assert set(body) == ACTOR_KEYS
    assert isinstance(body["id"], int) and body["type"] in ("user", "field_key")
    assert is_iso(body["createdAt"])


@pytest.fixture
def stored(runtime: Runtime) -> Callable[[], dict[str, int]]:
    """Row counts of everything the accounts API writes."""

    def count() -> dict[str, int]:
        with runtime.db.read() as session:
            return {
                model.__tablename__: session.scalar(
                    sa.select(sa.func.count()).select_from(model)
                )
                for model in (User, AppUser, RoleAssignment, ApiSession, AuditLog)
            }

    return count


@pytest.fixture
def user_id(runtime: Runtime) -> Callable[[str], int]:
    def find(login: str) -> int:
        with runtime.db.read() as session:
            return session.scalar(  # type: ignore[no-any-return]
                sa.select(User.id).where(
                    sa.or_(User.username == login, User.email == login)
                )
            )

    return find


@pytest.fixture
def app_user_id(runtime: Runtime, seeded) -> int:  # type: ignore[no-untyped-def]
    """The seeded tablet's id."""
    with runtime.db.read() as session:
        return session.scalar(  # type: ignore[no-any-return]
            sa.select(AppUser.id).where(AppUser.token == seeded.token)
        )


def actions(runtime: Runtime, prefix: str = "") -> list[str]:
    with runtime.db.read() as session:
        return list(
            session.scalars(
                sa.select(AuditLog.action)
                .where(AuditLog.action.startswith(prefix))
                .order_by(AuditLog.id)
            )
        )
