"""Web users: creating, changing and deleting them, their passwords, signing
them in, Collect's HA1, and finding them as Central's `/v1/users` does.

A password change (by the user or an administrator) ends every session and
Bearer token of that user: whoever held the old password loses what it opened
(a change with the old password through the API keeps the session that made
it, as Central does). An unknown login costs the same time as a wrong password
(`passwords`).

Users have a username (the console's login) and an e-mail (Central's); users
made through the API take their e-mail as username. Deleting is soft, as in
Central: the row stays for the history (who made a form, the audit log), its
sessions and grants end, and its e-mail and username are set free (rewritten
to a tombstone) so a new account may take them.

Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.auth import passwords, permissions, roles
from app.auth.errors import (
    PasswordCharactersError,
    PasswordTooLongError,
    PasswordTooShortError,
    UserExistsError,
    UserNotFoundError,
    WeakPasswordError,
    WrongPasswordError,
)
from app.auth.sessions import end_sessions_of
from app.db.models import AuditLog, RoleAssignment, User
from app.db.types import utcnow
from app.errors import InvalidDataTypeError

USERNAME_MAX = 150  # users.username
EMAIL_MAX = 255  # users.email
DISPLAY_NAME_MAX = 255  # users.display_name


@dataclass(frozen=True)
class NewUser:
    user: User
    password: str
    generated: bool


def _central_weak_message(warning: str, suggestions: tuple[str, ...]) -> str:
    """Central's wording of 400.44 (`passwordTooWeak`): zxcvbn's warning, or
    its first suggestion, after "The supplied password is too weak"."""
    advice = warning or next(iter(suggestions), "")
    base = "The supplied password is too weak"
    if not advice:
        return f"{base}."
    if "." in advice:
        return f"{base}. {advice}"
    return f"{base}: {advice[0].lower()}{advice[1:]}"


def weak_password_error(strength: passwords.Strength) -> WeakPasswordError:
    """The refusal, in the user's terms and Central's: too short (400.21), too
    long (400.38), too weak (400.44, with zxcvbn's score and advice and
    Central's `details`), or characters Collect cannot send."""
    limits = (passwords.MIN_PASSWORD_LENGTH, passwords.MAX_PASSWORD_LENGTH)
    error: WeakPasswordError
    if strength.problem == "weak":
        # Python's zxcvbn ends its warnings with a period, JavaScript's (which
        # Central quotes) does not.
        warning = strength.warning.rstrip(".")
        error = WeakPasswordError(
            f"La contraseña es demasiado débil (puntaje {strength.score} de 4; "
            f"se necesita {passwords.MIN_SCORE}). {strength.advice_es}",
            f"{_central_weak_message(warning, strength.suggestions)} "
            f"(score {strength.score} of 4; {passwords.MIN_SCORE} needed)",
            details={"warning": warning, "suggestions": list(strength.suggestions)},
        )
    elif strength.problem == "characters":
        error = PasswordCharactersError(
            "La contraseña solo puede tener caracteres ASCII imprimibles "
            "(ODK Collect no envía otros).",
            "The password may only have printable ASCII characters "
            "(ODK Collect sends no others).",
        )
    elif strength.problem == "long":
        error = PasswordTooLongError(
            f"La contraseña debe tener entre {limits[0]} y {limits[1]} caracteres.",
            "The password or passphrase provided exceeds the maximum length "
            f"({limits[1]} characters).",
        )
    else:
        error = PasswordTooShortError(
            f"La contraseña debe tener entre {limits[0]} y {limits[1]} caracteres.",
            "The password or passphrase provided does not meet the required "
            f"length ({limits[0]} characters).",
        )
    error.extra["score"] = strength.score
    return error


def _set_password(user: User, password: str) -> None:
    strength = passwords.judge_password(password)
    if not strength.acceptable:
        raise weak_password_error(strength)
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
    admin: bool = False,
    by_user_id: int | None = None,
) -> NewUser:
    """Create a web user; a password is generated when none is given. `admin`
    makes them a site administrator.

    Raises:
        UserExistsError: the username or e-mail is taken.
        WeakPasswordError: the password is too short or too weak.
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
    audit.record(
        session,
        "user.create",
        by_user_id=by_user_id,
        target_type="user",
        target_id=user.id,
    )
    if admin:
        roles.assign_role(
            session, role=permissions.ADMIN, user_id=user.id, by_user_id=by_user_id
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


def get_user_by_id(session: Session, user_id: int) -> User:
    """Raises: UserNotFoundError (also for a deleted user)."""
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise UserNotFoundError()
    return user


def reset_password(
    session: Session,
    login: str,
    password: str | None = None,
    *,
    by_user_id: int | None = None,
) -> str:
    """Set a new password (generated when none is given) and return it. Every
    session and Bearer token of the user ends.

    Raises: UserNotFoundError, WeakPasswordError.
    """
    user = get_user(session, login)
    password = password or passwords.generate_password()
    _set_password(user, password)
    ended = end_sessions_of(session, user.id)
    audit.record(
        session,
        "user.password_reset",
        by_user_id=by_user_id,
        target_type="user",
        target_id=user.id,
        sessions_ended=ended,
    )
    session.flush()
    return password


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The user if `password` is theirs; None otherwise, in the same time."""
    user = find_user(session, login)
    matched = passwords.verify_password(
        user.password_hash if user is not None else None, password
    )
    return user if matched else None


def has_admin(session: Session) -> bool:
    """Whether a live user is a site administrator (first start creates one)."""
    found = session.scalar(
        sa.select(RoleAssignment.id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == permissions.ADMIN, User.deleted_at.is_(None))
        .limit(1)
    )
    return found is not None


def list_users(session: Session) -> list[User]:
    return list(
        session.scalars(
            sa.select(User).where(User.deleted_at.is_(None)).order_by(User.username)
        )
    )


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


# --- Central's /v1/users -------------------------------------------------------------


def _taken(field: str, value: str) -> UserExistsError:
    """Central's 409.3 (`uniquenessViolation`) naming the field and value."""
    return UserExistsError(
        f"Ya existe una cuenta con ese {'correo' if field == 'email' else field}: "
        f"{value}.",
        f"A resource already exists with {field} value(s) of {value}.",
        details={"fields": [field], "values": [value]},
    )


def _email_taken(session: Session, email: str, *, but: int | None = None) -> bool:
    query = sa.select(User.id).where(
        sa.or_(User.email == email, User.username == email)
    )
    if but is not None:
        query = query.where(User.id != but)
    return session.scalar(query.limit(1)) is not None


def create_api_user(
    session: Session,
    *,
    email: str,
    password: str | None = None,
    display_name: str | None = None,
    by_user_id: int | None = None,
) -> NewUser:
    """A user as Central's `POST /v1/users` makes one: the e-mail is also the
    username, the display name defaults to the e-mail.

    Central mails an invitation to set a password; the embedded server has no
    mail, so without a password one is generated and never shown: the account
    can be used once an administrator sets its password (console: Usuarios →
    restablecer contraseña; command line: `flask reset-password <email>`).

    Raises:
        UserExistsError: the e-mail is taken (409.3).
        WeakPasswordError: the password is too short, long or weak.
    """
    email = email.strip().lower()
    if _email_taken(session, email):
        raise _taken("email", email)
    try:
        return create_user(
            session,
            username=email[:USERNAME_MAX],
            email=email,
            password=password or None,
            display_name=(display_name or "").strip() or email,
            by_user_id=by_user_id,
        )
    except UserExistsError:
        # A username cut at 150 characters, or a concurrent creation.
        raise _taken("email", email) from None


def find_by_email(session: Session, email: str) -> User | None:
    """The live user with exactly this e-mail (case does not count)."""
    return session.scalars(
        sa.select(User).where(
            User.email == email.strip().lower(), User.deleted_at.is_(None)
        )
    ).first()


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_users(session: Session, q: str | None = None) -> list[User]:
    """Live users by e-mail, or those whose e-mail or display name contains
    any word of `q` (case does not count), most words matched first.

    Central ranks with PostgreSQL's trigram similarity; containing each word
    is the portable part of that (SQLite has no trigrams), and covers its
    tests: words, not patterns (`%`, `_` and `\\` match themselves).
    """
    query = sa.select(User).where(User.deleted_at.is_(None))
    terms = [t for t in (q or "").split() if t]
    if terms:
        query = query.where(
            sa.or_(
                *(
                    column.ilike(_like(term), escape="\\")
                    for term in terms
                    for column in (User.email, User.display_name)
                )
            )
        )
    users = list(session.scalars(query.order_by(User.email, User.id)))
    if not terms:
        return users

    def matched(user: User) -> int:
        text = f"{user.email} {user.display_name}".casefold()
        return sum(term.casefold() in text for term in terms)

    return sorted(users, key=lambda user: -matched(user))  # stable: e-mail next


def last_logins(session: Session, user_ids: Iterable[int]) -> dict[int, datetime]:
    """When each user last signed in (Central's `lastLoginAt`): their latest
    `user.session.create` in the audit log, which outlives the session."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(
        sa.select(AuditLog.actor_user_id, sa.func.max(AuditLog.created_at))
        .where(
            AuditLog.action == "user.session.create",
            AuditLog.actor_user_id.in_(ids),
        )
        .group_by(AuditLog.actor_user_id)
    ).all()
    return {int(user_id): stamp for user_id, stamp in rows}


def update_user(
    session: Session,
    user: User,
    *,
    display_name: str | None = None,
    email: str | None = None,
    by_user_id: int | None = None,
) -> User:
    """Change the display name and e-mail (Central's `PATCH /v1/users/<id>`),
    audited as `user.update` with what was given.

    A user whose username was their e-mail keeps the two together. Collect's
    Digest answer for the old login cannot be recomputed without the password,
    so it is dropped: Collect signs in with the new one after the next
    password change.

    Raises:
        UserExistsError: the e-mail is taken (409.3).
    """
    data: dict[str, str] = {}
    if display_name is not None:
        user.display_name = display_name
        data["displayName"] = display_name
    if email is not None:
        email = email.strip().lower()
        data["email"] = email
        if email != user.email:
            if _email_taken(session, email, but=user.id):
                raise _taken("email", email)
            if user.username == user.email:
                user.username = email[:USERNAME_MAX]
                user.digest_ha1 = None
            user.email = email
            user.digest_ha1_email = None
    user.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent change took the e-mail
        raise _taken("email", email or "") from exc
    audit.record(
        session,
        "user.update",
        by_user_id=by_user_id,
        target_type="user",
        target_id=user.id,
        data=data,
    )
    session.flush()
    return user


def change_password(
    session: Session,
    user: User,
    old: str,
    new: object,
    *,
    keep_token: str | None = None,
    by_user_id: int | None = None,
) -> None:
    """Central's `PUT /v1/users/<id>/password`: the current password proves
    the intent, and is checked first. Every other session of the user ends
    (`keep_token`, the one making the change, stays), as in Central; audited
    as `user.update`.

    Raises:
        WrongPasswordError: `old` is not the user's password (401.2).
        InvalidDataTypeError: `new` is not a string (400.11).
        WeakPasswordError: `new` is too short, long or weak.
    """
    if not passwords.verify_password(user.password_hash, old):
        raise WrongPasswordError()
    if not isinstance(new, str):
        raise InvalidDataTypeError("new", "string")
    _set_password(user, new)
    user.updated_at = utcnow()
    ended = end_sessions_of(session, user.id, keep=keep_token)
    audit.record(
        session,
        "user.update",
        by_user_id=by_user_id,
        target_type="user",
        target_id=user.id,
        data={"password": True},
        sessions_ended=ended,
    )
    session.flush()


def _tombstone(value: str, user_id: int, limit: int) -> str:
    return f"deleted.{user_id}.{value}"[:limit]


def delete_user(session: Session, user: User, *, by_user_id: int | None = None) -> None:
    """Central's `DELETE /v1/users/<id>`: the account is marked deleted, its
    sessions and grants end, and its e-mail and username are free again.
    The password and Collect's HA1s are wiped, so nothing signs in with them.
    """
    grants = session.execute(
        sa.delete(RoleAssignment).where(RoleAssignment.user_id == user.id)
    )
    ended = end_sessions_of(session, user.id)
    user.email = _tombstone(user.email, user.id, EMAIL_MAX)
    user.username = _tombstone(user.username, user.id, USERNAME_MAX)
    user.password_hash = user.digest_ha1 = user.digest_ha1_email = None
    user.deleted_at = user.updated_at = utcnow()
    audit.record(
        session,
        "user.delete",
        by_user_id=by_user_id,
        target_type="user",
        target_id=user.id,
        sessions_ended=ended,
        grants_removed=int(grants.rowcount or 0),  # type: ignore[attr-defined]
    )
    session.flush()
