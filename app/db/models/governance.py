"""Knowledge governance as server state: consent withdrawals (domain.md §4).

Consent is given in the form, but either layer may withdraw it at any time, so
a withdrawal is a row here, not an edit of the submission: the record is kept
and hidden, and lifting the withdrawal (consent granted again) is a second
timestamp on the same row, so the history stays readable.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.types import UTCDateTime, utcnow

CONSENT_LAYERS = ("individual", "colectivo")


class ConsentWithdrawal(Base):
    """A withdrawn consent: one record (individual) or an ayllu's (colectivo).

    The individual layer names a submission (`form_id` is then its form); the
    collective layer names an ayllu and covers every governed record of that
    ayllu in the project. Active while `lifted_at` is NULL.
    """

    __tablename__ = "consent_withdrawals"
    __table_args__ = (
        sa.CheckConstraint("layer IN ('individual', 'colectivo')", name="layer_known"),
        sa.CheckConstraint(
            "(layer = 'individual' AND submission_id IS NOT NULL AND ayllu IS NULL)"
            " OR (layer = 'colectivo' AND ayllu IS NOT NULL AND submission_id IS NULL)",
            name="one_target",
        ),
        sa.CheckConstraint(
            "(lifted_at IS NULL) = (lifted_by_id IS NULL)", name="lifted_by_whom"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    form_id: Mapped[int | None] = mapped_column(sa.ForeignKey("forms.id"))
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id"), index=True
    )
    ayllu: Mapped[str | None] = mapped_column(sa.String(64))
    layer: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(sa.Text)
