"""The service document and the metadata document (EDMX 4.0) of a form.

The service document lists `Submissions` and one table per repeat. The
metadata document describes them as Central does (`lib/formats/odata.js`
`edmxFor`), so Power BI, Excel and Tableau see the same model: the metadata
of a submission as the complex type `org.opendatakit.submission.metadata`
with its enums; the form's own types under `org.opendatakit.user.<form>`: an
EntityType for the root and for each repeat (keyed by `__id`, a repeat's
also carrying its parent key), a ComplexType per group, a repeat as a
NavigationProperty to a collection, fields typed as Central types them
(`int` Int64, `decimal` Decimal, `geopoint` GeographyPoint...); and the
capability annotations Central declares, its quirks included (two
`FilterFunctions` annotations, the second meaning filter restrictions).

The document is built with lxml and laid out line by line as Central's, so a
client comparing bytes sees no difference. Pure: no session.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.odata.schema import ROOT_TABLE, Node, parent_key, repeat_tables, sanitize

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"
SUBMISSION_NS = "org.opendatakit.submission"
USER_NS = "org.opendatakit.user"
CAPABILITIES = "Org.OData.Capabilities.V1"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

EDM_TYPES = {
    "int": "Edm.Int64",
    "decimal": "Edm.Decimal",
    "boolean": "Edm.Boolean",
    "geopoint": "Edm.GeographyPoint",
    "geotrace": "Edm.GeographyLineString",
    "geoshape": "Edm.GeographyPolygon",
    "date": "Edm.Date",
    "dateTime": "Edm.DateTimeOffset",
}
_METADATA = (
    ("submissionDate", "Edm.DateTimeOffset"),
    ("updatedAt", "Edm.DateTimeOffset"),
    ("deletedAt", "Edm.DateTimeOffset"),
    ("submitterId", "Edm.String"),
    ("submitterName", "Edm.String"),
    ("attachmentsPresent", "Edm.Int64"),
    ("attachmentsExpected", "Edm.Int64"),
    ("status", f"{SUBMISSION_NS}.Status"),
    ("reviewState", f"{SUBMISSION_NS}.ReviewState"),
    ("deviceId", "Edm.String"),
    ("edits", "Edm.Int64"),
    ("formVersion", "Edm.String"),
)
_ENUMS = (
    ("Status", ("notDecrypted", "missingEncryptedFormData")),
    ("ReviewState", ("hasIssues", "edited", "rejected", "approved")),
)
# Elements Central writes open and closed on two lines even when empty.
_BLOCKS = {"EntitySet", "ComplexType", "EntityType", "Collection", "Schema"}


def service_document(tree: tuple[Node, ...], context_url: str) -> dict[str, Any]:
    """`{"@odata.context", "value": [{name, kind, url}]}`: `Submissions` and
    each repeat's table."""
    tables = [ROOT_TABLE, *(node.table for node in repeat_tables(tree))]
    return {
        "@odata.context": context_url,
        "value": [{"name": t, "kind": "EntitySet", "url": t} for t in tables],
    }


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{EDM_NS}}}{tag}")
    for name, value in attributes.items():
        element.set(name, value)
    return element


def _properties(holder: etree._Element, nodes: tuple[Node, ...], base: str) -> None:
    """Declare `nodes` (fields, groups, repeats) in `holder`."""
    for node in nodes:
        type_name = ".".join(node.idents)
        if node.kind == "group":
            _sub(holder, "Property", Name=node.ident, Type=f"{base}.{type_name}")
        elif node.kind == "repeat":
            _sub(
                holder,
                "NavigationProperty",
                Name=node.ident,
                Type=f"Collection({base}.{ROOT_TABLE}.{type_name})",
            )
        else:
            _sub(
                holder,
                "Property",
                Name=node.ident,
                Type=EDM_TYPES.get(node.type, "Edm.String"),
            )


def _entity_key(entity: etree._Element) -> None:
    key = _sub(entity, "Key")
    _sub(key, "PropertyRef", Name="__id")
    _sub(entity, "Property", Name="__id", Type="Edm.String")


def _primary_annotations(entity_set: etree._Element, root: tuple[Node, ...]) -> None:
    def annotation(term: str, **attributes: str) -> etree._Element:
        return _sub(
            entity_set, "Annotation", Term=f"{CAPABILITIES}.{term}", **attributes
        )

    def inline(term: str, prop: str, value: str) -> None:
        record = _sub(annotation(term), "Record")
        _sub(record, "PropertyValue", Property=prop, Bool=value)

    annotation(
        "ConformanceLevel",
        EnumMember=f"{CAPABILITIES}.ConformanceLevelType/Minimal",
    )
    annotation("BatchSupported", Bool="false")
    inline("CountRestrictions", "Countable", "true")
    record = _sub(annotation("FilterFunctions"), "Record")
    value = _sub(record, "PropertyValue", Property="NonCountableProperties")
    _sub(_sub(value, "Collection"), "String").text = "eq"
    record = _sub(annotation("FilterFunctions"), "Record")
    _sub(record, "PropertyValue", Property="Filterable", Bool="true")
    _sub(record, "PropertyValue", Property="RequiresFilter", Bool="false")
    value = _sub(record, "PropertyValue", Property="NonFilterableProperties")
    collection = _sub(value, "Collection")
    for node in root:
        _sub(collection, "PropertyPath").text = node.ident
    inline("SortRestrictions", "Sortable", "false")
    inline("ExpandRestrictions", "Expandable", "false")


def _layout(element: etree._Element, level: int) -> None:
    """Central's line layout: two spaces a level, `Key` and one-value
    `Record`s on one line, empty blocks closed on their own line."""
    children = list(element)
    if not children:
        if element.text is None and etree.QName(element).localname in _BLOCKS:
            element.text = "\n" + "  " * level
        return
    tag = etree.QName(element).localname
    one_line = tag == "Key" or (
        tag == "Record" and len(children) == 1 and len(children[0]) == 0
    )
    if one_line:
        for child in children:
            child.tail = None
        return
    element.text = "\n" + "  " * (level + 1)
    for child in children:
        _layout(child, level + 1)
        child.tail = "\n" + "  " * (level + 1)
    children[-1].tail = "\n" + "  " * level


def metadata_document(xml_form_id: str, tree: tuple[Node, ...]) -> str:
    """The EDMX metadata document of a form whose fields are `tree`."""
    base = f"{USER_NS}.{sanitize(xml_form_id)}"
    root = etree.Element(f"{{{EDMX_NS}}}Edmx", nsmap={"edmx": EDMX_NS})
    root.set("Version", "4.0")
    services = etree.SubElement(root, f"{{{EDMX_NS}}}DataServices")

    system = etree.SubElement(services, f"{{{EDM_NS}}}Schema", nsmap={None: EDM_NS})
    system.set("Namespace", SUBMISSION_NS)
    metadata = _sub(system, "ComplexType", Name="metadata")
    for name, type_name in _METADATA:
        _sub(metadata, "Property", Name=name, Type=type_name)
    for enum_name, members in _ENUMS:
        enum = _sub(system, "EnumType", Name=enum_name)
        for member in members:
            _sub(enum, "Member", Name=member)

    user = etree.SubElement(services, f"{{{EDM_NS}}}Schema", nsmap={None: EDM_NS})
    user.set("Namespace", base)
    by_path = {node.path: node for node in _all(tree)}
    # Entity types first (the root, then each repeat), complex types after,
    # each in the order the form declares them (Central's walk).
    entities: list[tuple[str, tuple[Node, ...], str | None]] = [
        (ROOT_TABLE, tree, None)
    ]
    entities += [
        (node.table, node.children, parent_key(_steps(by_path, node)))
        for node in repeat_tables(tree)
    ]
    complexes = [node for node in _all(tree) if node.kind == "group"]
    for name, nodes, key in entities:
        entity = _sub(user, "EntityType", Name=name)
        _entity_key(entity)
        if key is None:
            _sub(entity, "Property", Name="__system", Type=f"{SUBMISSION_NS}.metadata")
        else:
            _sub(entity, "Property", Name=key, Type="Edm.String")
        _properties(entity, nodes, base)
    for node in complexes:
        complex_type = _sub(user, "ComplexType", Name=".".join(node.idents))
        _properties(complex_type, node.children, base)
    container = _sub(user, "EntityContainer", Name=xml_form_id)
    for n, (name, _nodes, _key) in enumerate(entities):
        entity_set = _sub(
            container, "EntitySet", Name=name, EntityType=f"{base}.{name}"
        )
        if n == 0:
            _primary_annotations(entity_set, tree)
    _layout(root, 0)
    return XML_DECLARATION + etree.tostring(root, encoding="unicode")


def _all(tree: tuple[Node, ...]) -> list[Node]:
    found: list[Node] = []
    for node in tree:
        found.append(node)
        found += _all(node.children)
    return found


def _steps(by_path: dict[str, Node], node: Node) -> tuple[Node, ...]:
    segments = node.path.split("/")
    return tuple(by_path["/".join(segments[: n + 1])] for n in range(len(segments)))
