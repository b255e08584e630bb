"""Fixtures of the API tests: the seeded world (default project, the test
form, an app user, the site admin) and people in every role, each with a
Bearer session header as `POST /v1/sessions` would give.

Sessions are made by the sessions service rather than by signing in, so a
test pays one password hash per person, not a hash and a verification.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.auth import accounts, roles, sessions
from app.runtime import Runtime
from tests.support import Seeded, seed

PASSWORD = "clave-de-prueba-789"
Headers = dict[str, str]


@pytest.fixture
def seeded(runtime: Runtime) -> Seeded:
    return seed(runtime)


def bearer_for(runtime: Runtime, login: str) -> Headers:
    with runtime.db.transaction() as session:
        user = accounts.get_user(session, login)
        token = sessions.create_session(session, user).token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_headers(runtime: Runtime, seeded: Seeded) -> Headers:
    return bearer_for(runtime, "admin")


@pytest.fixture
def person(runtime: Runtime, seeded: Seeded) -> Callable[..., Headers]:
    """`person("ana", "manager")`: a new user with that role in the default
    project (or none: `role=None`), returned as Bearer headers; `ayllu`
    scopes a guardian."""

    def make(
        username: str,
        role: str | None,
        *,
        ayllu: str | None = None,
        project_id: int | None = None,
    ) -> Headers:
        with runtime.db.transaction() as session:
            new = accounts.create_user(
                session,
                username=username,
                email=f"{username}@cdp.example",
                password=PASSWORD,
            )
            if role is not None:
                roles.assign_role(
                    session,
                    role=role,
                    user_id=new.user.id,
                    project_id=project_id or seeded.project_id,
                    ayllu=ayllu,
                )
        return bearer_for(runtime, username)

    return make
