"""Every table of Ayni, as typed SQLAlchemy 2 models (design.md, "Data, as stored").

Importing this package registers all models on `Base.metadata`, which Alembic
compares against the migrations.
"""

from app.db.models.accounts import (
    ApiSession,
    AppUser,
    DigestNonceUse,
    LoginThrottle,
    RoleAssignment,
    User,
)
from app.db.models.audit import AuditLog
from app.db.models.blobs import Blob, BlobContent
from app.db.models.forms import Form, FormAttachment, FormVersion
from app.db.models.governance import ConsentWithdrawal
from app.db.models.projects import Project
from app.db.models.submissions import (
    Comment,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
)

__all__ = [
    "ApiSession",
    "AppUser",
    "AuditLog",
    "Blob",
    "BlobContent",
    "Comment",
    "ConsentWithdrawal",
    "DigestNonceUse",
    "Form",
    "FormAttachment",
    "FormVersion",
    "LoginThrottle",
    "Project",
    "RoleAssignment",
    "Submission",
    "SubmissionAttachment",
    "SubmissionVersion",
    "User",
]
