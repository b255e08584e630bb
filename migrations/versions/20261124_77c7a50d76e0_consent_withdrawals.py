"""consent withdrawals: consent as server state, not only a form answer

domain.md §4: either consent layer may withdraw at any time after the record
was submitted, and the withdrawal must hide the record at once from every view,
export and aggregate while the record itself is kept with an audit trail. The
submission XML is never rewritten for that, so the withdrawal lives in its own
table: one row per withdrawal (individual: one submission; colectivo: every
governed record of an ayllu in the project), lifted by a second timestamp when
consent is granted again. Check constraints keep each row's target coherent.

Revision ID: 77c7a50d76e0
Revises: 7d10b14b2ea7
Create Date: 2026-11-24 16:55:54.376650
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "77c7a50d76e0"
down_revision: str | None = "7d10b14b2ea7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("ayllu", sa.String(length=64), nullable=True),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("lifted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(layer = 'individual' AND submission_id IS NOT NULL AND ayllu IS NULL)"
            " OR (layer = 'colectivo' AND ayllu IS NOT NULL AND submission_id IS NULL)",
            name=op.f("ck_consent_withdrawals_one_target"),
        ),
        sa.CheckConstraint(
            "layer IN ('individual', 'colectivo')",
            name=op.f("ck_consent_withdrawals_layer_known"),
        ),
        sa.CheckConstraint(
            "(lifted_at IS NULL) = (lifted_by_id IS NULL)",
            name=op.f("ck_consent_withdrawals_lifted_by_whom"),
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_consent_withdrawals_form_id_forms")
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"],
            ["users.id"],
            name=op.f("fk_consent_withdrawals_lifted_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_consent_withdrawals_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_consent_withdrawals_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_consent_withdrawals_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_withdrawals")),
    )
    with op.batch_alter_table("consent_withdrawals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_withdrawals_project_id"),
            ["project_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_consent_withdrawals_submission_id"),
            ["submission_id"],
            unique=False,
        )


def downgrade() -> None:
    # Dropping the table forgets every withdrawal: records hidden by one become
    # visible again. Only for rolling back a deployment that never recorded any.
    with op.batch_alter_table("consent_withdrawals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_withdrawals_submission_id"))
        batch_op.drop_index(batch_op.f("ix_consent_withdrawals_project_id"))
    op.drop_table("consent_withdrawals")
