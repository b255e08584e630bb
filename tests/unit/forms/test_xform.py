"""Reading XForms that pyxform did not write: legacy shapes, inline choices,
namespaced metadata, and the refusals that keep a bad XForm out."""

from __future__ import annotations

import json

import pytest

from app.forms.errors import XFormInvalidError
from app.forms.xform import Choice, Field, FormSchema, language_code, parse_xform

# Hand-written in the older style Collect still accepts: inline <item>s with
# itext, `xsd:` types, a field without a bind, relative refs, a ref-less group,
# orx:meta, background audio, an itemset over an external file, an <output>.
LEGACY_XFORM = b"""<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
  xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"
  xmlns:odk="http://www.opendatakit.org/xforms" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <h:head>
    <h:title> Censo  antiguo </h:title>
    <model>
      <itext>
        <translation lang="English (en)">
          <text id="/censo/sexo:label"><value>Sex</value></text>
          <text id="f"><value>Female</value><value form="image">f.png</value></text>
          <text id="m"><value>Male</value></text>
        </translation>
        <translation lang="Espa\xc3\xb1ol (es)" default="true()">
          <text id="/censo/sexo:label"><value>Sexo</value></text>
          <text id="f"><value form="image">f.png</value><value>Mujer</value></text>
          <text id="m"><value>Var\xc3\xb3n</value></text>
        </translation>
      </itext>
      <instance>
        <censo id="censo_antiguo">
          <nombre/>
          <sexo/>
          <hogar>
            <miembro jr:template=""><edad/><doc/></miembro>
          </hogar>
          <comunidad/>
          <fondo/>
          <orx:meta><orx:instanceID/></orx:meta>
        </censo>
      </instance>
      <instance id="comunidades" src="jr://file-csv/comunidades.csv"/>
      <bind nodeset="/censo/sexo" type="select1" required="false()"/>
      <bind nodeset="/censo/hogar/miembro/edad" type="xsd:int"
            required="/censo/sexo = 'f'"/>
      <bind nodeset="/censo/hogar/miembro/doc" type="binary"/>
      <bind nodeset="/censo/comunidad" type="string"/>
      <bind nodeset="/censo/fondo" type="binary"/>
      <bind nodeset="/censo/orx:meta/orx:instanceID" type="string" readonly="true()"/>
      <odk:recordaudio event="odk-instance-load" ref="/censo/fondo"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/censo/nombre">
      <label>Nombre: <output value=" /censo/nombre "/></label>
    </input>
    <select1 ref="/censo/sexo">
      <label ref="jr:itext('/censo/sexo:label')"/>
      <item><label ref="jr:itext('f')"/><value>f</value></item>
      <item><label ref="jr:itext('m')"/><value>m</value></item>
    </select1>
    <group>
      <group ref="/censo/hogar">
        <label>Hogar</label>
        <repeat nodeset="/censo/hogar/miembro">
          <input ref="edad"><label>Edad</label></input>
          <upload ref="doc" mediatype="application/*"><label>Documento</label></upload>
        </repeat>
      </group>
    </group>
    <select1 ref="/censo/comunidad">
      <label>Comunidad</label>
      <itemset nodeset="instance('comunidades')/root/item[ayllu = 'x']">
        <value ref="name"/><label ref="label"/>
      </itemset>
    </select1>
  </h:body>
</h:html>"""


@pytest.fixture(scope="module")
def legacy() -> FormSchema:
    return parse_xform(LEGACY_XFORM)


def test_identity_comes_from_title_and_primary_instance(legacy: FormSchema) -> None:
    assert (legacy.xml_form_id, legacy.version, legacy.title) == (
        "censo_antiguo",
        "",
        "Censo antiguo",
    )
    assert legacy.languages == ("es", "en")


def test_template_repeats_and_namespaced_meta_appear_once_by_local_name(
    legacy: FormSchema,
) -> None:
    assert [(f.path, f.kind) for f in legacy.fields] == [
        ("nombre", "field"),
        ("sexo", "field"),
        ("hogar", "group"),
        ("hogar/miembro", "repeat"),
        ("hogar/miembro/edad", "field"),
        ("hogar/miembro/doc", "field"),
        ("comunidad", "field"),
        ("fondo", "field"),
        ("meta", "group"),
        ("meta/instanceID", "field"),
    ]


@pytest.mark.parametrize(
    ("path", "type_", "media", "required"),
    [
        ("nombre", "string", None, False),  # no bind at all
        ("sexo", "select1", None, False),
        ("hogar/miembro/edad", "int", None, True),  # xsd: prefix, expression
        ("hogar/miembro/doc", "binary", "file", False),  # relative ref in repeat
        ("comunidad", "select1", None, False),
        ("fondo", "binary", "audio", False),  # odk:recordaudio
    ],
)
def test_types_media_and_required_come_from_binds_and_controls(
    legacy: FormSchema, path: str, type_: str, media: str | None, required: bool
) -> None:
    field = legacy.field(path)
    assert field is not None
    assert (field.type, field.media, field.required) == (type_, media, required)


def test_inline_items_resolve_itext_per_language(legacy: FormSchema) -> None:
    sexo = legacy.field("sexo")
    assert sexo is not None
    assert sexo.labels == {"en": "Sex", "es": "Sexo"}
    assert sexo.choices == (
        Choice("f", {"en": "Female", "es": "Mujer"}),
        Choice("m", {"en": "Male", "es": "Varón"}),
    )


def test_external_itemsets_have_no_choices(legacy: FormSchema) -> None:
    comunidad = legacy.field("comunidad")
    assert comunidad is not None
    assert comunidad.choices == ()


def test_plain_labels_use_the_empty_language_and_outputs_read_as_names(
    legacy: FormSchema,
) -> None:
    nombre = legacy.field("nombre")
    hogar = legacy.field("hogar")
    assert nombre is not None
    assert hogar is not None
    assert nombre.labels == {"": "Nombre: ${nombre}"}
    assert hogar.labels == {"": "Hogar"}


def test_schema_round_trips_through_json(legacy: FormSchema) -> None:
    stored = json.loads(json.dumps(legacy.to_json()))
    assert FormSchema.from_json(stored) == legacy


def test_lookups_by_path() -> None:
    schema = parse_xform(LEGACY_XFORM)
    assert schema.field("no/such") is None
    assert [f.path for f in schema.binary_fields()] == ["hogar/miembro/doc", "fondo"]
    assert [f.path for f in schema.repeats()] == ["hogar/miembro"]
    assert isinstance(schema.field("hogar/miembro"), Field)


def _xform(title: str = "T", root: str = '<data id="f"><a/></data>') -> bytes:
    return (
        '<h:html xmlns="http://www.w3.org/2002/xforms" '
        'xmlns:h="http://www.w3.org/1999/xhtml"><h:head>'
        f"<h:title>{title}</h:title><model><instance>{root}</instance></model>"
        "</h:head><h:body/></h:html>"
    ).encode()


@pytest.mark.parametrize(
    ("xml", "fragment"),
    [
        pytest.param(_xform(title=""), "title", id="empty-title"),
        pytest.param(_xform(title="  "), "title", id="blank-title"),
        pytest.param(
            _xform().replace(b"<h:title>T</h:title>", b""),
            "title",
            id="no-title",
        ),
        pytest.param(_xform(root="<data><a/></data>"), "id", id="no-id"),
        pytest.param(_xform(root='<data id=" "/>'), "id", id="blank-id"),
        pytest.param(_xform(root=""), "id", id="no-primary-instance-root"),
        pytest.param(b"<h:html", "malformed", id="malformed"),
        pytest.param(b"<!DOCTYPE h:html>" + _xform(), "DOCTYPE", id="doctype"),
    ],
)
def test_xforms_without_title_or_id_are_refused(xml: bytes, fragment: str) -> None:
    with pytest.raises(XFormInvalidError) as caught:
        parse_xform(xml)
    assert caught.value.code == "xform_invalid"
    assert fragment in caught.value.en


def test_version_is_read_from_the_root() -> None:
    schema = parse_xform(_xform(root='<data id="f" version="2026112401"><a/></data>'))
    assert schema.version == "2026112401"
    assert [(f.path, f.type, f.labels) for f in schema.fields] == [("a", "string", {})]


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Español (es)", "es"),
        ("English (en)", "en"),
        ("Aymara (ay) ", "ay"),
        ("Uru Chipaya (ure)", "ure"),
        ("default", ""),
        ("Default", ""),
        ("Quechua", "Quechua"),
    ],
)
def test_language_code_reads_the_code_in_parentheses(label: str, code: str) -> None:
    assert language_code(label) == code
