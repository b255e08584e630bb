"""initial schema: projects, forms, submissions, blobs, accounts, audit log

The two current-version pointers (forms -> form_versions, submissions ->
submission_versions) are circular, so their foreign keys are added after both
tables exist and dropped first on the way down.

Revision ID: 7d10b14b2ea7
Revises:
Create Date: 2026-11-24 16:08:37.826905
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db.types

revision: str = "7d10b14b2ea7"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blob_contents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blob_contents")),
    )
    op.create_table(
        "blobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blobs")),
        sa.UniqueConstraint("sha256", name=op.f("uq_blobs_sha256")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("client_key", sa.String(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "window_start", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "locked_until", app.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("client_key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("digest_ha1", sa.String(length=32), nullable=True),
        sa.Column("digest_ha1_email", sa.String(length=32), nullable=True),
        sa.Column("collect_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_sessions")),
        sa.UniqueConstraint("token", name=op.f("uq_api_sessions_token")),
    )
    with op.batch_alter_table("api_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_sessions_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "app_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_app_users_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_app_users_project_id_projects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_users")),
        sa.UniqueConstraint("token", name=op.f("uq_app_users_token")),
    )
    with op.batch_alter_table("app_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_users_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("xml_form_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'closing', 'closed')", name=op.f("ck_forms_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_forms_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
        sa.UniqueConstraint(
            "project_id", "xml_form_id", name=op.f("uq_forms_project_id_xml_form_id")
        ),
    )
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forms_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_app_user_id", sa.Integer(), nullable=True),
        sa.Column("target_type", sa.String(length=64), nullable=True),
        sa.Column("target_id", sa.String(length=255), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["actor_app_user_id"],
            ["app_users.id"],
            name=op.f("fk_audit_log_actor_app_user_id_app_users"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_audit_log_actor_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_log_action"), ["action"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_log_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsform_blob_id", sa.Integer(), nullable=True),
        sa.Column(
            "field_schema",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column(
            "published_at", app.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_form_versions_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_form_versions_form_id_forms")
        ),
        sa.ForeignKeyConstraint(
            ["xlsform_blob_id"],
            ["blobs.id"],
            name=op.f("fk_form_versions_xlsform_blob_id_blobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint(
            "form_id", "version", name=op.f("uq_form_versions_form_id_version")
        ),
    )
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_versions_form_id"), ["form_id"], unique=False
        )

    op.create_table(
        "role_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("app_user_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.Integer(), nullable=True),
        sa.Column("ayllu", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (app_user_id IS NULL)",
            name=op.f("ck_role_assignments_one_grantee"),
        ),
        sa.ForeignKeyConstraint(
            ["app_user_id"],
            ["app_users.id"],
            name=op.f("fk_role_assignments_app_user_id_app_users"),
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_role_assignments_form_id_forms")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_role_assignments_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_assignments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_assignments")),
    )
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_assignments_app_user_id"), ["app_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_role_assignments_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=255), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("submitter_user_id", sa.Integer(), nullable=True),
        sa.Column("submitter_app_user_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=255), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("instance_name", sa.String(length=255), nullable=True),
        sa.Column("review_state", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_submissions_form_id_forms")
        ),
        sa.ForeignKeyConstraint(
            ["submitter_app_user_id"],
            ["app_users.id"],
            name=op.f("fk_submissions_submitter_app_user_id_app_users"),
        ),
        sa.ForeignKeyConstraint(
            ["submitter_user_id"],
            ["users.id"],
            name=op.f("fk_submissions_submitter_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint(
            "form_id", "instance_id", name=op.f("uq_submissions_form_id_instance_id")
        ),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submissions_form_id_created_at", ["form_id", "created_at"], unique=False
        )

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_comments_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_comments_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comments_submission_id"), ["submission_id"], unique=False
        )

    op.create_table(
        "form_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("blob_id", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["blob_id"], ["blobs.id"], name=op.f("fk_form_attachments_blob_id_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_form_attachments_form_version_id_form_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_attachments")),
        sa.UniqueConstraint(
            "form_version_id",
            "name",
            name=op.f("uq_form_attachments_form_version_id_name"),
        ),
    )
    with op.batch_alter_table("form_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_attachments_form_version_id"),
            ["form_version_id"],
            unique=False,
        )

    op.create_table(
        "submission_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=255), nullable=False),
        sa.Column("deprecated_id", sa.String(length=255), nullable=True),
        sa.Column("instance_name", sa.String(length=255), nullable=True),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("xml_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "field_values",
            sa.JSON().with_variant(
                postgresql.JSONB(astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("submitter_user_id", sa.Integer(), nullable=True),
        sa.Column("submitter_app_user_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=255), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name=op.f("fk_submission_versions_form_id_forms")
        ),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_submission_versions_form_version_id_form_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_versions_submission_id_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["submitter_app_user_id"],
            ["app_users.id"],
            name=op.f("fk_submission_versions_submitter_app_user_id_app_users"),
        ),
        sa.ForeignKeyConstraint(
            ["submitter_user_id"],
            ["users.id"],
            name=op.f("fk_submission_versions_submitter_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_versions")),
        sa.UniqueConstraint(
            "form_id",
            "instance_id",
            name=op.f("uq_submission_versions_form_id_instance_id"),
        ),
    )
    with op.batch_alter_table("submission_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_versions_submission_id"),
            ["submission_id"],
            unique=False,
        )

    op.create_table(
        "submission_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("blob_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", app.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["blob_id"],
            ["blobs.id"],
            name=op.f("fk_submission_attachments_blob_id_blobs"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_version_id"],
            ["submission_versions.id"],
            name=op.f(
                "fk_submission_attachments_submission_version_id_submission_versions"
            ),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_attachments")),
        sa.UniqueConstraint(
            "submission_version_id",
            "name",
            name=op.f("uq_submission_attachments_submission_version_id_name"),
        ),
    )
    with op.batch_alter_table("submission_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_attachments_submission_version_id"),
            ["submission_version_id"],
            unique=False,
        )

    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_forms_current_version_id_form_versions"),
            "form_versions",
            ["current_version_id"],
            ["id"],
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_submissions_current_version_id_submission_versions"),
            "submission_versions",
            ["current_version_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_submissions_current_version_id_submission_versions"),
            type_="foreignkey",
        )
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_forms_current_version_id_form_versions"),
            type_="foreignkey",
        )
    with op.batch_alter_table("submission_attachments", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_submission_attachments_submission_version_id")
        )

    op.drop_table("submission_attachments")
    with op.batch_alter_table("submission_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_versions_submission_id"))

    op.drop_table("submission_versions")
    with op.batch_alter_table("form_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_attachments_form_version_id"))

    op.drop_table("form_attachments")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_submission_id"))

    op.drop_table("comments")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_form_id_created_at")

    op.drop_table("submissions")
    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_assignments_user_id"))
        batch_op.drop_index(batch_op.f("ix_role_assignments_app_user_id"))

    op.drop_table("role_assignments")
    with op.batch_alter_table("form_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_versions_form_id"))

    op.drop_table("form_versions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    with op.batch_alter_table("forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forms_project_id"))

    op.drop_table("forms")
    with op.batch_alter_table("app_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_users_project_id"))

    op.drop_table("app_users")
    with op.batch_alter_table("api_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_sessions_user_id"))

    op.drop_table("api_sessions")
    op.drop_table("users")
    op.drop_table("projects")
    op.drop_table("login_throttle")
    op.drop_table("blobs")
    op.drop_table("blob_contents")
