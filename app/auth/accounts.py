"""Web users: creating them, their passwords, signing them in, Collect's HA1.

A password change (by the user or an administrator) ends every session and
Bearer token of that user: whoever held the old password loses what it opened.
An unknown login costs the same time as a wrong password (`passwords`).

Services take the session first, flush and never commit; no Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.auth import passwords, permissions, roles
from app.auth.errors import UserExistsError, UserNotFoundError, WeakPasswordError
from app.auth.sessions import end_sessions_of
from app.db.models import RoleAssignment, User


@dataclass(frozen=True)
class NewUser:
    user: User
    password: str
    generated: bool


def weak_password_error(strength: passwords.Strength) -> WeakPasswordError:
    """The refusal, in the user's terms, with zxcvbn's score and advice."""
    limits = (passwords.MIN_PASSWORD_LENGTH, passwords.MAX_PASSWORD_LENGTH)
    if strength.problem == "weak":
        error = WeakPasswordError(
            f"La contraseña es demasiado débil (puntaje {strength.score} de 4; "
            f"se necesita {passwords.MIN_SCORE}). {strength.advice_es}",
            f"The password is too weak (score {strength.score} of 4; "
            f"{passwords.MIN_SCORE} needed). {strength.advice_en}",
        )
    elif strength.problem == "characters":
        error = WeakPasswordError(
            "La contraseña solo puede tener caracteres ASCII imprimibles "
            "(ODK Collect no envía otros).",
            "The password may only have printable ASCII characters "
            "(ODK Collect sends no others).",
        )
    else:
        error = WeakPasswordError(
            f"La contraseña debe tener entre {limits[0]} y {limits[1]} caracteres.",
            f"The password must have {limits[0]} to {limits[1]} characters.",
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
