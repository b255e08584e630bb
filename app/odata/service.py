"""The OData feed of one form: its service document, its metadata document and
its data documents, as ODK Central serves them (`lib/resources/odata.js`).

`open_feed` finds the form (404.1), the version whose fields shape the feed
(the published one; the draft for `draft.svc`) and checks that the caller may
read submissions (`submission.read`, 403.1: app users never may). A data
request is then planned (`plan_document`: every option read and checked, so
a refusal comes before the first byte) and written (`document`).

Rows come from governance's one read (`visibility.governed_window` for the
tables, `visibility.governed_record` for one entity): a record the viewer may
not read in full is neither a row nor counted.

- `Submissions`: the database windows the records (`$top`, `$skip`, the
  `$skiptoken` cursor, `$filter`, `$orderby`); the document streams.
- A repeat's table (`Submissions.<path>`): every record `$filter` keeps is
  read, its entries flattened, and `$skip`/`$top`/`$skiptoken` counted on
  the rows (Central does the same); the page is built before answering, so a
  `$skiptoken` naming no row is refused (400.34) rather than cut short.
- One entity (`Submissions('<id>')[/<path>]`): that record's rows at the
  path, paged the same way.

Where Ayni writes a link Central would not: a page ordered by `$orderby` is
continued with `$skip` (Central writes a `$skiptoken`, which it then refuses
with `$orderby`), and a page with no row carries no `@odata.nextLink`.
Nothing is ever recorded against a draft, so a draft's tables are empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from app.auth import permissions
from app.auth.actors import Actor
from app.db.models import Form
from app.forms import lifecycle
from app.forms import service as forms_service
from app.forms.xform import FormSchema
from app.governance.records import Condition, RecordFilter, names_field
from app.governance.visibility import (
    SubmissionNotFoundError,
    Viewer,
    governed_record,
    governed_window,
)
from app.odata import edmx, options, rows
from app.odata.errors import (
    InvalidSkiptokenError,
    NotImplementedFeatureError,
    ODataNotFoundError,
    SkiptokenRecordNotFoundError,
)
from app.odata.filter import parse_filter, parse_orderby
from app.odata.schema import (
    ROOT_TABLE,
    Node,
    build_tree,
    metadata_selected,
    parent_key,
    selection,
    table_steps,
)

# One path segment of an entity's address: `Submissions('uuid:…')`, a
# repeat entry `child('<join id>')`, or a bare name (Central's rule).
_KEYED = r"^([^(]+)\('((?:uuid:)?[a-zA-Z0-9-]+)'\)$"


@dataclass(frozen=True)
class Feed:
    """A form's feed, for one caller."""

    project_id: int
    form_id: int
    xml_form_id: str
    schema: FormSchema
    viewer: Viewer
    draft: bool

    @property
    def tree(self) -> tuple[Node, ...]:
        return build_tree(self.schema)


def open_feed(
    session: Session,
    *,
    project_id: int,
    xml_form_id: str,
    actor: Actor | None,
    draft: bool = False,
) -> Feed:
    """The form's feed, if the caller may read its submissions.

    Raises: FormNotFoundError (404.1: no such form, never published, or no
    draft for `draft`), PermissionDeniedError (403.1).
    """
    form = forms_service.get_form(session, project_id, xml_form_id)
    version = (
        lifecycle.draft_of(session, form)
        if draft
        else forms_service.current_version(session, form)
    )
    permissions.require(actor, "submission.read", permissions.Form(project_id, form.id))
    return Feed(
        project_id=project_id,
        form_id=form.id,
        xml_form_id=form.xml_form_id,
        schema=forms_service.schema_of(version),
        viewer=Viewer(actor=actor, project_id=project_id),
        draft=draft,
    )


def service_document(feed: Feed, service_url: str) -> dict[str, Any]:
    """`Submissions` and each repeat's table; `service_url` is the absolute
    URL of the `.svc` root."""
    return edmx.service_document(feed.tree, f"{service_url}/$metadata")


def metadata_document(feed: Feed) -> str:
    return edmx.metadata_document(feed.xml_form_id, feed.tree)


# --- data documents -------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    """Where a request points: the table's parts (`["Submissions",
    "children", "child"]`) and, for one entity, the key given with each part
    (None for a bare name)."""

    parts: tuple[str, ...]
    keys: tuple[str | None, ...] | None = None  # None: the whole table

    @property
    def table(self) -> str:
        return ".".join(self.parts)


def read_address(resource: str) -> Address:
    """The part of the URL after `.svc/`, decoded.

    Raises: ODataNotFoundError (404.1) for what is neither a table name nor
    an entity's address.
    """
    if "(" not in resource and "/" not in resource:
        return Address(tuple(resource.split(".")))
    parts: list[str] = []
    keys: list[str | None] = []
    for n, segment in enumerate(resource.split("/")):
        match = re.match(_KEYED, segment)
        if match is None:
            if n == 0:
                raise ODataNotFoundError()
            parts.append(segment)
            keys.append(None)
        else:
            parts.append(match.group(1))
            keys.append(match.group(2))
    if parts[0] != ROOT_TABLE:
        raise ODataNotFoundError()
    return Address(tuple(parts), tuple(keys))


@dataclass(frozen=True)
class Plan:
    """A data request, read and checked: everything `document` needs."""

    feed: Feed
    address: Address
    steps: tuple[Node, ...]  # () for `Submissions`
    tree: tuple[Node, ...]  # the fields `$select` keeps
    query: options.ODataQuery
    row_options: rows.RowOptions
    condition: Condition | None
    order: tuple[tuple[str, bool], ...]
    domain: str  # scheme and host of the links
    path: str  # the request's path, as the client wrote it
    service_root: str  # the path up to `.svc`
    params: tuple[tuple[str, str], ...] = field(default=())

    @property
    def streams(self) -> bool:
        """Whether the document is written as the records are read (the
        `Submissions` table), so it must be read in a session that outlives
        the request."""
        return self.address.keys is None and not self.steps

    @property
    def context(self) -> str:
        return f"{self.domain}{self.service_root}/$metadata#{self.address.table}"


def plan_document(
    feed: Feed,
    resource: str,
    params: Sequence[tuple[str, str]],
    *,
    domain: str,
    path: str,
    service_root: str,
    now: datetime | None = None,
) -> Plan:
    """Read and check a data request before anything is written.

    Raises: ODataNotFoundError (404.1), the option problems of
    `options.read_query` (400.x), `schema.selection` (400.23, 400.24),
    `filter.parse_filter`/`parse_orderby` (400.18, 501.4, 501.5),
    InvalidSkiptokenError (400.35), NotImplementedFeatureError (501.1:
    `$orderby` with `$skiptoken`).
    """
    address = read_address(resource)
    full = feed.tree
    steps = table_steps(full, list(address.parts))
    query = options.read_query(params)
    tree = full
    if query.select and query.select != "*":
        tree = build_tree(feed.schema, selection(feed.schema, query.select, steps))
        steps = table_steps(tree, list(address.parts))
    condition = None
    order: tuple[tuple[str, bool], ...] = ()
    if address.keys is None:
        if query.filter:
            condition = parse_filter(
                query.filter, root_table=not steps, now=now or datetime.now(UTC)
            )
        if query.orderby is not None:
            order = parse_orderby(query.orderby)
        if order and query.skiptoken is not None:
            raise NotImplementedFeatureError("using $orderby and $skiptoken together")
        if (
            not steps
            and query.skiptoken is not None
            and not isinstance(query.skiptoken.get("instanceId"), str)
        ):
            raise InvalidSkiptokenError()
    return Plan(
        feed=feed,
        address=address,
        steps=steps,
        tree=tree,
        query=query,
        row_options=rows.RowOptions(
            expand=query.expand,
            wkt=query.wkt,
            metadata=metadata_selected(query.select),
        ),
        condition=condition,
        order=order,
        domain=domain,
        path=path,
        service_root=service_root,
        params=tuple(params),
    )


def _json(value: Any) -> str:
    """As JavaScript's JSON.stringify writes it: compact, UTF-8, NaN as null.
    orjson writes a page of rows several times faster than the standard
    library; an integer past 64 bits (a long digit string in an `int` field)
    goes through the standard library instead."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _footer(plan: Plan, next_link: str | None, count: int | None) -> str:
    """Central's footer, after the rows: context, next link, count."""
    parts = [f'"@odata.context":{_json(plan.context)}']
    if next_link is not None:
        parts.append(f'"@odata.nextLink":{_json(next_link)}')
    if count is not None:
        parts.append(f'"@odata.count":{count}')
    return ",".join(parts) + "}"


def _token_link(plan: Plan, data: dict[str, Any]) -> str:
    return options.next_link(
        plan.domain, plan.path, plan.params, options.encode_skiptoken(data)
    )


def _wanted(plan: Plan) -> RecordFilter:
    condition = plan.condition
    return RecordFilter(
        condition=condition,
        order=plan.order,
        # Central leaves deleted records out unless the filter names
        # `__system/deletedAt`.
        include_deleted=condition is not None and names_field(condition, "deleted_at"),
    )


def _form(session: Session, plan: Plan) -> Form:
    form = session.get(Form, plan.feed.form_id)
    if form is None:
        raise ODataNotFoundError()
    return form


def document(session: Session, plan: Plan) -> Iterator[str]:
    """The data document in pieces of JSON text.

    For `Submissions` (`plan.streams`) the pieces are written as the records
    are read; otherwise the page is read first, so its problems (400.34,
    404.1) are raised by this call, before any piece.
    """
    query = plan.query
    if plan.address.keys is not None:
        return iter([_entity_document(session, plan)])
    if query.top == 0 and not query.count:
        # Central's answer to `$top=0`: nothing to read.
        return iter(['{"value":[],' + _footer(plan, None, None)])
    if plan.streams:
        return _submissions_document(session, plan)
    return iter([_repeat_document(session, plan)])


def _submissions_document(session: Session, plan: Plan) -> Iterator[str]:
    query = plan.query
    if plan.feed.draft:
        yield '{"value":[],' + _footer(plan, None, 0 if query.count else None)
        return
    form = _form(session, plan)
    token = query.skiptoken
    window = governed_window(
        session,
        plan.feed.viewer,
        form,
        _wanted(plan),
        after=str(token["instanceId"]) if token is not None else None,
        skip=query.skip,
        top=query.top,
        count=query.count,
    )
    written = 0
    last: str | None = None
    for record in window.records:
        if query.top == 0:
            continue  # read only to be counted
        row = rows.root_row(plan.tree, record, plan.row_options)
        yield ('{"value":[' if written == 0 else ",") + _json(row)
        written += 1
        last = record.instance_id
    link = None
    if window.more and last is not None:
        if plan.order:
            link = options.skip_link(
                plan.domain, plan.path, plan.params, query.skip + written
            )
        else:
            link = _token_link(plan, {"instanceId": last})
    opening = '{"value":[],' if written == 0 else "],"
    yield opening + _footer(plan, link, window.total if query.count else None)


def _repeat_document(session: Session, plan: Plan) -> str:
    """A repeat's table over every record the filter keeps."""
    query = plan.query
    token = query.skiptoken
    # With a $skiptoken, rows are written from the one after it, $skip aside.
    found_cursor = token is None
    skip = query.skip if token is None else 0
    page: list[str] = []
    counted = 0
    remaining = 0
    last_id: str | None = None
    records: Iterator[Any] = iter(())
    if not plan.feed.draft:
        window = governed_window(
            session, plan.feed.viewer, _form(session, plan), _wanted(plan)
        )
        records = window.records
    for record in records:
        for row_id, _parent, row in rows.table_rows(
            plan.steps, record, plan.row_options
        ):
            if found_cursor and counted >= skip:
                if query.top is None or len(page) < query.top:
                    page.append(_json(row))
                    last_id = row_id
                else:
                    remaining += 1
            if not found_cursor and token is not None:
                found_cursor = token.get("repeatId") == row_id
            counted += 1
    if not found_cursor:
        raise SkiptokenRecordNotFoundError()
    link = None
    if remaining > 0 and last_id is not None:
        link = _token_link(plan, {"repeatId": last_id})
    return _page(plan, page, link, counted if query.count else None)


def _page(plan: Plan, page: list[str], link: str | None, count: int | None) -> str:
    return '{"value":[' + ",".join(page) + "]," + _footer(plan, link, count)


def _entity_document(session: Session, plan: Plan) -> str:
    """One record's rows at the address: the record itself, or the entries
    of a repeat under the entry the last key names."""
    address = plan.address
    keys = address.keys or ()
    if plan.feed.draft:
        raise SubmissionNotFoundError()
    record = governed_record(
        session, plan.feed.viewer, _form(session, plan), str(keys[0])
    )
    query = plan.query
    found: list[tuple[str, dict[str, Any]]]
    if not plan.steps:
        found = [
            (record.instance_id, rows.root_row(plan.tree, record, plan.row_options))
        ]
    else:
        keyed = max(n for n, key in enumerate(keys) if key is not None)
        found = []
        # Central keeps the rows whose key to their parent is the last key
        # given (a key further up names no row's parent: no rows).
        key_name = "__" + "-".join(address.parts[: keyed + 1]) + "-id"
        parent_named = key_name == parent_key(plan.steps)
        for row_id, parent_id, row in rows.table_rows(
            plan.steps, record, plan.row_options
        ):
            if keyed == 0 or (parent_named and parent_id == keys[keyed]):
                found.append((row_id, row))
    offset = query.skip
    token = query.skiptoken
    if token is not None:
        repeat_id = token.get("repeatId")
        if not repeat_id:
            raise InvalidSkiptokenError()
        ids = [row_id for row_id, _row in found]
        if repeat_id not in ids:
            raise SkiptokenRecordNotFoundError()
        offset = ids.index(repeat_id) + 1
    end = None if query.top is None else offset + query.top
    pared = found[offset:end]
    link = None
    if pared and end is not None and len(found) - end > 0:
        data: dict[str, Any] = (
            {"repeatId": pared[-1][0]}
            if plan.steps
            else {"instanceId": record.instance_id}
        )
        link = _token_link(plan, data)
    return _page(
        plan,
        [_json(row) for _id, row in pared],
        link,
        len(found) if query.count else None,
    )
