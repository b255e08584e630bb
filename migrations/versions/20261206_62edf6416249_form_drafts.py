"""form drafts: a draft version beside the published one, reusable form ids

ODK Central's API prepares a form's next version as a draft (a new XForm, new
media) that Collect never sees until it is published; pyODK relies on it to
publish any change. So a form points at a draft version as it points at its
published one, and a version's string need only be unique among the form's
published versions (a draft copied from the published form shares its
version until it is published under a new one). A deleted form's id may be
used again, as Central allows, hence a unique index over live forms only.

Central's Form also carries the XForm's SHA-1 (`sha`), who created the form
and who published each version: columns for them, filled in for the forms
and versions already stored.

Revision ID: 62edf6416249
Revises: 710fa542db3d
Create Date: 2026-12-06 10:00:00.000000
"""

import hashlib
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "62edf6416249"
down_revision: str | None = "710fa542db3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "deleted_at IS NULL"
_PUBLISHED = "published_at IS NOT NULL"

forms = sa.table(
    "forms",
    sa.column("id", sa.Integer),
    sa.column("created_by_id", sa.Integer),
)
form_versions = sa.table(
    "form_versions",
    sa.column("id", sa.Integer),
    sa.column("form_id", sa.Integer),
    sa.column("xml", sa.LargeBinary),
    sa.column("sha1", sa.String),
    sa.column("created_by_id", sa.Integer),
    sa.column("published_at", sa.DateTime),
    sa.column("published_by_id", sa.Integer),
)


def _rebuilding(work: Callable[[], None]) -> None:
    """Run `work` (which rebuilds referenced tables) with SQLite's foreign
    keys off, in a transaction of its own, checked before it commits.

    SQLite changes a table's constraints by rebuilding it (batch mode: copy,
    drop, rename). Other tables refer to `forms` and `form_versions`: with
    foreign keys on, dropping the old copy counts every reference to it as
    broken, and the count stays when the copy takes its name, deferred or
    not. SQLite's own recipe (its ALTER TABLE page) is to switch them off,
    which only works outside a transaction, and to run `foreign_key_check`
    before committing. PostgreSQL alters the tables in place.
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        work()
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys = OFF")
    try:
        bind.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            work()
            broken = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"foreign keys broken by the rebuild: {broken}")
        except BaseException:
            bind.exec_driver_sql("ROLLBACK")
            raise
        bind.exec_driver_sql("COMMIT")
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys = ON")
        # Alembic records the revision next, in the transaction it began.
        bind.exec_driver_sql("BEGIN")


def upgrade() -> None:
    _rebuilding(_upgrade)


def _upgrade() -> None:
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_forms_project_id_xml_form_id", type_="unique")
        batch_op.create_foreign_key(
            batch_op.f("fk_forms_draft_version_id_form_versions"),
            "form_versions",
            ["draft_version_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_forms_created_by_id_users"),
            "users",
            ["created_by_id"],
            ["id"],
        )
    op.create_index(
        "uq_forms_live_xml_form_id",
        "forms",
        ["project_id", "xml_form_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    )

    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha1", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("published_by_id", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_form_versions_form_id_version", type_="unique")
        batch_op.create_foreign_key(
            batch_op.f("fk_form_versions_published_by_id_users"),
            "users",
            ["published_by_id"],
            ["id"],
        )
    _fill_in()
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.alter_column(
            "sha1", existing_type=sa.String(length=40), nullable=False
        )
    op.create_index(
        "uq_form_versions_published_version",
        "form_versions",
        ["form_id", "version"],
        unique=True,
        sqlite_where=sa.text(_PUBLISHED),
        postgresql_where=sa.text(_PUBLISHED),
    )


def _fill_in() -> None:
    """SHA-1 of every stored XForm; who published a version and who created a
    form, as far as the versions tell (the person who loaded them)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            form_versions.c.id,
            form_versions.c.form_id,
            form_versions.c.xml,
            form_versions.c.created_by_id,
            form_versions.c.published_at,
        ).order_by(form_versions.c.id)
    ).all()
    creators: dict[int, int | None] = {}
    for version_id, form_id, xml, created_by, published_at in rows:
        bind.execute(
            form_versions.update()
            .where(form_versions.c.id == version_id)
            .values(
                sha1=hashlib.sha1(bytes(xml), usedforsecurity=False).hexdigest(),
                published_by_id=created_by if published_at is not None else None,
            )
        )
        creators.setdefault(form_id, created_by)
    for form_id, created_by in creators.items():
        if created_by is not None:
            bind.execute(
                forms.update()
                .where(forms.c.id == form_id)
                .values(created_by_id=created_by)
            )


def downgrade() -> None:
    _rebuilding(_downgrade)


def _downgrade() -> None:
    bind = op.get_bind()
    # Drafts have no place in the older schema: forms lose them first. A form
    # id used again after a deletion cannot go back under the old unique
    # constraint: the downgrade then stops there, and nothing is changed.
    bind.execute(sa.text("UPDATE forms SET draft_version_id = NULL"))
    bind.execute(
        sa.text(
            "DELETE FROM form_attachments WHERE form_version_id IN "
            "(SELECT id FROM form_versions WHERE published_at IS NULL)"
        )
    )
    bind.execute(sa.text("DELETE FROM form_versions WHERE published_at IS NULL"))
    op.drop_index("uq_form_versions_published_version", table_name="form_versions")
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_form_versions_published_by_id_users"), type_="foreignkey"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_form_versions_form_id_version"), ["form_id", "version"]
        )
        batch_op.drop_column("published_by_id")
        batch_op.drop_column("sha1")

    op.drop_index("uq_forms_live_xml_form_id", table_name="forms")
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_forms_created_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_forms_draft_version_id_form_versions"), type_="foreignkey"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_forms_project_id_xml_form_id"), ["project_id", "xml_form_id"]
        )
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("draft_version_id")
