"""Who is signed in to the web console: Flask-Login over server-side sessions.

Flask-Login (design.md's pick) gives `login_required`, `current_user` and the
redirect to the sign-in page. Signing in creates a session row (the same kind
`POST /v1/sessions` creates, as Central's frontend does) and Flask's signed
cookie carries only its token; the user and their grants are read again on
every request, so a role revoked or an account deleted takes effect at once.
Signing out deletes the row, and a password change deletes every row of that
user: a copied cookie is worth nothing afterwards.
"""

from __future__ import annotations

from flask import Flask
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user

from app.auth import permissions, sessions
from app.auth.actors import Actor, actor_for_user
from app.errors import PermissionDeniedError
from app.governance.visibility import Viewer
from app.runtime import read_session
from app.web.i18n import gettext

login_manager = LoginManager()


class WebUser(UserMixin):
    """The signed-in person: plain values, no ORM object outlives the request."""

    def __init__(
        self, *, user_id: int, username: str, display_name: str, email: str,
        token: str, actor: Actor,
    ) -> None:  # fmt: skip
        self.user_id = user_id
        self.username = username
        self.display_name = display_name
        self.email = email
        self.token = token
        self.actor = actor

    def get_id(self) -> str:
        return self.token

    @property
    def administers_site(self) -> bool:
        """Whether the console shows the site's own pages (users, audit log)."""
        return permissions.can(self.actor, "user.list", permissions.SITE)

    @property
    def reads_audit(self) -> bool:
        return permissions.can(self.actor, "audit.read", permissions.SITE)


class AnonymousWebUser(AnonymousUserMixin):
    actor: Actor | None = None
    administers_site = False
    reads_audit = False
    display_name = ""


def web_user(session, user, token: str) -> WebUser:  # type: ignore[no-untyped-def]
    """A WebUser for an ORM user and their session token."""
    return WebUser(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        email=user.email,
        token=token,
        actor=actor_for_user(session, user),
    )


@login_manager.user_loader
def _load_user(token: str) -> WebUser | None:
    session = read_session()
    user = sessions.user_for_token(session, token)
    if user is None:
        return None  # signed out, expired, or ended by a password change
    return web_user(session, user, token)


def init_login(app: Flask) -> None:
    login_manager.login_view = "web.login"
    login_manager.login_message = "auth.login_required"
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext
    login_manager.anonymous_user = AnonymousWebUser
    login_manager.init_app(app)


def actor() -> Actor:
    """The signed-in actor (views are behind `login_required`)."""
    found = getattr(current_user, "actor", None)
    if found is None:
        raise PermissionDeniedError()
    return found  # type: ignore[no-any-return]


def viewer(project_id: int) -> Viewer:
    return Viewer(actor=actor(), project_id=project_id)


def require(verb: str, target: permissions.Target) -> None:
    """Raises PermissionDeniedError unless the signed-in actor may."""
    permissions.require(actor(), verb, target)


def require_that(allowed: bool) -> None:
    """Raises PermissionDeniedError unless `allowed` (a decision the
    permission table or governance made)."""
    if not allowed:
        raise PermissionDeniedError()
