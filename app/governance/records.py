"""The record every reader sees: one submission at its current version, after
knowledge governance decided what of it this viewer may have.

Pure: no session. `app.governance.visibility` is the only producer (it reads
the rows and applies the rules); exports, aggregates and the console turn
records into rows, figures and pages. A record whose content governance hides
arrives with `content_hidden` set and only the fields that may be counted.
A reader's `RecordFilter` may carry a condition on the records' metadata
(`MetaField`, `Compare`, ...), which `app.governance.query` turns into SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """A file the record names: received (`sha256` set) or still expected."""

    name: str
    sha256: str | None = None
    content_type: str | None = None
    size: int | None = None

    @property
    def present(self) -> bool:
        return self.sha256 is not None


@dataclass(frozen=True)
class SubmissionRecord:
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
    # The current version's files, when the reader asked for them.
    attachments: tuple[Attachment, ...] = ()
    # Set by governance: the record counts but its content must not be shown.
    content_hidden: bool = False
    access_level: str | None = None
    access_conditions: str | None = None
    instance_name: str | None = None
    # When the record was deleted, for readers that list deleted records too
    # (OData's `__system/deletedAt`); None when not deleted or not asked for.
    deleted_at: datetime | None = None

    def present_files(self) -> dict[str, str]:
        """Received attachment name -> sha256 (an export's `media/`)."""
        return {a.name: a.sha256 for a in self.attachments if a.sha256}


def first_value(values: Mapping[str, Any], name: str) -> Any:
    """The first field called `name` outside repeats, at any group depth."""
    if name in values and not isinstance(values[name], list | dict):
        return values[name]
    for value in values.values():
        if isinstance(value, dict):
            found = first_value(value, name)
            if found is not None:
                return found
    return None


# --- Conditions on a record's metadata ----------------------------------------------
#
# A reader that lets people filter records by their metadata (OData's `$filter`)
# says what it wants in these terms; `app.governance.query` turns them into SQL.
# Only metadata: never an answer, so a condition cannot probe hidden content.

# Metadata a condition may name, with the kind of value it holds. A record
# never reviewed has `review_state` None here (Central's `reviewState` null).
META_FIELDS: dict[str, str] = {
    "instance_id": "text",
    "submission_date": "instant",
    "updated_at": "instant",
    "deleted_at": "instant",
    "submitter_id": "integer",
    "review_state": "text",
    "device_id": "text",
}
DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


@dataclass(frozen=True)
class MetaField:
    """One of `META_FIELDS`."""

    name: str


@dataclass(frozen=True)
class Value:
    """A constant: None, a boolean, a number, a text or an aware datetime."""

    value: bool | int | float | str | datetime | None


@dataclass(frozen=True)
class DatePart:
    """A part (`DATE_PARTS`, in UTC) of an instant field or constant."""

    part: str
    operand: MetaField | Value


Operand = MetaField | Value | DatePart


@dataclass(frozen=True)
class Compare:
    """`left <op> right`, op one of `COMPARISONS`. `eq`/`ne` with a None
    constant test for no value; `eq` never yields "unknown" (OData's
    equality), so `not x eq 'a'` keeps the records where x has no value."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Conjunction:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Disjunction:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Negation:
    operand: Condition


@dataclass(frozen=True)
class Truth:
    """A condition already decided (a comparison of two constants)."""

    value: bool


Condition = Compare | Conjunction | Disjunction | Negation | Truth


def names_field(condition: Condition | Operand, name: str) -> bool:
    """Whether `condition` mentions the metadata field `name` anywhere."""
    if isinstance(condition, MetaField):
        return condition.name == name
    if isinstance(condition, DatePart):
        return names_field(condition.operand, name)
    if isinstance(condition, Compare):
        return names_field(condition.left, name) or names_field(condition.right, name)
    if isinstance(condition, Conjunction | Disjunction):
        return names_field(condition.left, name) or names_field(condition.right, name)
    if isinstance(condition, Negation):
        return names_field(condition.operand, name)
    return False


@dataclass(frozen=True)
class RecordFilter:
    """Which of a form's records a reader asks for.

    `since`/`until` (aware, `until` exclusive) are on the date the server
    received the submission; `ayllu`/`mesa` are matched on the record as
    governance lets the viewer have it, never on content it hides.
    """

    since: datetime | None = None
    until: datetime | None = None
    review_states: tuple[str, ...] = ()
    submitter_user_id: int | None = None
    submitter_app_user_id: int | None = None
    include_deleted: bool = False
    instance_id: str | None = None
    ayllu: str | None = None
    mesa: str | None = None
    newest_first: bool = True
    # A condition on the records' metadata (OData's `$filter`), applied by the
    # database; None: every record.
    condition: Condition | None = None
    # Metadata fields to order by, each (field, descending), before the record
    # id; empty: `newest_first` decides (OData's `$orderby`).
    order: tuple[tuple[str, bool], ...] = ()

    @property
    def on_answers(self) -> bool:
        return bool(self.ayllu or self.mesa)

    def matches_answers(self, values: Mapping[str, Any]) -> bool:
        if self.ayllu and first_value(values, "ayllu") != self.ayllu:
            return False
        if self.mesa:
            mesa = first_value(values, "mesa") or first_value(values, "mesas") or ""
            if self.mesa not in str(mesa).split():
                return False
        return True
