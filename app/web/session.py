"""Who is signed in to the web console: Flask-Login over Flask's signed cookie.

Flask-Login (design.md's pick) gives `login_required`, `current_user` and the
redirect to the sign-in page; the session itself is Flask's signed cookie, so
any worker of any process can read it and nothing is kept on the server. The
cookie holds the username and a fingerprint of the password hash: changing or
resetting a password ends every other session of that user at their next
request. The user is read again (with their roles) on every request, so a role
revoked or an account deleted takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, request
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user

from app.auth import service as auth_service
from app.auth.actors import Actor, actor_for_user
from app.errors import PermissionDeniedError
from app.governance.service import Viewer
from app.runtime import current_runtime
from app.web.i18n import gettext

login_manager = LoginManager()


class WebUser(UserMixin):
    """The signed-in person: plain values, no ORM object outlives the request."""

    def __init__(
        self, *, user_id: int, username: str, display_name: str, email: str,
        fingerprint: str, actor: Actor,
    ) -> None:  # fmt: skip
        self.user_id = user_id
        self.username = username
        self.display_name = display_name
        self.email = email
        self.fingerprint = fingerprint
        self.actor = actor

    def get_id(self) -> str:
        return f"{self.username}|{self.fingerprint}"

    @property
    def site_admin(self) -> bool:
        return self.actor.site_admin


class AnonymousWebUser(AnonymousUserMixin):
    actor: Actor | None = None
    site_admin = False
    display_name = ""


def password_fingerprint(user_id: int, password_hash: str | None) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{user_id}:{password_hash or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def web_user(session, user) -> WebUser:  # type: ignore[no-untyped-def]
    """A WebUser for an ORM user, read inside the caller's session."""
    return WebUser(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        email=user.email,
        fingerprint=password_fingerprint(user.id, user.password_hash),
        actor=actor_for_user(session, user),
    )


@login_manager.user_loader
def _load_user(key: str) -> WebUser | None:
    username, _, fingerprint = key.rpartition("|")
    if not username or not fingerprint:
        return None
    with current_runtime().db.read() as session:
        user = auth_service.find_user(session, username)
        # find_user also matches e-mails: the cookie names a username.
        if user is None or user.username != username:
            return None
        loaded = web_user(session, user)
    if not hmac.compare_digest(loaded.fingerprint, fingerprint):
        return None  # the password changed since this session began
    return loaded


def client_key() -> str:
    """The throttle key of this client, shaped as the OpenRosa edge's, so a
    client failing on both surfaces is slowed down once, not twice."""
    settings = current_runtime().settings
    if settings.trusted_proxy and request.access_route:
        return f"ip:{request.access_route[0]}"
    return f"ip:{request.remote_addr}"


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


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError()


# --- what the signed-in actor may do in a project ---------------------------------


def is_member(project_id: int) -> bool:
    found = actor()
    return found.site_admin or any(pid == project_id for _r, pid, _a in found.roles)


def can_manage(project_id: int) -> bool:
    """Publish forms, manage tablets: managers of the project, site admins."""
    found = actor()
    return found.site_admin or found.has_project_role(project_id, "manager")
