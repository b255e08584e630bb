"""one default project: a partial unique index on projects.is_default

The root aliases that ODK Collect uses with the bare server URL (`/formList`,
`/submission`) serve the default project; two first starts racing must not
leave two of them.

Revision ID: 3b9e61c0f5a2
Revises: 77c7a50d76e0
Create Date: 2026-11-24 22:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b9e61c0f5a2"
down_revision: str | None = "77c7a50d76e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_projects_one_default",
        "projects",
        ["is_default"],
        unique=True,
        sqlite_where=sa.text("is_default AND deleted_at IS NULL"),
        postgresql_where=sa.text("is_default AND deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_projects_one_default", table_name="projects")
