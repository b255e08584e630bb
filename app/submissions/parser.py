"""Instance XML as sent by Collect, Enketo or pyODK: identity, values, attachments.

This module owns reading a submission's XML: which form and version it is for,
its instanceID/deprecatedID/instanceName, its values as a nested dict following
the stored `FormSchema`, the attachment names it expects, and removing elements
(sacred content) before anything is stored. It is pure: no database, no blobs,
and it never rewrites bytes it was not asked to remove.

Elements are always matched by local name, in any namespace: Collect writes old
forms' metadata as `<n0:meta xmlns:n0="http://openrosa.org/xforms">`, Enketo
declares `orx:` on the root, and encrypted manifests come in two namespaces
(openrosa.md §4.3, §7, §11).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from lxml import etree

from app.forms.xform import FormSchema
from app.submissions.errors import InstanceInvalidError
from app.xmlutil import child_elements, local_name, parse_xml

MAX_ATTACHMENT_NAME = 255
AUDIT_PATH = "meta/audit"


@dataclass(frozen=True)
class InstanceInfo:
    xml_form_id: str
    version: str
    instance_id: str | None
    deprecated_id: str | None
    instance_name: str | None
    encrypted: bool


def parse_instance(xml: bytes) -> tuple[InstanceInfo, etree._Element]:
    """Parse instance XML (hardened) and read its identity.

    Raises: InstanceInvalidError (malformed, DOCTYPE, not UTF-8, no root @id).
    """
    root = parse_xml(xml, InstanceInvalidError)
    xml_form_id = (root.get("id") or "").strip()
    if not xml_form_id:
        # Central's wording (openrosa.md §4.3), which Collect shows verbatim.
        raise InstanceInvalidError(
            "Falta el parámetro requerido: el atributo id del formulario en el XML.",
            "Required parameter form ID xml attribute missing.",
        )
    info = InstanceInfo(
        xml_form_id=xml_form_id,
        version=(root.get("version") or "").strip(),
        instance_id=_meta_value(root, "instanceID"),
        deprecated_id=_meta_value(root, "deprecatedID"),
        instance_name=_meta_value(root, "instanceName"),
        encrypted=(root.get("encrypted") or "").strip() == "yes",
    )
    return info, root


def _meta_value(root: etree._Element, name: str) -> str | None:
    """`meta/<name>`, else a top-level `<name>`; trimmed, None when empty."""
    candidates = [
        grandchild
        for child in child_elements(root)
        if local_name(child) == "meta"
        for grandchild in child_elements(child)
        if local_name(grandchild) == name
    ]
    candidates += [child for child in child_elements(root) if local_name(child) == name]
    for element in candidates:
        text = (element.text or "").strip()
        if text:
            return text
    return None


def extract_values(root: etree._Element, schema: FormSchema) -> dict[str, Any]:
    """The instance's values as a JSON-safe dict shaped by the schema.

    Groups are nested dicts, repeats lists of dicts in document order, field
    values the raw text (no type conversion; an empty element gives None).
    Fields absent from the XML are omitted; elements the schema does not know
    (another form version, encrypted manifests) are ignored.
    """
    return _values(root, "", schema)


def _values(element: etree._Element, prefix: str, schema: FormSchema) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for child in child_elements(element):
        name = local_name(child)
        path = f"{prefix}/{name}" if prefix else name
        field = schema.field(path)
        if field is None:
            continue
        if field.kind == "repeat":
            values.setdefault(name, []).append(_values(child, path, schema))
        elif field.kind == "group":
            nested = values.setdefault(name, {})
            if isinstance(nested, dict):
                nested.update(_values(child, path, schema))
        else:
            # Raw text as sent: entities decoded by the parser, nothing else.
            values[name] = child.text or None
    return values


def attachment_names(root: etree._Element, schema: FormSchema) -> list[str]:
    """Names of the files this instance expects, de-duplicated, in document order.

    Every binary field occurrence (repeats included) plus `meta/audit`; for an
    encrypted manifest, the `media/file` names and `encryptedXmlFile`
    (openrosa.md §4.2, §7).
    """
    wanted = {f.path for f in schema.binary_fields()} | {AUDIT_PATH}
    if (root.get("encrypted") or "").strip() == "yes":
        wanted |= {"media/file", "encryptedXmlFile"}
    names: dict[str, None] = {}
    for path, element in _walk(root, ""):
        if path in wanted:
            name = (element.text or "").strip()
            if name:
                names.setdefault(name, None)
    return list(names)


def _walk(element: etree._Element, prefix: str) -> Iterator[tuple[str, etree._Element]]:
    """Every element below `element` with its local-name path, document order."""
    for child in child_elements(element):
        path = f"{prefix}/{local_name(child)}" if prefix else local_name(child)
        yield path, child
        yield from _walk(child, path)


def is_safe_attachment_name(name: str) -> bool:
    """Whether a client-given file name can be used as-is (no path, no controls).

    Attachment names become `media/{name}` in export zips and appear in
    headers, so anything that could escape a directory or a header is refused.
    """
    if not name or len(name) > MAX_ATTACHMENT_NAME:
        return False
    if "/" in name or "\\" in name or ".." in name:
        return False
    return not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name)


def remove_paths(xml: bytes, paths: Iterable[str]) -> bytes:
    """The instance XML without the elements at `paths`, all other bytes kept.

    Paths are schema paths relative to the root ("contenido", "grupo/campo"),
    matched by local name; every occurrence goes (repeats included). The cut is
    made on the original bytes, so the declaration, whitespace, quoting and
    `<x />` style of everything that stays are exactly as the tablet sent them.

    Raises: InstanceInvalidError (as `parse_instance`).
    """
    targets = {p.strip("/") for p in paths if p.strip("/")}
    # The hardened parse first: it refuses DOCTYPEs, so the byte scanner below
    # never meets an entity or a DTD.
    parse_xml(xml, InstanceInvalidError)
    if not targets:
        return xml
    ranges = _element_ranges(xml, targets)
    if not ranges:
        return xml
    kept: list[bytes] = []
    cursor = 0
    for start, end in ranges:
        kept.append(xml[cursor:start])
        cursor = end
    kept.append(xml[cursor:])
    return b"".join(kept)


def _element_ranges(xml: bytes, targets: set[str]) -> list[tuple[int, int]]:
    """Byte ranges `[start, end)` of the outermost elements at `targets`.

    lxml keeps no byte offsets, so expat (which reports the byte index of each
    tag) finds where elements start and end in the original bytes.
    """
    parser = expat.ParserCreate()  # no namespace processing: names keep prefixes
    stack: list[str] = []  # local-name paths of open elements, root excluded
    ranges: list[tuple[int, int]] = []
    open_start: int | None = None
    open_depth = 0
    self_closing: list[bool] = []

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal open_start, open_depth
        index = parser.CurrentByteIndex
        tag_end, empty = _tag_end(xml, index)
        self_closing.append(empty)
        depth = len(self_closing)
        if depth > 1:
            parent = stack[-1] if stack else ""
            local = name.rsplit(":", 1)[-1]
            path = f"{parent}/{local}" if parent else local
            stack.append(path)
            if open_start is None and path in targets:
                if empty:
                    ranges.append((index, tag_end))
                else:
                    open_start, open_depth = index, depth

    def end(_name: str) -> None:
        nonlocal open_start
        depth = len(self_closing)
        empty = self_closing.pop()
        if depth > 1:
            stack.pop()
        if open_start is not None and depth == open_depth and not empty:
            # For a non-empty element expat reports the index of its `</name>`.
            close = xml.index(b">", parser.CurrentByteIndex) + 1
            ranges.append((open_start, close))
            open_start = None

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:  # already parsed by lxml; kept for safety
        raise InstanceInvalidError(
            f"El XML está mal formado: {exc}.", f"The XML is malformed: {exc}."
        ) from exc
    return ranges


def _tag_end(xml: bytes, start: int) -> tuple[int, bool]:
    """End (exclusive) of the start tag at `start`, and whether it is `<x/>`.

    Attribute values may contain `>` and `/`, so quotes are tracked.
    """
    quote: int | None = None
    position = start + 1
    while position < len(xml):
        byte = xml[position]
        if quote is not None:
            if byte == quote:
                quote = None
        elif byte in (0x22, 0x27):  # " or '
            quote = byte
        elif byte == 0x3E:  # >
            return position + 1, xml[position - 1] == 0x2F  # /
        position += 1
    raise InstanceInvalidError("El XML está incompleto.", "The XML is truncated.")
