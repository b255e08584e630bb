"""The record an export or an aggregate sees: one submission, current version.

Pure: no session. `app.exports.service` streams these from the database (after
knowledge governance decided what may be shown); the writers in this package
and the aggregates turn them into rows and figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ExportRecord:
    # KEY in exports: the first version's instanceID (openrosa.md §8).
    instance_id: str
    submission_id: int
    submission_date: datetime  # when the first version arrived (UTC, aware)
    updated_at: datetime | None
    submitter_id: int | None
    submitter_name: str | None
    attachments_present: int
    attachments_expected: int
    status: str  # "" normally; "not decrypted" etc. for encrypted forms
    review_state: str  # "received", "hasIssues", "edited", "approved", "rejected"
    device_id: str | None
    edits: int  # versions after the first
    form_version: str
    # Extracted values of the current version: groups as dicts, repeats as lists
    # of dicts, leaves as the raw XML text (None for an empty element).
    values: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    # Attachment file name -> (sha256, content type) for the `media/` folder.
    attachments: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Set by governance: the record counts but its content must not be shown.
    content_hidden: bool = False
    access_level: str | None = None
    access_conditions: str | None = None
