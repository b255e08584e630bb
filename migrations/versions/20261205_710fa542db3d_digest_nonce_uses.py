"""digest nonce uses: refuse a replayed Digest header

HTTP Digest over plain HTTP (Collect on the LAN) sends a header an eavesdropper
can copy. Its nonce is signed and lives for hours, so a signature alone cannot
tell a replay from a new request; RFC 7616 §3.4's request counter (`nc`) can,
if the server remembers which `(nonce, nc)` it accepted. Any worker on any
machine may see the replay, hence a table; rows older than a nonce's life are
purged by the application.

Revision ID: 710fa542db3d
Revises: 3b9e61c0f5a2
Create Date: 2026-12-05 03:36:01.705258
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "710fa542db3d"
down_revision: str | None = "3b9e61c0f5a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_nonce_uses",
        sa.Column("nonce", sa.String(length=96), nullable=False),
        sa.Column("nc", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", "nc", name=op.f("pk_digest_nonce_uses")),
    )
    with op.batch_alter_table("digest_nonce_uses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digest_nonce_uses_seen_at"), ["seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_nonce_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_nonce_uses_seen_at"))
    op.drop_table("digest_nonce_uses")
