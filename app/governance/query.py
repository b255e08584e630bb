"""The SQL that reads submissions as records: owned by governance, so that
nothing reads submission content without passing its rules.

Each submission's current version with its form version, its submitter's name
and, when asked, how many attachments it expects and has and how many edits it
went through; the filters readers may ask for (conditions on metadata
included, `condition_sql`); the version history and the files of a version.
`app.governance.visibility` is the only caller.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.db.models import (
    AppUser,
    Blob,
    FormVersion,
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    User,
)
from app.db.types import UTCDateTime
from app.governance.records import (
    Compare,
    Condition,
    Conjunction,
    DatePart,
    Disjunction,
    MetaField,
    Negation,
    Operand,
    RecordFilter,
    Truth,
    Value,
)


def current_records(form_id: int, *, with_counts: bool = True) -> sa.Select[Any]:
    """Every submission of the form (deleted ones included), current version."""
    columns: list[Any] = [
        Submission.id,
        Submission.instance_id,
        Submission.instance_name,
        Submission.created_at,
        Submission.updated_at,
        Submission.deleted_at,
        Submission.review_state,
        Submission.device_id,
        sa.func.coalesce(
            Submission.submitter_user_id, Submission.submitter_app_user_id
        ).label("submitter_id"),
        sa.func.coalesce(User.display_name, AppUser.display_name).label(
            "submitter_name"
        ),
        SubmissionVersion.id.label("version_id"),
        SubmissionVersion.form_version_id,
        SubmissionVersion.field_values,
        FormVersion.version.label("form_version"),
    ]
    if with_counts:
        # Per-row counts are correlated subqueries on indexed columns, not joins
        # to grouped subqueries: without fresh statistics (a database filled
        # since its last ANALYZE) PostgreSQL estimated one row and nested-looped
        # the grouped subquery, which made a 100 000-row export quadratic.
        of_version = SubmissionAttachment.submission_version_id == SubmissionVersion.id
        expected = sa.select(sa.func.count(SubmissionAttachment.id)).where(of_version)
        present = sa.select(sa.func.count(SubmissionAttachment.blob_id)).where(
            of_version
        )
        versions = aliased(SubmissionVersion)
        edits = sa.select(sa.func.count(versions.id) - 1).where(
            versions.submission_id == Submission.id
        )
        columns += [
            expected.scalar_subquery().label("expected"),
            present.scalar_subquery().label("present"),
            edits.scalar_subquery().label("edits"),
        ]
    return (
        sa.select(*columns)
        .join(SubmissionVersion, SubmissionVersion.id == Submission.current_version_id)
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == Submission.submitter_user_id)
        .outerjoin(AppUser, AppUser.id == Submission.submitter_app_user_id)
        .where(Submission.form_id == form_id)
    )


def filtered(stmt: sa.Select[Any], wanted: RecordFilter) -> sa.Select[Any]:
    """The filters the database can apply, and the order (id breaks ties)."""
    if not wanted.include_deleted:
        stmt = stmt.where(Submission.deleted_at.is_(None))
    if wanted.since is not None:
        stmt = stmt.where(Submission.created_at >= wanted.since)
    if wanted.until is not None:
        stmt = stmt.where(Submission.created_at < wanted.until)
    if wanted.review_states:
        stmt = stmt.where(Submission.review_state.in_(wanted.review_states))
    if wanted.submitter_user_id is not None:
        stmt = stmt.where(Submission.submitter_user_id == wanted.submitter_user_id)
    if wanted.submitter_app_user_id is not None:
        stmt = stmt.where(
            Submission.submitter_app_user_id == wanted.submitter_app_user_id
        )
    if wanted.instance_id is not None:
        stmt = stmt.where(Submission.instance_id == wanted.instance_id)
    if wanted.condition is not None:
        stmt = stmt.where(condition_sql(wanted.condition))
    if wanted.order:
        return stmt.order_by(*ordering(wanted.order))
    if wanted.newest_first:
        return stmt.order_by(Submission.created_at.desc(), Submission.id.desc())
    return stmt.order_by(Submission.created_at, Submission.id)


def version_history(submission_id: int) -> sa.Select[Any]:
    """Every version of a submission, oldest first, with who sent it."""
    return (
        sa.select(
            SubmissionVersion.id,
            SubmissionVersion.instance_id,
            SubmissionVersion.deprecated_id,
            SubmissionVersion.created_at,
            SubmissionVersion.device_id,
            SubmissionVersion.current,
            SubmissionVersion.field_values,
            FormVersion.version.label("form_version"),
            sa.func.coalesce(User.display_name, AppUser.display_name).label(
                "submitter_name"
            ),
        )
        .join(FormVersion, FormVersion.id == SubmissionVersion.form_version_id)
        .outerjoin(User, User.id == SubmissionVersion.submitter_user_id)
        .outerjoin(AppUser, AppUser.id == SubmissionVersion.submitter_app_user_id)
        .where(SubmissionVersion.submission_id == submission_id)
        .order_by(SubmissionVersion.created_at, SubmissionVersion.id)
    )


def version_files(version_id: int) -> sa.Select[Any]:
    """The files a version names, received or not, by name."""
    return (
        sa.select(SubmissionAttachment.name, Blob.sha256, Blob.content_type, Blob.size)
        .outerjoin(Blob, Blob.id == SubmissionAttachment.blob_id)
        .where(SubmissionAttachment.submission_version_id == version_id)
        .order_by(SubmissionAttachment.name)
    )


def version_xml(version_id: int) -> sa.Select[Any]:
    """One version's XML, exactly as stored."""
    return sa.select(SubmissionVersion.xml).where(SubmissionVersion.id == version_id)


# --- Conditions on metadata (records.Condition) ---------------------------------


def meta_column(name: str) -> Any:
    """The SQL of one of `records.META_FIELDS`."""
    if name == "instance_id":
        return Submission.instance_id
    if name == "submission_date":
        return Submission.created_at
    if name == "updated_at":
        return Submission.updated_at
    if name == "deleted_at":
        return Submission.deleted_at
    if name == "submitter_id":
        return sa.func.coalesce(
            Submission.submitter_user_id, Submission.submitter_app_user_id
        )
    if name == "review_state":
        # Central has no review state for a submission nobody reviewed yet
        # (null); Ayni stores "received".
        return sa.func.nullif(Submission.review_state, "received", type_=sa.String)
    if name == "device_id":
        return Submission.device_id
    raise ValueError(f"unknown metadata field {name!r}")


class utc_part(FunctionElement[Any]):  # noqa: N801 - SQLAlchemy construct naming
    """A part of an instant in UTC, as an integer where the database gives one:
    `utc_part(<part>, <strftime format>, <instant>)`."""

    name = "utc_part"
    inherit_cache = True
    type = sa.Numeric()


@compiles(utc_part)
def _utc_part(element: utc_part, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: the part in UTC whatever the session's time zone.
    part, _fmt, instant = list(element.clauses)
    return (
        f"date_part({compiler.process(part, **kw)}, "
        f"timezone('UTC', {compiler.process(instant, **kw)}))"
    )


@compiles(utc_part, "sqlite")
def _utc_part_sqlite(element: utc_part, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps instants as naive UTC text, which strftime reads.
    _part, fmt, instant = list(element.clauses)
    return (
        f"CAST(strftime({compiler.process(fmt, **kw)}, "
        f"{compiler.process(instant, **kw)}) AS INTEGER)"
    )


_STRFTIME = {
    "year": "%Y",
    "month": "%m",
    "day": "%d",
    "hour": "%H",
    "minute": "%M",
    "second": "%S",
}
_FLIPPED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_MILLISECOND = timedelta(milliseconds=1)


def _python_part(part: str, moment: datetime) -> int:
    return int(getattr(moment.astimezone(UTC), part))


def _operand_sql(operand: Operand) -> Any:
    if isinstance(operand, MetaField):
        return meta_column(operand.name)
    if isinstance(operand, DatePart):
        inner = operand.operand
        if isinstance(inner, Value):
            if not isinstance(inner.value, datetime):
                raise ValueError("a date part of a constant that is no instant")
            return sa.literal(_python_part(operand.part, inner.value))
        return utc_part(
            sa.literal(operand.part),
            sa.literal(_STRFTIME[operand.part]),
            meta_column(inner.name),
        )
    if isinstance(operand.value, datetime):
        return sa.literal(operand.value, UTCDateTime())
    return sa.literal(operand.value)


def _compare_constants(op: str, left: Any, right: Any) -> bool:
    if op in ("eq", "ne"):
        same = left == right if type(left) is type(right) else str(left) == str(right)
        return same if op == "eq" else not same
    if left is None or right is None:
        return False  # SQL: unknown, which a filter treats as false
    try:
        return {
            "lt": left < right,
            "le": left <= right,
            "gt": left > right,
            "ge": left >= right,
        }[op]
    except TypeError:
        return False


def _instant_comparison(op: str, column: Any, moment: datetime) -> Any:
    """`column <op> moment` as Central compares, on instants it keeps to the
    millisecond (and shows so): Ayni keeps microseconds, so the moment is
    moved to the millisecond bounds instead of truncating the column, which
    keeps the column's index usable. A submission shown as ...04.123Z is then
    not `gt` ...04.123Z, as in Central."""
    floor = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    exact = floor == moment
    ceiling = floor if exact else floor + _MILLISECOND
    if op == "eq":
        if not exact:
            return sa.false()
        return sa.and_(
            column.is_not(None), column >= floor, column < floor + _MILLISECOND
        )
    if op == "ne":
        return sa.not_(_instant_comparison("eq", column, moment))
    if op == "gt":
        return column >= floor + _MILLISECOND
    if op == "ge":
        return column >= ceiling
    if op == "lt":
        return column < ceiling
    return column < floor + _MILLISECOND  # le


def _comparison_sql(cond: Compare) -> Any:
    left, right, op = cond.left, cond.right, cond.op
    if isinstance(left, Value) and isinstance(right, Value):
        return (
            sa.true() if _compare_constants(op, left.value, right.value) else sa.false()
        )
    if isinstance(left, Value) and not isinstance(right, Value):
        left, right, op = right, left, _FLIPPED[op]
    if isinstance(right, Value) and right.value is None:
        column = _operand_sql(left)
        if op == "eq":
            return column.is_(None)
        if op == "ne":
            return column.is_not(None)
        return sa.null()  # an order against nothing: unknown
    if (
        isinstance(left, MetaField)
        and isinstance(right, Value)
        and isinstance(right.value, datetime)
    ):
        return _instant_comparison(op, meta_column(left.name), right.value)
    lhs, rhs = _operand_sql(left), _operand_sql(right)
    if op == "eq":
        return lhs.is_not_distinct_from(rhs)
    if op == "ne":
        return lhs.is_distinct_from(rhs)
    return {"lt": lhs < rhs, "le": lhs <= rhs, "gt": lhs > rhs, "ge": lhs >= rhs}[op]


def condition_sql(condition: Condition) -> Any:
    """The SQL of a condition on submissions' metadata (`records.Condition`)."""
    if isinstance(condition, Truth):
        return sa.true() if condition.value else sa.false()
    if isinstance(condition, Compare):
        return _comparison_sql(condition)
    if isinstance(condition, Conjunction):
        return sa.and_(condition_sql(condition.left), condition_sql(condition.right))
    if isinstance(condition, Disjunction):
        return sa.or_(condition_sql(condition.left), condition_sql(condition.right))
    if isinstance(condition, Negation):
        return sa.not_(condition_sql(condition.operand))
    raise ValueError(f"not a condition: {condition!r}")


def ordering(order: tuple[tuple[str, bool], ...]) -> list[Any]:
    """ORDER BY for (field, descending) pairs: nulls first going up, last
    going down (as Central), then the record id in the first direction so the
    order is stable."""
    clauses = []
    for name, descending in order:
        column = meta_column(name)
        clauses.append(
            column.desc().nulls_last() if descending else column.asc().nulls_first()
        )
    clauses.append(Submission.id.desc() if order[0][1] else Submission.id.asc())
    return clauses


def after_record(
    stmt: sa.Select[Any], form_id: int, instance_id: str
) -> sa.Select[Any]:
    """Only the records after the form's record `instance_id` in newest-first
    order (a paging cursor); none when there is no such record. Deleted
    records count as positions, so a cursor outlives its record's deletion.

    The cursor's position is read by two uncorrelated subqueries, and
    `created_at <=` it is said outright, so the database scans the form's
    created_at index from there rather than testing every newer record.
    """
    cursor = aliased(Submission)
    position = sa.select(cursor.created_at, cursor.id).where(
        cursor.form_id == form_id, cursor.instance_id == instance_id
    )
    created = position.with_only_columns(cursor.created_at).scalar_subquery()
    record_id = position.with_only_columns(cursor.id).scalar_subquery()
    return stmt.where(
        Submission.created_at <= created,
        sa.or_(Submission.created_at < created, Submission.id < record_id),
    )


def window(
    form_id: int,
    wanted: RecordFilter,
    *,
    after: str | None = None,
    skip: int = 0,
    limit: int | None = None,
) -> sa.Select[Any]:
    """The form's records (`current_records`, `filtered`) from the one after
    `after` (`after_record`), `skip` of them left out, at most `limit`.

    The window is chosen on `submissions` alone (every filter and order is on
    its columns), then only its rows are joined to their versions and
    counted: PostgreSQL without fresh statistics (a form filled since the
    last ANALYZE) otherwise joined every record of the form before sorting
    and cutting, some 0.8 s a page of 1000 out of 100 000.
    """
    stmt = filtered(current_records(form_id), wanted)
    if after is None and not skip and limit is None:
        return stmt
    ids = filtered(
        sa.select(Submission.id).where(Submission.form_id == form_id), wanted
    )
    if after is not None:
        ids = after_record(ids, form_id, after)
    if skip:
        ids = ids.offset(skip)
    if limit is not None:
        ids = ids.limit(limit)
    return stmt.where(Submission.id.in_(ids.scalar_subquery()))
