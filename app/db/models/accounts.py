"""Who may do what: web users, per-project app users (tablets), role
assignments, API sessions and the login throttle shared by every worker."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(150), unique=True)
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(255))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # md5(username:realm:password), kept only for users enabled for Collect, so
    # Digest works over plain HTTP without storing the password (openrosa.md §5).
    digest_ha1: Mapped[str | None] = mapped_column(sa.String(32))
    digest_ha1_email: Mapped[str | None] = mapped_column(sa.String(32))
    collect_enabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AppUser(Base):
    __tablename__ = "app_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(255))
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleAssignment(Base):
    """A role held by a user or an app user, site-wide or in one project.

    Which roles exist, and which may carry an `ayllu` (custody of one ayllu's
    restricted knowledge, domain.md §4) or a `form_id` (an app user narrowed
    to given forms), is the permission table's: `app.auth.permissions`.
    """

    __tablename__ = "role_assignments"
    __table_args__ = (
        sa.CheckConstraint(
            "(user_id IS NULL) <> (app_user_id IS NULL)", name="one_grantee"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    app_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_users.id"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("projects.id"))
    form_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forms.id"))
    ayllu: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiSession(Base):
    """Sessions: Bearer tokens from `POST /v1/sessions` (ODK Central's shape)
    and the console's sign-ins, which keep the token in their cookie."""

    __tablename__ = "api_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed sign-ins per client, in the database so every worker sees them."""

    __tablename__ = "login_throttle"

    client_key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigestNonceUse(Base):
    """Each (nonce, nc) a Digest login has used, so a captured header cannot
    be replayed: HTTP Digest's `nc` must grow for every request made with one
    nonce (RFC 7616 §3.4), and any worker may see the replay. Rows older than
    a nonce's life are purged."""

    __tablename__ = "digest_nonce_uses"

    nonce: Mapped[str] = mapped_column(sa.String(96), primary_key=True)
    nc: Mapped[int] = mapped_column(
        sa.BigInteger, primary_key=True, autoincrement=False
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
