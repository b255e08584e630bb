"""Projects: the unit that owns forms, app users and role assignments."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, utcnow


class Project(Base):
    __tablename__ = "projects"
    # One default project at most: the root aliases Collect uses (`/formList`,
    # `/submission`) must always mean the same project, even when two first
    # starts race.
    __table_args__ = (
        sa.Index(
            "uq_projects_one_default",
            "is_default",
            unique=True,
            sqlite_where=sa.text("is_default AND deleted_at IS NULL"),
            postgresql_where=sa.text("is_default AND deleted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    archived: Mapped[bool] = mapped_column(default=False)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
