"""Plausible instances of the CdP forms, written from the stored field schema.

`build_instance` walks a `FormSchema` in document order and writes what ODK
Collect would send: a valid value per type, relevance evaluated on what was
filled so far (non-relevant groups and questions are left out, as JavaRosa
does), notes as empty elements, calculations evaluated with lxml where they are
XPath 1.0, repeats with 3 entries (2 when nested) and one file part per binary
value. It records every value it wrote with its location in the nested
`field_values` dict, so a test can compare what was stored with what was sent.
"""

from __future__ import annotations

import io
import itertools
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from app.forms.xform import XF_NS, Field, FormSchema
from tests.support import media_bytes

REPO = Path(__file__).resolve().parents[3]
XLSFORMS_DIR = REPO / "xlsforms"
FORMS_DIR = REPO / "forms"
CHOICES_CSV = REPO.parent / "shared" / "choices.csv"

JR = "http://openrosa.org/javarosa"
ORX = "http://openrosa.org/xforms"
PRELOAD = f"{{{JR}}}preload"
PRELOAD_PARAMS = f"{{{JR}}}preloadParams"
ROOT_NAME = "data"

GEOPOINT = "-19.0412 -68.0843 3650 5"
MEDIA_EXTENSIONS = {"image": "jpg", "audio": "m4a", "video": "mp4", "file": "bin"}
FIXED_TEXT = {
    "deviceid": "collect:Xk3mZ9pQ2rT7uV1w",
    "username": "enumeradora1",
    "telefono": "+59171234567",
    "correo": "cdp.chipaya@example.org",
    "ci": "4567890",
}
DATES = {  # all in the past; "later" dates after the default one
    "fecha_consentimiento": "2025-09-01",
    "fecha_inicio": "2025-09-01",
    "fecha_fin": "2025-11-20",
    "acuerdo_vigencia": "2025-11-20",
    "plazo": "2025-11-20",
}
DEFAULT_DATE = "2025-10-15"
TIMES = {"hora_inicio": "09:30:00.000-04:00", "hora_fin": "12:15:00.000-04:00"}
DATETIMES = {
    "start": "2025-10-15T09:00:00.000-04:00",
    "end": "2025-10-15T09:48:00.000-04:00",
}

# Per form: answers that make the instance plausible (respects constraints)
# and reach more of the form (e.g. a cash commitment, the only decimal field).
OVERRIDES: dict[str, dict[str, str]] = {
    "necesidades_ayllu": {
        "quien_responde": "asamblea",
        "participantes": "40",
        "participantes_mujeres": "18",
        "num_necesidades": "3",
    },
    "practica_saber": {
        "consentimiento/consentimiento_colectivo": "otorgado",
        "consentimiento/consentimiento_individual": "otorgado",
        "nivel_acceso": "publico",
        "portador/anonimo": "no",
        "contenido/intercambio/compartida": "si",
    },
    "registro_actor": {
        "clase_actor": "persona",
        "permanencia": "proyecto_temporal",
        "tiene_acuerdos": "si",
    },
    "reunion_cdp": {
        "tipo_reunion": "intercambio",
        "compromisos/modalidad": "efectivo",
    },
}


def _text_arg(value: Any) -> str:
    if isinstance(value, list):
        if not value:
            return ""
        first = value[0]
        return first if isinstance(first, str) else (first.text or "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# The ODK XPath functions the CdP forms use in relevance and calculations.
XPATH_EXTENSIONS = {
    (None, "selected"): lambda _ctx, values, choice: (
        _text_arg(choice) in _text_arg(values).split()
    ),
    (None, "count-selected"): lambda _ctx, values: float(
        len(_text_arg(values).split())
    ),
    (None, "if"): lambda _ctx, cond, yes, no: yes if cond else no,
}


def evaluate(expression: str, context: etree._Element) -> Any:
    """An XForms expression (absolute paths as compiled) at `context`."""
    return etree.XPath(expression, extensions=XPATH_EXTENSIONS)(context)


def is_relevant(expression: str | None, context: etree._Element) -> bool:
    return expression is None or bool(evaluate(expression, context))


def binds(xml: bytes) -> dict[str, dict[str, str]]:
    """Bind attributes by root-relative path ("lugar/ayllu")."""
    root = etree.fromstring(xml)
    found = {}
    for bind in root.iter(f"{{{XF_NS}}}bind"):
        nodeset = bind.get("nodeset", "")
        prefix = f"/{ROOT_NAME}/"
        if nodeset.startswith(prefix):
            found[nodeset[len(prefix) :]] = dict(bind.attrib)
    return found


def is_note(attrs: Mapping[str, str]) -> bool:
    """A read-only display question: Collect sends it empty."""
    return (
        attrs.get("readonly") == "true()"
        and "calculate" not in attrs
        and PRELOAD not in attrs
    )


@dataclass
class Written:
    field: Field
    location: tuple[str | int, ...]  # keys and repeat indexes into field_values
    value: str


@dataclass
class Built:
    xml: bytes
    instance_id: str
    written: list[Written] = field(default_factory=list)
    notes: list[tuple[str | int, ...]] = field(default_factory=list)
    parts: dict[str, tuple[str, io.BytesIO]] = field(default_factory=dict)
    media: dict[str, bytes] = field(default_factory=dict)
    repeat_counts: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def binary_values(self) -> list[str]:
        return [w.value for w in self.written if w.field.type == "binary"]


class _Builder:
    def __init__(
        self,
        schema: FormSchema,
        xml: bytes,
        overrides: Mapping[str, str],
        top_repeats: int,
        nested_repeats: int,
    ):
        self.schema = schema
        self.binds = binds(xml)
        self.overrides = overrides
        self.top_repeats = top_repeats
        self.nested_repeats = nested_repeats
        self.children: dict[str, list[Field]] = {}
        for f in schema.fields:
            parent = f.path.rsplit("/", 1)[0] if "/" in f.path else ""
            self.children.setdefault(parent, []).append(f)
        self.file_numbers = itertools.count(1732455064123, 1017)
        self.calculated: list[tuple[Field, etree._Element]] = []

    def build(self) -> Built:
        instance_id = f"uuid:{uuid.uuid4()}"
        root = etree.Element(
            ROOT_NAME,
            nsmap={"jr": JR, "orx": ORX},
            id=self.schema.xml_form_id,
            version=self.schema.version,
        )
        built = Built(xml=b"", instance_id=instance_id)
        self._fill(root, "", 0, 0, built)
        for f, element in self.calculated:
            self._calculate(f, element, built)
        meta_id = root.find("meta/instanceID")
        assert meta_id is not None, "every CdP form has meta/instanceID"
        meta_id.text = instance_id
        built.written.append(
            Written(self._field("meta/instanceID"), ("meta", "instanceID"), instance_id)
        )
        built.xml = b"<?xml version='1.0' ?>" + etree.tostring(root, encoding="utf-8")
        return built

    def _field(self, path: str) -> Field:
        found = self.schema.field(path)
        assert found is not None
        return found

    def _fill(
        self, parent: etree._Element, path: str, index: int, depth: int, built: Built
    ) -> None:
        for f in self.children.get(path, []):
            if f.kind == "repeat":
                count = self.top_repeats if depth == 0 else self.nested_repeats
                made = 0
                for i in range(count):
                    element = etree.SubElement(parent, f.name)
                    if not is_relevant(f.relevant, element):
                        parent.remove(element)
                        break
                    made += 1
                    self._fill(element, f.path, i, depth + 1, built)
                if made:
                    built.repeat_counts[(*location_of(parent, self.schema), f.name)] = (
                        made
                    )
            elif f.kind == "group":
                element = etree.SubElement(parent, f.name)
                if not is_relevant(f.relevant, element):
                    parent.remove(element)
                    continue
                self._fill(element, f.path, index, depth, built)
            else:
                element = etree.SubElement(parent, f.name)
                if not is_relevant(f.relevant, element):
                    parent.remove(element)
                    continue
                attrs = self.binds.get(f.path, {})
                if f.path == "meta/instanceID":
                    continue
                if f.calculate:
                    self.calculated.append((f, element))
                    continue
                if is_note(attrs):
                    built.notes.append(location_of(element, self.schema))
                    continue
                value = self._value(f, index, built)
                element.text = value
                built.written.append(
                    Written(f, location_of(element, self.schema), value)
                )

    def _calculate(self, f: Field, element: etree._Element, built: Built) -> None:
        assert f.calculate
        try:
            result = evaluate(f.calculate, element)
        except etree.XPathError:
            entry = element.getparent()
            if f.calculate.replace(" ", "") == "position(..)" and entry is not None:
                siblings = [e for e in entry.itersiblings(preceding=True)]
                result = float(sum(1 for e in siblings if e.tag == entry.tag) + 1)
            else:
                return  # not XPath 1.0: left empty, as an old client might
        value = _text_arg(result)
        element.text = value
        built.written.append(Written(f, location_of(element, self.schema), value))

    def _value(self, f: Field, index: int, built: Built) -> str:
        if f.path in self.overrides:
            return self.overrides[f.path]
        name = f.name
        if f.type == "string":
            if name in FIXED_TEXT:
                return FIXED_TEXT[name]
            return f"{f.path}#{index + 1} · Santa Ana de Chipaya (Oruro), año 2025"
        if f.type == "int":
            return str(index + 1) if name == "prioridad" else "3"
        if f.type == "decimal":
            return f"{1250.5 + index}"
        if f.type == "date":
            return DATES.get(name, DEFAULT_DATE)
        if f.type == "time":
            return TIMES.get(name, "10:00:00.000-04:00")
        if f.type == "dateTime":
            return DATETIMES.get(name, "2025-10-15T10:00:00.000-04:00")
        if f.type == "select1":
            return f.choices[0].name
        if f.type == "select":
            return " ".join(c.name for c in f.choices[:2])
        if f.type == "geopoint":
            return GEOPOINT
        if f.type == "binary":
            extension = MEDIA_EXTENSIONS.get(f.media or "file", "bin")
            filename = f"{next(self.file_numbers)}.{extension}"
            marker = f"{f.path}#{index + 1} media bytes ".encode() * 64
            data = media_bytes(f.media or "file", marker)
            built.media[filename] = data
            built.parts[filename] = (filename, io.BytesIO(data))
            return filename
        raise AssertionError(f"no value for type {f.type!r} ({f.path})")


def location_of(element: etree._Element, schema: FormSchema) -> tuple[str | int, ...]:
    """Where an element's value sits in `field_values`: keys and repeat indexes."""
    if element.getparent() is None:
        return ()
    steps: list[str | int] = []
    chain = [*list(element.iterancestors())[::-1][1:], element]
    path = ""
    for node in chain:
        name = etree.QName(node).localname
        path = f"{path}/{name}" if path else name
        steps.append(name)
        found = schema.field(path)
        if found is not None and found.kind == "repeat":
            parent = node.getparent()
            assert parent is not None
            steps.append([c for c in parent if c.tag == node.tag].index(node))
    return tuple(steps)


def build_instance(
    schema: FormSchema,
    xml: bytes,
    overrides: Mapping[str, str] | None = None,
    *,
    top_repeats: int = 3,
    nested_repeats: int = 2,
) -> Built:
    merged = {**OVERRIDES.get(schema.xml_form_id, {}), **(overrides or {})}
    return _Builder(schema, xml, merged, top_repeats, nested_repeats).build()


def value_at(values: Any, location: tuple[str | int, ...]) -> Any:
    for step in location:
        values = values[step]
    return values


_TIME = re.compile(r"^\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$")


def matches_type(f: Field, value: str, attached: set[str]) -> bool:
    """Whether a stored raw value is a valid value of the field's schema type."""
    names = {c.name for c in f.choices}
    if f.type == "int":
        return re.fullmatch(r"-?\d+", value) is not None
    if f.type == "decimal":
        return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    if f.type == "date":
        return date.fromisoformat(value) < date.today()
    if f.type == "time":
        return _TIME.match(value) is not None
    if f.type == "dateTime":
        return datetime.fromisoformat(value).tzinfo is not None
    if f.type == "select1":
        return value in names
    if f.type == "select":
        tokens = value.split()
        return bool(tokens) and set(tokens) <= names
    if f.type == "geopoint":
        lat, lon, _alt, accuracy = (float(x) for x in value.split())
        return -90 <= lat <= 90 and -180 <= lon <= 180 and accuracy >= 0
    if f.type == "binary":
        return value in attached
    return f.type == "string" and isinstance(value, str)
