"""XForm XML to the stored field schema: paths, types, labels, choices, repeats.

This module owns reading an XForm once per form version into a `FormSchema`
that is stored as JSON beside the version, so exports, aggregates and ingest
never re-parse XForms per submission (design.md "Data, as stored"). It is pure:
no database, no pyxform (the XForm may come from pyxform, another tool, or the
committed `forms/` directory) and it never changes the XForm.

Where things come from (ODK XForms spec):
- structure and order: the primary instance (the model's first `<instance>`),
  depth-first; a repeat's `jr:template` node and its default copy are merged;
- types, relevance, required, calculate: `<bind nodeset="/root/...">`;
- selects, media kinds, labels: the body controls (`select1`, `select`,
  `upload mediatype=...`), labels through `jr:itext` per language;
- choices: `<item>`s inline, or `<itemset>` over a secondary instance, which is
  what pyxform writes for every choice list.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from lxml import etree

from app.forms.errors import XFormIncompleteError, XFormUnparseableError
from app.xmlutil import child_elements, local_name, parse_xml

H_NS = "http://www.w3.org/1999/xhtml"
XF_NS = "http://www.w3.org/2002/xforms"
JR_NS = "http://openrosa.org/javarosa"
ODK_NS = "http://www.opendatakit.org/xforms"

_JR_TEMPLATE = f"{{{JR_NS}}}template"
# `jr:itext('/data/x:label')` (quoted id) or `jr:itext(itextId)` (a child of
# an itemset item holding the id).
_ITEXT_REF = re.compile(
    r"""^\s*jr:itext\(\s*(?:'([^']*)'|"([^"]*)"|([^)\s]+))\s*\)\s*$"""
)
_INSTANCE_REF = re.compile(r"""^\s*instance\(\s*['"]([^'"]+)['"]\s*\)(.*)$""")
_LANGUAGE_CODE = re.compile(r"\(([^()]+)\)\s*$")
_PREDICATE = re.compile(r"\[[^\]]*\]")
_STRUCTURE = "structure"
_SELECT_CONTROLS = {"select1": "select1", "select": "select", "rank": "rank"}
_MEDIA_KINDS = ("image", "audio", "video")
_CONTROL_TAGS = frozenset(
    {"input", "select1", "select", "upload", "trigger", "range", "rank", "secret"}
)


@dataclass(frozen=True)
class Choice:
    name: str
    labels: dict[str, str]


@dataclass(frozen=True)
class Field:
    path: str
    name: str
    kind: str  # "group" | "repeat" | "field"
    type: str
    media: str | None
    labels: dict[str, str]
    choices: tuple[Choice, ...]
    repeat: str | None
    relevant: str | None
    required: bool
    calculate: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "type": self.type,
            "media": self.media,
            "labels": dict(self.labels),
            "choices": [
                {"name": choice.name, "labels": dict(choice.labels)}
                for choice in self.choices
            ],
            "repeat": self.repeat,
            "relevant": self.relevant,
            "required": self.required,
            "calculate": self.calculate,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Field:
        path = str(data["path"])
        return cls(
            path=path,
            name=str(data.get("name") or path.rsplit("/", 1)[-1]),
            kind=str(data.get("kind", "field")),
            type=str(data.get("type", "string")),
            media=data.get("media"),
            labels=dict(data.get("labels") or {}),
            choices=tuple(
                Choice(name=str(c["name"]), labels=dict(c.get("labels") or {}))
                for c in data.get("choices") or ()
            ),
            repeat=data.get("repeat"),
            relevant=data.get("relevant"),
            required=bool(data.get("required", False)),
            calculate=data.get("calculate"),
        )


@dataclass(frozen=True)
class FormSchema:
    xml_form_id: str
    version: str
    title: str
    languages: tuple[str, ...]
    fields: tuple[Field, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "xml_form_id": self.xml_form_id,
            "version": self.version,
            "title": self.title,
            "languages": list(self.languages),
            "fields": [f.to_json() for f in self.fields],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormSchema:
        return cls(
            xml_form_id=str(data["xml_form_id"]),
            version=str(data.get("version") or ""),
            title=str(data.get("title") or ""),
            languages=tuple(data.get("languages") or ()),
            fields=tuple(Field.from_json(f) for f in data.get("fields") or ()),
        )

    @cached_property
    def _by_path(self) -> dict[str, Field]:
        return {f.path: f for f in self.fields}

    def field(self, path: str) -> Field | None:
        return self._by_path.get(path)

    def binary_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind == "field" and f.type == "binary")

    def repeats(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind == "repeat")


def language_code(lang_label: str) -> str:
    """The code of an itext language: "Español (es)" → "es", "default" → "".

    XLSForm columns are `label::Name (code)`; a language without a code keeps
    its whole name so that two such languages stay apart.
    """
    label = lang_label.strip()
    if label.lower() == "default":
        return ""
    match = _LANGUAGE_CODE.search(label)
    return match.group(1).strip() if match else label


def parse_xform_xml(xml: bytes) -> etree._Element:
    """The XForm's root element, parsed by the hardened parser.

    Raises: XFormUnparseableError (not XML, a DOCTYPE, not UTF-8), with
    Central's details `{format: "xml", rawLength}`.
    """

    def unparseable(es: str, en: str) -> XFormUnparseableError:
        return XFormUnparseableError(
            es, en, details={"format": "xml", "rawLength": len(xml)}
        )

    return parse_xml(xml, unparseable)


def parse_xform(xml: bytes) -> FormSchema:
    """Read an XForm's identity and field schema.

    Raises: XFormUnparseableError (not XML), XFormIncompleteError (no title,
    no primary instance or no @id).
    """
    html = parse_xform_xml(xml)
    head = html.find(f"{{{H_NS}}}head")
    if head is None:
        head = etree.Element(f"{{{H_NS}}}head")
    model = head.find(f"{{{XF_NS}}}model")
    if model is None:
        model = etree.Element(f"{{{XF_NS}}}model")
    root = _primary_root(model)
    xml_form_id = (root.get("id") or "").strip() if root is not None else ""
    # The form id first: XML that is no form at all answers as Central does.
    if root is None or not xml_form_id:
        raise XFormIncompleteError(
            "La instancia principal del XForm no tiene atributo id.",
            "The XForm's primary instance has no id attribute.",
            details={"field": "formId"},
        )
    title = _text(head.find(f"{{{H_NS}}}title"))
    if not title:
        raise XFormIncompleteError(
            "El XForm no tiene título (h:head/h:title).",
            "The XForm has no title (h:head/h:title).",
            details={"field": "title"},
        )
    reader = _XFormReader(html, model, local_name(root))
    return FormSchema(
        xml_form_id=xml_form_id,
        version=(root.get("version") or "").strip(),
        title=title,
        languages=reader.languages,
        fields=tuple(reader.fields(root)),
    )


def _primary_root(model: etree._Element) -> etree._Element | None:
    """The root element of the primary instance: the model's first instance."""
    instance = model.find(f"{{{XF_NS}}}instance")
    children = child_elements(instance) if instance is not None else []
    return children[0] if children else None


@dataclass
class _Node:
    """One path of the primary instance, merged over repeat copies."""

    name: str
    is_template: bool = False
    children: dict[str, _Node] = dataclasses.field(default_factory=dict)


@dataclass
class _Control:
    """What the body says about one path."""

    tag: str | None = None  # first non-group/repeat control: input, select1, upload...
    mediatype: str | None = None
    label: etree._Element | None = None
    items: list[etree._Element] = dataclasses.field(default_factory=list)
    itemset: etree._Element | None = None
    group: bool = False
    repeat: bool = False


class _XFormReader:
    def __init__(self, html: etree._Element, model: etree._Element, root_name: str):
        self._root_name = root_name
        self._model = model
        self._itext, self.languages = _read_itext(model)
        self._binds = self._read_binds(model)
        self._controls: dict[str, _Control] = {}
        body = html.find(f"{{{H_NS}}}body")
        if body is not None:
            self._read_body(body, "")
        self._record_audio = {
            self._path(el.get("ref", ""), "")
            for el in model.iter(f"{{{ODK_NS}}}recordaudio")
        }

    # --- paths -----------------------------------------------------------------

    def _path(self, ref: str, context: str) -> str | None:
        """An absolute or relative body/bind reference as a root-relative path."""
        ref = _PREDICATE.sub("", ref.strip())
        if not ref or ref.startswith(("instance(", "jr:", "$")):
            return None
        if ref.startswith("/"):
            segments = [s.split(":")[-1] for s in ref.strip("/").split("/")]
            if not segments or segments[0] != self._root_name:
                return None
            return "/".join(segments[1:]) or None
        segments = [s.split(":")[-1] for s in ref.split("/") if s and s != "."]
        if any(s == ".." for s in segments):
            return None
        return "/".join([context, *segments] if context else segments) or None

    # --- model -----------------------------------------------------------------

    def _read_binds(self, model: etree._Element) -> dict[str, etree._Element]:
        binds: dict[str, etree._Element] = {}
        for bind in model.iter(f"{{{XF_NS}}}bind"):
            path = self._path(bind.get("nodeset", ""), "")
            if path is not None:
                binds.setdefault(path, bind)
        return binds

    def _instance(self, instance_id: str) -> etree._Element | None:
        for instance in self._model.findall(f"{{{XF_NS}}}instance"):
            if instance.get("id") == instance_id:
                return instance
        return None

    # --- body ------------------------------------------------------------------

    def _read_body(self, element: etree._Element, context: str) -> None:
        for child in child_elements(element):
            tag = local_name(child)
            if tag not in _CONTROL_TAGS and tag not in ("group", "repeat"):
                # label, hint, itemset, setvalue, odk:setgeopoint...: not controls.
                continue
            ref = child.get("ref") if tag != "repeat" else child.get("nodeset")
            path = self._path(ref, context) if ref else None
            if path is None:
                self._read_body(child, context)
                continue
            control = self._controls.setdefault(path, _Control())
            label = child.find(f"{{{XF_NS}}}label")
            if control.label is None and label is not None:
                control.label = label
            if tag == "group":
                control.group = True
            elif tag == "repeat":
                control.repeat = True
            elif control.tag is None:
                control.tag = tag
                control.mediatype = child.get("mediatype")
                control.items = child.findall(f"{{{XF_NS}}}item")
                control.itemset = child.find(f"{{{XF_NS}}}itemset")
            self._read_body(child, path)

    # --- fields ----------------------------------------------------------------

    def fields(self, root: etree._Element) -> Iterator[Field]:
        tree = _Node(self._root_name)
        _merge(tree, root)
        yield from self._walk(tree, "", None)

    def _walk(self, node: _Node, prefix: str, repeat: str | None) -> Iterator[Field]:
        for child in node.children.values():
            path = f"{prefix}/{child.name}" if prefix else child.name
            control = self._controls.get(path, _Control())
            if child.is_template or control.repeat:
                kind = "repeat"
            elif child.children or control.group:
                kind = "group"
            else:
                kind = "field"
            yield self._field(path, child.name, kind, control, repeat)
            inner = path if kind == "repeat" else repeat
            yield from self._walk(child, path, inner)

    def _field(
        self, path: str, name: str, kind: str, control: _Control, repeat: str | None
    ) -> Field:
        bind = self._binds.get(path)
        attrs = dict(bind.attrib) if bind is not None else {}
        if kind == "field":
            type_ = (attrs.get("type") or "string").split(":")[-1]
            # pyxform binds select_one/select_multiple as type="string"; the body
            # control says which select it is (as Central's schema reader does).
            type_ = _SELECT_CONTROLS.get(control.tag or "", type_)
        else:
            type_ = _STRUCTURE
        choices = self._choices(control) if type_ in _SELECT_CONTROLS.values() else ()
        required = (attrs.get("required") or "").strip()
        return Field(
            path=path,
            name=name,
            kind=kind,
            type=type_,
            media=self._media(path, control) if type_ == "binary" else None,
            labels=self._labels(control.label),
            choices=choices,
            repeat=repeat,
            relevant=(attrs.get("relevant") or "").strip() or None,
            required=required not in ("", "false()"),
            calculate=(attrs.get("calculate") or "").strip() or None,
        )

    def _media(self, path: str, control: _Control) -> str:
        if control.tag == "upload" and control.mediatype:
            kind = control.mediatype.split("/")[0].strip().lower()
            return kind if kind in _MEDIA_KINDS else "file"
        # Background audio has no body control, only odk:recordaudio in the model.
        return "audio" if path in self._record_audio else "file"

    # --- labels and choices ------------------------------------------------------

    def _labels(
        self, label: etree._Element | None, item: etree._Element | None = None
    ) -> dict[str, str]:
        if label is None:
            return {}
        ref = label.get("ref")
        if ref is None:
            text = _text(label)
            return {"": text} if text else {}
        match = _ITEXT_REF.match(ref)
        if match:
            quoted = match.group(1) if match.group(1) is not None else match.group(2)
            if quoted is not None:
                text_id = quoted
            else:
                holder = _find_child(item, match.group(3)) if item is not None else None
                text_id = _text(holder) if holder is not None else ""
            return self._translations(text_id)
        # An itemset label read from the item itself (`<label ref="label"/>`).
        holder = _find_child(item, ref) if item is not None else None
        text = _text(holder) if holder is not None else ""
        return {"": text} if text else {}

    def _translations(self, text_id: str) -> dict[str, str]:
        return {
            lang: texts[text_id]
            for lang, texts in self._itext.items()
            if text_id in texts
        }

    def _choices(self, control: _Control) -> tuple[Choice, ...]:
        if control.items:
            return tuple(
                Choice(
                    name=_text(item.find(f"{{{XF_NS}}}value")),
                    labels=self._labels(item.find(f"{{{XF_NS}}}label")),
                )
                for item in control.items
            )
        if control.itemset is None:
            return ()
        return tuple(self._itemset_choices(control.itemset))

    def _itemset_choices(self, itemset: etree._Element) -> Iterator[Choice]:
        match = _INSTANCE_REF.match(itemset.get("nodeset", ""))
        instance = self._instance(match.group(1)) if match else None
        if match is None or instance is None:
            # select_one_from_file and friends: choices live in a media file.
            return
        value_el = itemset.find(f"{{{XF_NS}}}value")
        value_ref = value_el.get("ref", "name") if value_el is not None else "name"
        label = itemset.find(f"{{{XF_NS}}}label")
        steps = [s for s in _PREDICATE.sub("", match.group(2)).split("/") if s]
        nodes = child_elements(instance)
        for step in steps[:-1]:
            name = step.split(":")[-1]
            nodes = [
                c for n in nodes if local_name(n) == name for c in child_elements(n)
            ]
        last = steps[-1].split(":")[-1] if steps else "item"
        for item in nodes:
            if local_name(item) != last:
                continue
            value = _find_child(item, value_ref)
            yield Choice(
                name=_text(value) if value is not None else "",
                labels=self._labels(label, item),
            )


def _merge(node: _Node, element: etree._Element) -> None:
    """Fold an instance element's children into `node`, first occurrence first.

    pyxform writes each repeat twice (the `jr:template` and a default copy):
    merging by name keeps one node per path, in document order.
    """
    for child in child_elements(element):
        name = local_name(child)
        sub = node.children.get(name)
        if sub is None:
            sub = node.children[name] = _Node(name)
        if child.get(_JR_TEMPLATE) is not None:
            sub.is_template = True
        _merge(sub, child)


def _read_itext(
    model: etree._Element,
) -> tuple[dict[str, dict[str, str]], tuple[str, ...]]:
    """Itext texts per language code, and the codes with the default first."""
    itext = model.find(f"{{{XF_NS}}}itext")
    if itext is None:
        return {}, ()
    texts: dict[str, dict[str, str]] = {}
    defaults: list[str] = []
    others: list[str] = []
    for translation in itext.findall(f"{{{XF_NS}}}translation"):
        code = language_code(translation.get("lang", ""))
        is_default = (translation.get("default") or "").strip() in ("true()", "true")
        (defaults if is_default else others).append(code)
        entries = texts.setdefault(code, {})
        for text in translation.findall(f"{{{XF_NS}}}text"):
            value = _itext_value(text)
            if value is not None:
                entries.setdefault(text.get("id", ""), value)
    languages = tuple(dict.fromkeys([*defaults, *others]))
    return texts, languages


def _itext_value(text: etree._Element) -> str | None:
    """The plain-text form of an itext entry (media forms are ignored)."""
    values = text.findall(f"{{{XF_NS}}}value")
    plain = [v for v in values if v.get("form") in (None, "long")]
    return _text(plain[0]) if plain else None


def _text(element: etree._Element | None) -> str:
    """Text content, with `<output value="/data/x"/>` written back as `${x}`."""
    if element is None:
        return ""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and local_name(child) == "output":
            value = (child.get("value") or "").strip()
            name = value.rsplit("/", 1)[-1]
            is_path = value.startswith("/") and name.replace("_", "a").isalnum()
            parts.append(f"${{{name}}}" if is_path else value)
        elif isinstance(child.tag, str):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _find_child(element: etree._Element, name: str) -> etree._Element | None:
    name = name.strip().split(":")[-1]
    for child in child_elements(element):
        if local_name(child) == name:
            return child
    return None


def has_public_key(xml: bytes) -> bool:
    """Whether the XForm's `<submission>` carries `base64RsaPublicKey`: an
    encrypted form (openrosa.md §7)."""
    html = parse_xform_xml(xml)
    return any(
        (element.get("base64RsaPublicKey") or "").strip()
        for element in html.iter(f"{{{XF_NS}}}submission")
    )


# --- Central's views of an XForm: its fields, its media, its version -----------


def _strip_prefix(name: str) -> str:
    return name.split(":")[-1]


def _stripped_path(path: str) -> str:
    return "/".join(_strip_prefix(step) for step in path.strip().split("/"))


def central_fields(xml: bytes) -> list[dict[str, Any]]:
    """The XForm's fields as Central's `/fields` lists them, depth first:
    `{path, name, type, binary, selectMultiple}`.

    Central's reading (its `getFormFields`), which differs from the stored
    schema: `type` is the bind's as written (`string` for selects, `int`,
    `binary`…), `structure` for a group without a typed bind, `repeat`,
    `unknown` for a leaf without one; `binary` is true for binary fields and
    `meta/audit`, `selectMultiple` for the targets of `<select>`; both are
    null otherwise.

    Raises: XFormUnparseableError, XFormIncompleteError.
    """
    html = parse_xform_xml(xml)
    model = html.find(f"{{{H_NS}}}head/{{{XF_NS}}}model")
    root = _primary_root(model) if model is not None else None
    if model is None or root is None:
        raise XFormIncompleteError(
            "La instancia principal del XForm no tiene atributo id.",
            "The XForm's primary instance has no id attribute.",
            details={"field": "formId"},
        )
    envelope = local_name(root)

    def absolute(ref: str) -> str:
        ref = _stripped_path(ref)
        return ref if ref.startswith("/") else f"/{envelope}/{ref}"

    bindings: dict[str, str] = {}
    for bind in model.findall(f"{{{XF_NS}}}bind"):
        if bind.get("type") is not None and bind.get("nodeset"):
            bindings.setdefault(absolute(bind.get("nodeset", "")), bind.get("type", ""))
    body = html.find(f"{{{H_NS}}}body")
    repeats: set[str] = set()
    selects: set[str] = set()
    if body is not None:
        for element in body.iter(f"{{{XF_NS}}}repeat"):
            if element.get("nodeset"):
                repeats.add(absolute(element.get("nodeset", "")))
        for element in body.iter(f"{{{XF_NS}}}select"):
            ref = element.get("nodeset") or element.get("ref")
            if ref:
                selects.add(absolute(ref))

    fields: list[dict[str, Any]] = []

    def walk_node(element: etree._Element, base: str) -> None:
        seen_repeats: set[str] = set()
        for child in child_elements(element):
            name = local_name(child)
            path = f"{base}/{name}"
            binding_path = f"/{envelope}{path}"
            has_children = bool(child_elements(child))
            if binding_path in repeats:
                if binding_path in seen_repeats:
                    continue  # pyxform's jr:template and its default copy
                seen_repeats.add(binding_path)
                type_ = "repeat"
            elif binding_path in bindings:
                type_ = bindings[binding_path] or "unknown"
            elif has_children or (name == "entity" and "/meta/entity" in path):
                type_ = "structure"
            else:
                type_ = "unknown"
            fields.append(
                {
                    "path": path,
                    "name": name,
                    "type": type_,
                    "binary": True
                    if type_ == "binary" or path == "/meta/audit"
                    else None,
                    "selectMultiple": True if binding_path in selects else None,
                }
            )
            if type_ in ("repeat", "structure") and has_children:
                walk_node(child, path)

    walk_node(root, "")
    return fields


_ODATA_FIRST = re.compile(r"^([^a-z_])", re.IGNORECASE)
_ODATA_REST = re.compile(r"([^a-z0-9_]+)", re.IGNORECASE)


def odata_identifier(name: str) -> str:
    """A name as OData can carry it (Central's `sanitizeOdataIdentifier`)."""
    return _ODATA_REST.sub("_", _ODATA_FIRST.sub(r"_\1", name))


def odata_fields(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`central_fields` with names and paths as the OData feed writes them."""
    return [
        {
            **field,
            "name": odata_identifier(field["name"]),
            "path": "/".join(
                odata_identifier(step) for step in field["path"].split("/")
            ),
        }
        for field in fields
    ]


@dataclass(frozen=True)
class ExpectedAttachment:
    """A file the XForm names: Collect fetches it through the manifest."""

    name: str
    type: str  # image | audio | video | file


_JR_PATH = re.compile(r"^jr://(?:images|audio|video|file|file-csv)/([^/]+)$")
_MEDIA_FORMS = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "big-image": "image",
}
_SEARCH = re.compile(r"""^\s*(?:\w*\s+)?search\s*\(\s*("|')(.+)\)\s*$""")


def _jr_name(value: str | None) -> str | None:
    match = _JR_PATH.match((value or "").strip())
    return match.group(1) if match else None


def _search_csv(appearance: str) -> str | None:
    """The CSV a `search('name', …)` appearance reads, as Central finds it."""
    match = _SEARCH.match(appearance)
    if match is None:
        return None
    quote, args = match.group(1), match.group(2)
    try:
        row = next(csv.reader([quote + args], quotechar=quote, skipinitialspace=True))
    except (csv.Error, StopIteration):
        return None
    if not row:
        return None
    basename = row[0]
    # Collect fails on a name with surrounding spaces; Central ignores it.
    if not basename or basename != basename.strip():
        return None
    return basename if basename.endswith(".csv") else f"{basename}.csv"


def expected_attachments(xml: bytes) -> list[ExpectedAttachment]:
    """The media files the XForm names, in Central's order and with its types
    (its `expectedFormAttachments`): external instances (`jr://file…`),
    itext media (image, big-image, audio, video), `jr://images/` default
    values, `itemsets.csv` for `<input query>`, and `search()` CSVs. A name
    and type pair appears once.

    Raises: XFormUnparseableError.
    """
    html = parse_xform_xml(xml)
    model = html.find(f"{{{H_NS}}}head/{{{XF_NS}}}model")
    body = html.find(f"{{{H_NS}}}body")
    found: list[ExpectedAttachment] = []
    if model is not None:
        for instance in model.findall(f"{{{XF_NS}}}instance"):
            name = _jr_name(instance.get("src"))
            if name:
                found.append(ExpectedAttachment(name, "file"))
        for value in model.iterfind(
            f"{{{XF_NS}}}itext/{{{XF_NS}}}translation/{{{XF_NS}}}text/{{{XF_NS}}}value"
        ):
            kind = _MEDIA_FORMS.get(value.get("form") or "")
            name = _jr_name(value.text)
            if kind and name:
                found.append(ExpectedAttachment(name, kind))
        primary = model.find(f"{{{XF_NS}}}instance")
        if primary is not None:
            for element in primary.iter():
                text = (element.text or "") if isinstance(element.tag, str) else ""
                if text.startswith("jr://images/") and len(text) > len("jr://images/"):
                    name = _jr_name(text)
                    if name:
                        found.append(ExpectedAttachment(name, "image"))
    if body is not None:
        if any(el.get("query") is not None for el in body.iter(f"{{{XF_NS}}}input")):
            found.append(ExpectedAttachment("itemsets.csv", "file"))
        for tag in ("select", "select1"):
            for element in body.iter(f"{{{XF_NS}}}{tag}"):
                appearance = element.get("appearance") or ""
                name = _search_csv(appearance) if "search" in appearance else None
                if name:
                    found.append(ExpectedAttachment(name, "file"))
    seen: dict[str, str] = {}
    result = []
    for attachment in found:
        if seen.get(attachment.name) != attachment.type:
            result.append(attachment)
        seen[attachment.name] = attachment.type
    return result


def _xml_attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG_NAME = r"(?:[A-Za-z_][\w.\-]*:)?"
_VERSION_ATTR = re.compile(r"""(\s)version\s*=\s*("[^"]*"|'[^']*')""")


def set_version(xml: bytes, version: str) -> bytes:
    """The XForm with its primary instance's `version` set to `version`.

    As Central's `setVersion`, only the attribute's text changes: the rest of
    the XForm keeps its bytes (its other hashes, its formatting). Found by
    scanning the markup for the model's first instance's first element; the
    result is read back to prove it, and rebuilt by the XML library when the
    scan cannot find it (comments or CDATA in odd places).

    Raises: XFormUnparseableError, XFormIncompleteError.
    """
    text = xml.decode("utf-8")
    spliced = _splice_version(text, version)
    if spliced is not None:
        result = spliced.encode("utf-8")
        try:
            if parse_xform(result).version == version.strip():
                return result
        except (XFormUnparseableError, XFormIncompleteError):
            pass
    html = parse_xform_xml(xml)
    model = html.find(f"{{{H_NS}}}head/{{{XF_NS}}}model")
    root = _primary_root(model) if model is not None else None
    if root is None:
        raise XFormIncompleteError(
            "La instancia principal del XForm no tiene atributo id.",
            "The XForm's primary instance has no id attribute.",
            details={"field": "formId"},
        )
    root.set("version", version)
    return etree.tostring(html.getroottree(), encoding="utf-8", xml_declaration=True)


def _splice_version(text: str, version: str) -> str | None:
    masked = _COMMENT.sub(lambda m: " " * len(m.group(0)), text)
    model = re.search(rf"<{_TAG_NAME}model[\s>/]", masked)
    if model is None:
        return None
    instance = re.compile(rf"<{_TAG_NAME}instance[\s>/]").search(masked, model.end())
    if instance is None:
        return None
    instance_end = masked.find(">", instance.start())
    if instance_end < 0 or masked[instance_end - 1] == "/":
        return None
    start = re.compile(rf"<{_TAG_NAME}[A-Za-z_][\w.\-]*").search(masked, instance_end)
    if start is None:
        return None
    end = masked.find(">", start.start())
    if end < 0:
        return None
    tag = text[start.start() : end]
    value = f'"{_xml_attribute(version)}"'
    found = _VERSION_ATTR.search(tag)
    if found is not None:
        tag = (
            tag[: found.start()]
            + f"{found.group(1)}version={value}"
            + tag[found.end() :]
        )
    else:
        close = len(tag) - 1 if tag.endswith("/") else len(tag)
        tag = f"{tag[:close].rstrip()} version={value}{tag[close:]}"
    return text[: start.start()] + tag + text[end:]
