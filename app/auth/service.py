"""Accounts and who may do what: users, app users, roles, API sessions, logins.

Owns web users and their passwords, app users (tablet tokens), role assignments
and the rules built on them (`can_submit`, `can_list`), API bearer sessions, the
Digest HA1 look-up for Collect and the login throttle shared by all workers.
Services take the session first, flush and never commit (the edge owns the
transaction); no Flask here, and the Digest protocol itself lives in
`app.auth.digest`.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import passwords
from app.auth.actors import Actor
from app.auth.errors import (
    AppUserNotFoundError,
    InvalidRoleError,
    UserExistsError,
    UserNotFoundError,
    WeakPasswordError,
)
from app.db.models import (
    ApiSession,
    AppUser,
    AuditLog,
    Form,
    LoginThrottle,
    Project,
    RoleAssignment,
    User,
)
from app.db.models.accounts import ROLES
from app.db.types import UTCDateTime, utcnow
from app.errors import NotFoundError


@dataclass(frozen=True)
class NewUser:
    user: User
    password: str
    generated: bool


def _set_password(user: User, password: str) -> None:
    if not passwords.is_acceptable_password(password):
        raise WeakPasswordError()
    user.password_hash = passwords.hash_password(password)
    if user.collect_enabled:
        # Collect may log in with the username or the e-mail: keep both HA1s.
        user.digest_ha1 = passwords.digest_ha1(user.username, password)
        user.digest_ha1_email = passwords.digest_ha1(user.email, password)
    else:
        user.digest_ha1 = user.digest_ha1_email = None


def create_user(
    session: Session,
    *,
    username: str,
    email: str,
    password: str | None = None,
    display_name: str | None = None,
    collect_enabled: bool = False,
    site_admin: bool = False,
) -> NewUser:
    """Create a web user; a password is generated when none is given.

    Raises:
        UserExistsError: the username or e-mail is taken.
        WeakPasswordError: the password is too short or not printable ASCII.
    """
    generated = password is None
    password = password or passwords.generate_password()
    user = User(
        username=username.strip(),
        email=email.strip().lower(),
        display_name=display_name or username,
        collect_enabled=collect_enabled,
    )
    _set_password(user, password)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise UserExistsError() from exc
    if site_admin:
        session.add(RoleAssignment(role="site_admin", user_id=user.id))
    session.add(
        AuditLog(action="user.create", target_type="user", target_id=str(user.id))
    )
    session.flush()
    return NewUser(user, password, generated)


def find_user(session: Session, login: str) -> User | None:
    """The active user whose username or e-mail is `login`."""
    login = login.strip()
    return session.scalars(
        sa.select(User).where(
            sa.or_(User.username == login, User.email == login.lower()),
            User.deleted_at.is_(None),
        )
    ).first()


def get_user(session: Session, login: str) -> User:
    """Raises: UserNotFoundError."""
    user = find_user(session, login)
    if user is None:
        raise UserNotFoundError()
    return user


def reset_password(session: Session, login: str, password: str | None = None) -> str:
    """Set a new password (generated when none is given) and return it.

    Raises: UserNotFoundError, WeakPasswordError.
    """
    user = get_user(session, login)
    password = password or passwords.generate_password()
    _set_password(user, password)
    session.add(
        AuditLog(
            action="user.password_reset", target_type="user", target_id=str(user.id)
        )
    )
    session.flush()
    return password


def authenticate(session: Session, login: str, password: str) -> User | None:
    user = find_user(session, login)
    if user is None or not passwords.verify_password(user.password_hash, password):
        return None
    return user


def has_site_admin(session: Session) -> bool:
    found = session.scalar(
        sa.select(RoleAssignment.id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == "site_admin", User.deleted_at.is_(None))
        .limit(1)
    )
    return found is not None


def is_site_admin(session: Session, user: User) -> bool:
    found = session.scalar(
        sa.select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id, RoleAssignment.role == "site_admin"
        )
    )
    return found is not None


def list_users(session: Session) -> list[User]:
    return list(
        session.scalars(
            sa.select(User).where(User.deleted_at.is_(None)).order_by(User.username)
        )
    )


# --- Tokens ---------------------------------------------------------------


def _new_token() -> str:
    """64 characters of [A-Za-z0-9!$]: 48 random bytes in base64.

    ODK Central's token shape (openrosa.md §5): `/` and `+` are swapped for `!`
    and `$` so the token can sit in a URL path segment unescaped. 48 bytes give
    no `=` padding.
    """
    raw = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
    return raw.replace("/", "!").replace("+", "$")


def _audit(
    session: Session,
    action: str,
    target_type: str,
    target_id: int,
    *,
    by_user_id: int | None = None,
    **details: object,
) -> None:
    session.add(
        AuditLog(
            action=action,
            actor_user_id=by_user_id,
            target_type=target_type,
            target_id=str(target_id),
            details=details,
        )
    )


# --- App users (tablets) --------------------------------------------------


def create_app_user(
    session: Session,
    *,
    project_id: int,
    display_name: str,
    created_by_id: int | None = None,
) -> AppUser:
    """Create an app user of the project, with a fresh token and its role.

    Raises:
        NotFoundError: no such (live) project.
    """
    project = session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        raise NotFoundError("No existe ese proyecto.", "No such project.")
    app_user = AppUser(
        project_id=project_id,
        display_name=display_name.strip() or "Tableta",
        token=_new_token(),
        created_by_id=created_by_id,
    )
    session.add(app_user)
    session.flush()
    session.add(
        RoleAssignment(role="app_user", app_user_id=app_user.id, project_id=project_id)
    )
    _audit(
        session,
        "app_user.create",
        "app_user",
        app_user.id,
        by_user_id=created_by_id,
        project_id=project_id,
    )
    session.flush()
    return app_user


def revoke_app_user(
    session: Session, app_user_id: int, *, by_user_id: int | None = None
) -> None:
    """Revoke the app user's token for good; revoking twice changes nothing.

    Raises:
        AppUserNotFoundError: no such app user.
    """
    app_user = session.get(AppUser, app_user_id)
    if app_user is None:
        raise AppUserNotFoundError()
    if app_user.revoked_at is not None:
        return
    app_user.revoked_at = utcnow()
    _audit(
        session,
        "app_user.revoke",
        "app_user",
        app_user.id,
        by_user_id=by_user_id,
        project_id=app_user.project_id,
    )
    session.flush()


def app_user_for_token(session: Session, token: str) -> AppUser | None:
    """The live app user holding `token`, or None."""
    # The token is looked up through its unique index rather than compared in
    # Python: timing of an index probe reveals nothing usable about 384 bits.
    if not token or len(token) > 64:
        return None
    return session.scalars(
        sa.select(AppUser).where(AppUser.token == token, AppUser.revoked_at.is_(None))
    ).first()


def list_app_users(
    session: Session, project_id: int, *, include_revoked: bool = True
) -> list[AppUser]:
    """The project's app users, oldest first (revoked ones too, as Central lists)."""
    query = sa.select(AppUser).where(AppUser.project_id == project_id)
    if not include_revoked:
        query = query.where(AppUser.revoked_at.is_(None))
    return list(session.scalars(query.order_by(AppUser.id)))


# --- API sessions (Central's POST /v1/sessions) ---------------------------

API_SESSION_TTL = timedelta(hours=24)


def create_api_session(
    session: Session,
    user: User,
    *,
    ttl: timedelta = API_SESSION_TTL,
    now: datetime | None = None,
) -> ApiSession:
    """A bearer token for `user`, valid for `ttl` (Central: 24 hours)."""
    now = now or utcnow()
    api_session = ApiSession(
        token=_new_token(), user_id=user.id, created_at=now, expires_at=now + ttl
    )
    session.add(api_session)
    session.flush()
    _audit(session, "user.session.create", "user", user.id, by_user_id=user.id)
    session.flush()
    return api_session


def user_for_bearer(
    session: Session, token: str, *, now: datetime | None = None
) -> User | None:
    """The live user of an unexpired API session, or None."""
    if not token or len(token) > 64:
        return None
    return session.scalars(
        sa.select(User)
        .join(ApiSession, ApiSession.user_id == User.id)
        .where(
            ApiSession.token == token,
            ApiSession.expires_at > (now or utcnow()),
            User.deleted_at.is_(None),
        )
    ).first()


def end_api_session(session: Session, token: str) -> bool:
    """End the API session; False if there was none with that token."""
    result = session.execute(sa.delete(ApiSession).where(ApiSession.token == token))
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- Collect login (Digest) -----------------------------------------------


def digest_ha1_for(session: Session, login: str) -> tuple[User, str] | None:
    """The Collect-enabled user called `login` and the HA1 Digest must match.

    Collect may be set up with the username or the e-mail; each has its own
    HA1 because the login is part of the hash. Matching is exact, as the hash
    is: a login typed differently could never verify anyway.
    """
    base = sa.select(User).where(
        User.deleted_at.is_(None), User.collect_enabled.is_(True)
    )
    user = session.scalars(base.where(User.username == login)).first()
    if user is not None and user.digest_ha1:
        return user, user.digest_ha1
    user = session.scalars(base.where(User.email == login)).first()
    if user is not None and user.digest_ha1_email:
        return user, user.digest_ha1_email
    return None


# --- Login throttle -------------------------------------------------------

LOGIN_FAILURE_LIMIT = 10
LOGIN_WINDOW = timedelta(seconds=60)
LOGIN_LOCK = timedelta(seconds=60)
LOGIN_MAX_LOCK = timedelta(minutes=15)


def _insert_for(session: Session):  # type: ignore[no-untyped-def]
    # Both dialects spell INSERT … ON CONFLICT the same way in SQLAlchemy, but
    # each needs its own construct (same pattern as app/blobs).
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def login_delay(
    session: Session, client_key: str, now: datetime | None = None
) -> float:
    """Seconds the client must still wait before trying to log in; 0 when free."""
    locked_until = session.scalar(
        sa.select(LoginThrottle.locked_until).where(
            LoginThrottle.client_key == client_key
        )
    )
    if locked_until is None:
        return 0.0
    return max(0.0, (locked_until - (now or utcnow())).total_seconds())


def record_login_failure(
    session: Session,
    client_key: str,
    *,
    limit: int = LOGIN_FAILURE_LIMIT,
    window: timedelta = LOGIN_WINDOW,
    lock: timedelta = LOGIN_LOCK,
    max_lock: timedelta = LOGIN_MAX_LOCK,
    now: datetime | None = None,
) -> None:
    """Count a failed login; after `limit` failures within `window`, lock.

    The n-th lock lasts `lock * 2**(n-1)`, at most `max_lock`. Failures keep
    counting across locks while the client keeps failing; a client quiet for a
    whole `window` after its lock (or its last failure) starts afresh. Failures
    reported while locked are not counted: the edge refuses before checking.
    """
    now = now or utcnow()
    limit = max(1, limit)
    now_value = sa.literal(now, UTCDateTime())
    table = LoginThrottle.__table__
    locked = sa.and_(
        table.c.locked_until.is_not(None), table.c.locked_until > now_value
    )
    expired = table.c.window_start < sa.literal(now - window, UTCDateTime())
    # One INSERT … ON CONFLICT DO UPDATE: the increment is done by the database
    # on the row it holds locked, so concurrent workers never lose a count
    # (PostgreSQL row lock; SQLite's single writer). Column references in SET
    # mean the row already stored.
    statement = (
        _insert_for(session)(LoginThrottle)
        .values(client_key=client_key, failures=1, window_start=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=["client_key"],
            set_={
                "failures": sa.case(
                    (locked, table.c.failures),
                    (expired, 1),
                    else_=table.c.failures + 1,
                ),
                "window_start": sa.case(
                    (locked, table.c.window_start),
                    (expired, now_value),
                    else_=table.c.window_start,
                ),
            },
        )
        .returning(table.c.failures, table.c.locked_until)
    )
    failures, locked_until = session.execute(statement).one()
    if locked_until is not None and locked_until > now:
        return
    if failures % limit == 0:
        nth_lock = failures // limit
        duration = min(lock * 2 ** min(nth_lock - 1, 20), max_lock)
        # The next window opens when the lock ends, so failing again right
        # after it keeps counting towards a longer lock.
        session.execute(
            sa.update(LoginThrottle)
            .where(LoginThrottle.client_key == client_key)
            .values(locked_until=now + duration, window_start=now + duration)
        )
    session.flush()


def record_login_success(
    session: Session, client_key: str, now: datetime | None = None
) -> None:
    """Forget the client's failures, unless it is locked (a lock always runs out)."""
    now_value = sa.literal(now or utcnow(), UTCDateTime())
    session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.client_key == client_key,
            sa.or_(
                LoginThrottle.locked_until.is_(None),
                LoginThrottle.locked_until <= now_value,
            ),
        )
    )
    session.flush()


# --- Roles ----------------------------------------------------------------

# Roles a web user holds in one project; `guardian` also names an ayllu.
_PROJECT_ROLES = ("manager", "analyst", "data_collector", "guardian")


@dataclass(frozen=True)
class _Grant:
    role: str
    user_id: int | None
    app_user_id: int | None
    project_id: int | None
    form_id: int | None
    ayllu: str | None

    def matches(self) -> sa.ColumnElement[bool]:
        # `column == None` renders IS NULL, so an absent scope matches only
        # rows without that scope.
        return sa.and_(
            RoleAssignment.role == self.role,
            RoleAssignment.user_id == self.user_id,
            RoleAssignment.app_user_id == self.app_user_id,
            RoleAssignment.project_id == self.project_id,
            RoleAssignment.form_id == self.form_id,
            RoleAssignment.ayllu == self.ayllu,
        )

    def details(self) -> dict[str, object]:
        return {
            "role": self.role,
            "user_id": self.user_id,
            "app_user_id": self.app_user_id,
            "project_id": self.project_id,
            "form_id": self.form_id,
            "ayllu": self.ayllu,
        }


def _invalid(es: str, en: str) -> InvalidRoleError:
    return InvalidRoleError(es, en)


def _check_shape(grant: _Grant) -> None:
    """The scope each role allows (see RoleAssignment's docstring)."""
    if grant.role not in ROLES:
        raise _invalid(
            f"Rol desconocido: «{grant.role}».", f"Unknown role '{grant.role}'."
        )
    if (grant.user_id is None) == (grant.app_user_id is None):
        raise _invalid(
            "Indique un usuario o un usuario de aplicación, no ambos.",
            "Give either a user or an app user, not both.",
        )
    if grant.role == "app_user":
        if grant.app_user_id is None or grant.ayllu is not None:
            raise _invalid(
                "El rol app_user es solo para usuarios de aplicación, sin ayllu.",
                "The app_user role is for app users only, without an ayllu.",
            )
        return
    if grant.app_user_id is not None:
        raise _invalid(
            "Un usuario de aplicación solo puede tener el rol app_user.",
            "An app user can only hold the app_user role.",
        )
    if grant.form_id is not None:
        raise _invalid(
            "Solo el rol app_user puede limitarse a un formulario.",
            "Only the app_user role can be narrowed to a form.",
        )
    if grant.role == "site_admin":
        if grant.project_id is not None or grant.ayllu is not None:
            raise _invalid(
                "El rol site_admin vale para todo el sitio, sin proyecto ni ayllu.",
                "The site_admin role is site-wide, without project or ayllu.",
            )
        return
    if grant.project_id is None:
        raise _invalid(
            f"El rol {grant.role} necesita un proyecto.",
            f"The {grant.role} role needs a project.",
        )
    if (grant.role == "guardian") != (grant.ayllu is not None):
        raise _invalid(
            "El rol guardian necesita un ayllu, y solo él lo lleva.",
            "The guardian role needs an ayllu, and only it carries one.",
        )


def _grant(
    session: Session,
    *,
    role: str,
    user_id: int | None,
    app_user_id: int | None,
    project_id: int | None,
    form_id: int | None,
    ayllu: str | None,
) -> _Grant:
    ayllu = (ayllu or "").strip() or None
    if role == "app_user" and app_user_id is not None and project_id is None:
        # An app user belongs to exactly one project: default to it.
        project_id = session.scalar(
            sa.select(AppUser.project_id).where(AppUser.id == app_user_id)
        )
    return _Grant(role, user_id, app_user_id, project_id, form_id, ayllu)


def _check_targets(session: Session, grant: _Grant) -> None:
    """The grantee, project and form exist and fit together."""
    if grant.user_id is not None:
        user = session.get(User, grant.user_id)
        if user is None or user.deleted_at is not None:
            raise UserNotFoundError()
    if grant.app_user_id is not None:
        app_user = session.get(AppUser, grant.app_user_id)
        if app_user is None or app_user.revoked_at is not None:
            raise AppUserNotFoundError()
        if grant.project_id != app_user.project_id:
            raise _invalid(
                "Un usuario de aplicación solo tiene roles en su propio proyecto.",
                "An app user only holds roles in its own project.",
            )
    if grant.project_id is not None:
        project = session.get(Project, grant.project_id)
        if project is None or project.deleted_at is not None:
            raise NotFoundError("No existe ese proyecto.", "No such project.")
    if grant.form_id is not None:
        form_project = session.scalar(
            sa.select(Form.project_id).where(Form.id == grant.form_id)
        )
        if form_project is None or form_project != grant.project_id:
            raise _invalid(
                "Ese formulario no pertenece al proyecto.",
                "That form does not belong to the project.",
            )


def assign_role(
    session: Session,
    *,
    role: str,
    user_id: int | None = None,
    app_user_id: int | None = None,
    project_id: int | None = None,
    form_id: int | None = None,
    ayllu: str | None = None,
    by_user_id: int | None = None,
) -> RoleAssignment:
    """Grant a role; granting one already held returns the existing row.

    `site_admin` is site-wide; manager, analyst, data_collector and guardian
    are per project, guardian also per ayllu; `app_user` belongs to app users,
    optionally narrowed to one form of their project per row.

    Raises:
        InvalidRoleError: unknown role, or a scope the role does not allow.
        UserNotFoundError, AppUserNotFoundError: no such (live) grantee.
        NotFoundError: no such project.
    """
    grant = _grant(
        session,
        role=role,
        user_id=user_id,
        app_user_id=app_user_id,
        project_id=project_id,
        form_id=form_id,
        ayllu=ayllu,
    )
    _check_shape(grant)
    _check_targets(session, grant)
    # No unique constraint covers nullable scopes portably, so two concurrent
    # grants could both insert; a duplicate row grants nothing more and
    # revoke_role removes all copies.
    existing = session.scalars(
        sa.select(RoleAssignment).where(grant.matches()).order_by(RoleAssignment.id)
    ).first()
    if existing is not None:
        return existing
    assignment = RoleAssignment(
        role=grant.role,
        user_id=grant.user_id,
        app_user_id=grant.app_user_id,
        project_id=grant.project_id,
        form_id=grant.form_id,
        ayllu=grant.ayllu,
    )
    session.add(assignment)
    session.flush()
    _audit(
        session,
        "role.assign",
        "role_assignment",
        assignment.id,
        by_user_id=by_user_id,
        **grant.details(),
    )
    session.flush()
    return assignment


def revoke_role(
    session: Session,
    *,
    role: str,
    user_id: int | None = None,
    app_user_id: int | None = None,
    project_id: int | None = None,
    form_id: int | None = None,
    ayllu: str | None = None,
    by_user_id: int | None = None,
) -> bool:
    """Take back a role with exactly this scope; False if it was not held.

    Raises:
        InvalidRoleError: unknown role, or a scope the role does not allow.
    """
    grant = _grant(
        session,
        role=role,
        user_id=user_id,
        app_user_id=app_user_id,
        project_id=project_id,
        form_id=form_id,
        ayllu=ayllu,
    )
    _check_shape(grant)
    ids = list(session.scalars(sa.select(RoleAssignment.id).where(grant.matches())))
    if not ids:
        return False
    session.execute(sa.delete(RoleAssignment).where(RoleAssignment.id.in_(ids)))
    _audit(
        session,
        "role.revoke",
        "role_assignment",
        ids[0],
        by_user_id=by_user_id,
        **grant.details(),
    )
    session.flush()
    return True


# --- Authorisation for the OpenRosa edge ----------------------------------

# Web users who may fetch forms and send submissions in a project. Analysts
# only read (exports, API); guardians' custody is about reading, too.
_COLLECTING_ROLES = ("manager", "data_collector")


def _may_collect(session: Session, actor: Actor, project_id: int, form_id: int) -> bool:
    form_project = session.scalar(sa.select(Form.project_id).where(Form.id == form_id))
    if form_project is None or form_project != project_id:
        return False
    if actor.kind == "app_user":
        # Read the app user again: a revocation since the actor was built
        # must take effect on this very request.
        row = session.execute(
            sa.select(AppUser.project_id, AppUser.revoked_at).where(
                AppUser.id == actor.id
            )
        ).first()
        if row is None or row.revoked_at is not None or row.project_id != project_id:
            return False
        scoped = set(
            session.scalars(
                sa.select(RoleAssignment.form_id).where(
                    RoleAssignment.app_user_id == actor.id,
                    RoleAssignment.role == "app_user",
                    RoleAssignment.form_id.is_not(None),
                )
            )
        )
        return not scoped or form_id in scoped
    user_row = session.execute(
        sa.select(User.deleted_at).where(User.id == actor.id)
    ).first()
    if user_row is None or user_row.deleted_at is not None:
        return False
    return actor.site_admin or actor.has_project_role(project_id, *_COLLECTING_ROLES)


def can_submit(session: Session, actor: Actor, project_id: int, form_id: int) -> bool:
    """Whether the actor may send submissions to this form of the project."""
    return _may_collect(session, actor, project_id, form_id)


def can_list(session: Session, actor: Actor, project_id: int, form_id: int) -> bool:
    """Whether the actor may see this form in formList and download it."""
    return _may_collect(session, actor, project_id, form_id)
