"""`$filter` and `$orderby` as Central reads them, into governance's terms.

Central filters and sorts the data documents on a record's metadata only:
`__id`, `__system/submissionDate`, `updatedAt`, `submitterId`,
`reviewState`, `deletedAt` (and, in Ayni, `deviceId`), bare on
`Submissions`, as `$root/Submissions/...` on every table; with `eq ne lt le
gt ge`, `and or not`, parentheses and the functions `year month day hour
minute second now`. The result is a `records.Condition` that governance runs
in SQL, so a page of 1000 reads 1000 records.

Why this module parses by itself rather than with odata-query's grammar
(which the design prefers where it fits): Central's parser
(odata-v4-parser) gives `not` the whole boolean expression after it, so
`not __system/deletedAt eq null` means "deleted" (odata-query binds `not` to
the field, as the OData ABNF does, and would ask for "not null equals
null"); it is case-sensitive (`NOW()`, `EQ` do not parse: 400.18); it knows
`$root/...` paths; and Central's problems name the position of what they
refuse (`myfield at 7`). This recursive descent follows odata-v4-parser's
rules for the subset Central runs, and refuses the rest as Central does:
400.18 what does not parse, 501.4 what parses but is not run (arithmetic,
other functions), 501.5 fields that may not be named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app.governance.records import (
    DATE_PARTS,
    META_FIELDS,
    Compare,
    Condition,
    Conjunction,
    DatePart,
    Disjunction,
    MetaField,
    Negation,
    Operand,
    Value,
)
from app.odata.errors import (
    UnparseableFilterError,
    UnsupportedExpressionError,
    UnsupportedFieldError,
)

ROOT_PREFIX = "$root/Submissions/"
# OData name -> governance's metadata field.
FIELDS = {
    "__id": "instance_id",
    "__system/submissionDate": "submission_date",
    "__system/updatedAt": "updated_at",
    "__system/submitterId": "submitter_id",
    "__system/reviewState": "review_state",
    "__system/deletedAt": "deleted_at",
    # Not in Central's list; Ayni filters on the device too.
    "__system/deviceId": "device_id",
}
# Functions odata-v4-parser knows, with their arities; Central runs only the
# date parts and `now`, and refuses the others with 501.4.
_FUNCTIONS: dict[str, tuple[int, int]] = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "length": (1, 1),
    "indexof": (2, 2),
    "substring": (2, 3),
    "substringof": (2, 2),
    "tolower": (1, 1),
    "toupper": (1, 1),
    "trim": (1, 1),
    "concat": (2, 2),
    **{part: (1, 1) for part in DATE_PARTS},
    "fractionalseconds": (1, 1),
    "totalseconds": (1, 1),
    "date": (1, 1),
    "time": (1, 1),
    "totaloffsetminutes": (1, 1),
    "mindatetime": (0, 0),
    "maxdatetime": (0, 0),
    "now": (0, 0),
    "round": (1, 1),
    "floor": (1, 1),
    "ceiling": (1, 1),
    "geo.distance": (2, 2),
    "geo.length": (1, 1),
    "geo.intersects": (2, 2),
}
_BOOLEAN_FUNCTIONS = ("contains", "startswith", "endswith", "geo.intersects")
_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge", "has")
_ARITHMETIC = {
    "add": "AddExpression",
    "sub": "SubExpression",
    "mul": "MulExpression",
    "div": "DivExpression",
    "mod": "ModExpression",
}
_SPACE = re.compile(r"[ \t]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERALS = (
    ("string", re.compile(r"'(?:[^']|'')*'")),
    (
        "guid",
        re.compile(
            r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
        ),
    ),
    (
        "datetime",
        re.compile(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})"
        ),
    ),
    ("date", re.compile(r"\d{4}-\d{2}-\d{2}")),
    ("decimal", re.compile(r"[+-]?\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)")),
    ("int", re.compile(r"[+-]?\d+")),
    ("null", re.compile(r"null")),
    ("bool", re.compile(r"true|false")),
)


# --- the parse tree -----------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    kind: str  # literal, member, call, arithmetic, compare, and, or, not, common
    start: int
    end: int
    text: str
    value: object = None  # literal: (type, raw); member: its path; call: name
    op: str = ""
    parts: tuple[_Node, ...] = ()


class _Parser:
    """odata-v4-parser's `boolCommonExpr` over one expression, by position;
    each rule returns a node or None (and the caller tries the next rule)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def node(self, kind: str, start: int, end: int, **kw: object) -> _Node:
        return _Node(kind, start, end, self.text[start:end], **kw)  # type: ignore[arg-type]

    def spaces(self, at: int) -> int:
        match = _SPACE.match(self.text, at)
        return match.end() if match else at

    def word(self, at: int, word: str) -> int | None:
        """`RWS word RWS` from `at`: where the next operand starts."""
        start = self.spaces(at)
        if start == at or not self.text.startswith(word, start):
            return None
        after = start + len(word)
        following = self.spaces(after)
        return following if following > after else None

    # boolCommonExpr: (not | bool method | common [comparison] | (bool)) [and|or]
    def boolean(self, at: int) -> _Node | None:
        first = (
            self.negation(at)
            or self.call(at, boolean=True)
            or self.compared(at)
            or self.bool_parens(at)
        )
        if first is None:
            return None
        for word in ("and", "or"):
            start = self.word(first.end, word)
            if start is None:
                continue
            rest = self.boolean(start)
            if rest is None:
                continue
            if word == "and" and rest.kind == "or":
                # odata-v4-parser's precedence fix: `a and b or c` parses as
                # a and (b or c); it is turned into (a and b) or c.
                inner = rest.parts[0]
                left = self.node("and", first.start, inner.end, parts=(first, inner))
                return self.node(
                    "or", first.start, rest.end, parts=(left, rest.parts[1])
                )
            return self.node(word, first.start, rest.end, parts=(first, rest))
        return first

    def negation(self, at: int) -> _Node | None:
        if not self.text.startswith("not", at):
            return None
        start = self.spaces(at + 3)
        if start == at + 3:
            return None
        inner = self.boolean(start)
        if inner is None:
            return None
        return self.node("not", at, inner.end, parts=(inner,))

    def bool_parens(self, at: int) -> _Node | None:
        if not self.text.startswith("(", at):
            return None
        inner = self.boolean(self.spaces(at + 1))
        if inner is None:
            return None
        close = self.spaces(inner.end)
        if not self.text.startswith(")", close):
            return None
        return _Node(
            inner.kind,
            at,
            close + 1,
            self.text[at : close + 1],
            inner.value,
            inner.op,
            inner.parts,
        )

    def compared(self, at: int) -> _Node | None:
        left = self.common(at)
        if left is None:
            return None
        for op in _COMPARISONS:
            start = self.word(left.end, op)
            if start is None:
                continue
            right = self.common(start)
            if right is not None:
                return self.node("compare", at, right.end, op=op, parts=(left, right))
        if left.kind == "call" and left.value in _BOOLEAN_FUNCTIONS:
            return left
        return _Node("common", left.start, left.end, left.text, parts=(left,))

    # commonExpr: primary [arithmetic commonExpr]
    def common(self, at: int) -> _Node | None:
        first = (
            self.literal(at)
            or self.member(at)
            or self.call(at)
            or self.negate(at)
            or self.parens(at)
        )
        if first is None:
            return None
        for word, kind in _ARITHMETIC.items():
            start = self.word(first.end, word)
            if start is None:
                continue
            rest = self.common(start)
            if rest is not None:
                return self.node(
                    "arithmetic", at, rest.end, op=kind, parts=(first, rest)
                )
        return first

    def literal(self, at: int) -> _Node | None:
        for kind, pattern in _LITERALS:
            match = pattern.match(self.text, at)
            if match:
                return self.node("literal", at, match.end(), value=kind)
        return None

    def member(self, at: int) -> _Node | None:
        start = at
        if self.text.startswith("$root/", at):
            at += len("$root/")
        elif self.text.startswith("$", at):
            return None
        match = _IDENTIFIER.match(self.text, at)
        if match is None:
            return None
        end = match.end()
        if self.text.startswith("(", end) and self.text[start:end] in _FUNCTIONS:
            return None  # a function call, not a property
        while self.text.startswith("/", end):
            match = _IDENTIFIER.match(self.text, end + 1)
            if match is None:
                break
            end = match.end()
        return self.node("member", start, end, value=self.text[start:end])

    def call(self, at: int, *, boolean: bool = False) -> _Node | None:
        for name, (least, most) in _FUNCTIONS.items():
            if boolean and name not in _BOOLEAN_FUNCTIONS:
                continue
            if not self.text.startswith(f"{name}(", at):
                continue
            index = self.spaces(at + len(name) + 1)
            arguments: list[_Node] = []
            while len(arguments) < most:
                argument = self.common(index)
                if argument is None:
                    break
                arguments.append(argument)
                index = self.spaces(argument.end)
                if self.text.startswith(",", index):
                    index = self.spaces(index + 1)
                else:
                    break
            if len(arguments) < least or not self.text.startswith(")", index):
                return None
            return self.node("call", at, index + 1, value=name, parts=tuple(arguments))
        return None

    def negate(self, at: int) -> _Node | None:
        if not self.text.startswith("-", at):
            return None
        inner = self.common(self.spaces(at + 1))
        if inner is None:
            return None
        return self.node(
            "arithmetic", at, inner.end, op="NegateExpression", parts=(inner,)
        )

    def parens(self, at: int) -> _Node | None:
        if not self.text.startswith("(", at):
            return None
        inner = self.common(self.spaces(at + 1))
        if inner is None:
            return None
        close = self.spaces(inner.end)
        if not self.text.startswith(")", close):
            return None
        return _Node(
            inner.kind, at, close + 1, inner.text, inner.value, inner.op, inner.parts
        )


def _parse(expression: str) -> _Node:
    tree = _Parser(expression).boolean(0)
    stopped = tree.end if tree is not None else 0
    if tree is None or stopped != len(expression):
        raise UnparseableFilterError(f"Unexpected character at {stopped}")
    return tree


# --- into governance's terms -------------------------------------------------------


def _field_name(path: str, *, root_table: bool) -> str | None:
    if path.startswith(ROOT_PREFIX):
        return FIELDS.get(path[len(ROOT_PREFIX) :])
    return FIELDS.get(path) if root_table else None


@dataclass(frozen=True)
class _Translator:
    root_table: bool
    now: datetime

    def condition(self, node: _Node) -> Condition:
        if node.kind == "and":
            return Conjunction(
                self.condition(node.parts[0]), self.condition(node.parts[1])
            )
        if node.kind == "or":
            return Disjunction(
                self.condition(node.parts[0]), self.condition(node.parts[1])
            )
        if node.kind == "not":
            return Negation(self.condition(node.parts[0]))
        if node.kind == "compare":
            return self.compare(node)
        if node.kind == "call":
            raise UnsupportedExpressionError(
                "MethodCallExpression", node.start, node.text
            )
        raise UnsupportedExpressionError("CommonExpression", node.start, node.text)

    def operand(self, node: _Node) -> Operand:
        if node.kind == "member":
            name = _field_name(str(node.value), root_table=self.root_table)
            if name is None:
                raise UnsupportedFieldError(node.text, node.start)
            return MetaField(name)
        if node.kind == "literal":
            return Value(_literal(node))
        if node.kind == "call":
            return self.call(node)
        if node.kind == "arithmetic":
            raise UnsupportedExpressionError(node.op, node.start, node.text)
        raise UnsupportedExpressionError("CommonExpression", node.start, node.text)

    def call(self, node: _Node) -> Operand:
        name = str(node.value)
        if name == "now":
            return Value(self.now)
        if name not in DATE_PARTS:
            raise UnsupportedExpressionError(
                "MethodCallExpression", node.start, node.text
            )
        inner = self.operand(node.parts[0])
        if isinstance(inner, MetaField) and META_FIELDS[inner.name] == "instant":
            return DatePart(name, inner)
        if isinstance(inner, Value) and isinstance(inner.value, datetime):
            return Value(int(getattr(inner.value.astimezone(UTC), name)))
        raise UnsupportedExpressionError("MethodCallExpression", node.start, node.text)

    def compare(self, node: _Node) -> Condition:
        if node.op == "has":
            raise UnsupportedExpressionError("HasExpression", node.start, node.text)
        left_node, right_node = node.parts
        left, right = self.operand(left_node), self.operand(right_node)
        left = _coerce(left, right, left_node)
        right = _coerce(right, left, right_node)
        if (
            _kind(left) is not None
            and _kind(right) is not None
            and _kind(left) != _kind(right)
        ):
            raise UnsupportedExpressionError(
                _COMPARE_TYPES[node.op], node.start, node.text
            )
        return Compare(node.op, left, right)


_COMPARE_TYPES = {
    "eq": "EqualsExpression",
    "ne": "NotEqualsExpression",
    "lt": "LesserThanExpression",
    "le": "LesserOrEqualsExpression",
    "gt": "GreaterThanExpression",
    "ge": "GreaterOrEqualsExpression",
}


def _literal(node: _Node) -> object:
    kind, raw = node.value, node.text
    if kind == "null":
        return None
    if kind == "bool":
        return raw == "true"
    if kind == "string":
        return raw[1:-1].replace("''", "'")
    if kind == "int":
        return int(raw)
    if kind == "decimal":
        return float(raw)
    if kind == "date":
        try:
            day = date.fromisoformat(raw)
        except ValueError as exc:
            raise UnparseableFilterError(f"Invalid date {raw} at {node.start}") from exc
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if kind == "datetime":
        return _instant(raw, node.start)
    return raw  # a GUID, compared as text


def _instant(raw: str, at: int) -> datetime:
    text = re.sub(r"(\.\d{6})\d+", r"\1", raw)  # Python reads microseconds at most
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UnparseableFilterError(f"Invalid date {raw} at {at}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _kind(operand: Operand) -> str | None:
    """What an operand holds, for telling comparable from not (None: a
    constant, which `_coerce` already matched to the other side)."""
    if isinstance(operand, MetaField):
        return META_FIELDS[operand.name]
    if isinstance(operand, DatePart):
        return "integer"
    return None


def _coerce(operand: Operand, other: Operand, node: _Node) -> Operand:
    """A constant as the kind of what it is compared with (a date read as an
    instant, `5` as the text `'5'` for `__id`...)."""
    if not isinstance(operand, Value) or operand.value is None:
        return operand
    kind = _kind(other)
    value = operand.value
    if kind == "instant":
        if isinstance(value, datetime):
            return operand
        if isinstance(value, str):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return Value(
                    _literal(_Node("literal", node.start, node.end, value, "date"))
                )
            return Value(_instant(value, node.start))
        raise UnparseableFilterError(f"Invalid date {node.text} at {node.start}")
    if kind == "text":
        if isinstance(value, str):
            return operand
        return Value(node.text)
    if kind == "integer":
        if isinstance(value, bool | datetime):
            raise UnparseableFilterError(f"Invalid number {node.text} at {node.start}")
        if isinstance(value, str):
            if not re.fullmatch(r"[+-]?\d+", value.strip()):
                raise UnparseableFilterError(
                    f"Invalid number {node.text} at {node.start}"
                )
            return Value(int(value))
        return operand
    return operand


def parse_filter(
    expression: str, *, root_table: bool, now: datetime | None = None
) -> Condition:
    """A `$filter` expression as a condition on records' metadata.

    `root_table`: the request is for `Submissions`, where metadata may be
    named bare; other tables name it as `$root/Submissions/...`.

    Raises: UnparseableFilterError (400.18), UnsupportedExpressionError
    (501.4), UnsupportedFieldError (501.5).
    """
    tree = _parse(expression)
    translator = _Translator(root_table=root_table, now=now or datetime.now(UTC))
    return translator.condition(tree)


def parse_orderby(expression: str) -> tuple[tuple[str, bool], ...]:
    """`$orderby` as (metadata field, descending) pairs: comma-separated
    `<field> [asc|desc]`, any case, words after the order ignored (Central's
    `odataOrderBy`).

    Raises: UnsupportedFieldError (501.5) for a field or order it does not
    know.
    """
    order = []
    for clause in expression.split(","):
        words = clause.strip().split()
        field = words[0] if words else ""
        name = _field_name(field, root_table=True)
        if name is None:
            raise UnsupportedFieldError(field)
        direction = words[1] if len(words) > 1 else "asc"
        if direction.lower() not in ("asc", "desc"):
            raise UnsupportedFieldError(direction)
        order.append((name, direction.lower() == "desc"))
    return tuple(order)
