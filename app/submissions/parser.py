"""Instance XML as sent by Collect, Enketo or pyODK: identity, values, attachments.

This module owns reading a submission's XML: which form and version it is for,
its instanceID/deprecatedID/instanceName, its values as a nested dict following
the stored `FormSchema` and the attachment names it expects. It is pure: no
database, no blobs, and it never rewrites the bytes it reads.

Elements are always matched by local name, in any namespace: Collect writes old
forms' metadata as `<n0:meta xmlns:n0="http://openrosa.org/xforms">`, Enketo
declares `orx:` on the root, and encrypted manifests come in two namespaces
(openrosa.md §4.3, §7, §11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from app.forms.xform import FormSchema
from app.submissions.errors import InstanceInvalidError
from app.xmlutil import child_elements, local_name, parse_xml, walk

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


def attachment_kinds(root: etree._Element, schema: FormSchema) -> dict[str, set[str]]:
    """The files this instance names, in document order, each with the kinds
    of field that name it ("image", "audio", "video", "file", "audit",
    "encrypted").

    Every binary field occurrence (repeats included) plus `meta/audit`; for an
    encrypted manifest, the `media/file` names and `encryptedXmlFile`
    (openrosa.md §4.2, §7).
    """
    kinds = {f.path: f.media or "file" for f in schema.binary_fields()}
    kinds[AUDIT_PATH] = "audit"
    if (root.get("encrypted") or "").strip() == "yes":
        kinds |= {"media/file": "encrypted", "encryptedXmlFile": "encrypted"}
    names: dict[str, set[str]] = {}
    for path, element in walk(root):
        if path in kinds:
            name = (element.text or "").strip()
            if name:
                names.setdefault(name, set()).add(kinds[path])
    return names
