"""XLSForm → XForm through pyxform, read back into the stored field schema."""

from __future__ import annotations

import io

import pytest
from lxml import etree
from openpyxl import Workbook

from app.forms.compiler import CompiledForm, compile_markdown, compile_xlsform
from app.forms.errors import XlsFormInvalidError
from app.forms.xform import FormSchema, parse_xform

# Groups, repeats nested two deep, selects with es/en labels, geopoint, media
# in and out of repeats, a calculate and a relevant.
REUNION_MD = """
| survey |
| |type|name|label::Español (es)|label::English (en)|calculation|relevant|required|
| | begin_group | lugar | Lugar | Place | | | |
| | select_one ayllus | ayllu | Ayllu | Ayllu | | | yes |
| | geopoint | punto | Punto | Point | | | |
| | end_group | | | | | | |
| | begin_repeat | asistentes | Asistentes | Attendees | | | |
| | text | nombre | Nombre | Name | | | |
| | select_multiple roles | roles | Roles | Roles | | | |
| | begin_repeat | hijos | Hijos | Children | | | |
| | integer | edad | Edad | Age | | | |
| | image | foto | Foto | Photo | | ${edad} > 1 | |
| | end_repeat | | | | | | |
| | end_repeat | | | | | | |
| | audio | grabacion | Grabación | Recording | | | |
| | calculate | total | | | count(${asistentes}) | | |
| choices |
| | list_name | name | label::Español (es) | label::English (en) |
| | ayllus | manasaya | Manasaya | Manasaya |
| | ayllus | aransaya | Aransaya | Aransaya |
| | roles | lider | Líder | Leader |
| | roles | comunario | Comunario | Community member |
| settings |
| | form_id | version | form_title | default_language |
| | reunion | 2026112401 | Registro de reunión | Español (es) |
"""


@pytest.fixture(scope="module")
def compiled() -> CompiledForm:
    return compile_markdown(REUNION_MD)


@pytest.fixture(scope="module")
def schema(compiled: CompiledForm) -> FormSchema:
    return parse_xform(compiled.xml)


def test_identity_is_read_back_from_the_xform(compiled: CompiledForm) -> None:
    assert (compiled.xml_form_id, compiled.version, compiled.title) == (
        "reunion",
        "2026112401",
        "Registro de reunión",
    )
    root = etree.fromstring(compiled.xml)
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"
    assert compiled.xml.startswith(b'<?xml version="1.0"?>')


def test_fields_come_depth_first_in_document_order(schema: FormSchema) -> None:
    assert [f.path for f in schema.fields] == [
        "lugar",
        "lugar/ayllu",
        "lugar/punto",
        "asistentes",
        "asistentes/nombre",
        "asistentes/roles",
        "asistentes/hijos",
        "asistentes/hijos/edad",
        "asistentes/hijos/foto",
        "grabacion",
        "total",
        "meta",
        "meta/instanceID",
    ]


@pytest.mark.parametrize(
    ("path", "kind", "type_", "repeat"),
    [
        ("lugar", "group", "structure", None),
        ("lugar/ayllu", "field", "select1", None),
        ("lugar/punto", "field", "geopoint", None),
        ("asistentes", "repeat", "structure", None),
        ("asistentes/nombre", "field", "string", "asistentes"),
        ("asistentes/roles", "field", "select", "asistentes"),
        ("asistentes/hijos", "repeat", "structure", "asistentes"),
        ("asistentes/hijos/edad", "field", "int", "asistentes/hijos"),
        ("asistentes/hijos/foto", "field", "binary", "asistentes/hijos"),
        ("grabacion", "field", "binary", None),
        ("total", "field", "string", None),
        ("meta", "group", "structure", None),
        ("meta/instanceID", "field", "string", None),
    ],
)
def test_each_field_has_its_kind_type_and_enclosing_repeat(
    schema: FormSchema, path: str, kind: str, type_: str, repeat: str | None
) -> None:
    field = schema.field(path)
    assert field is not None
    assert (field.kind, field.type, field.repeat) == (kind, type_, repeat)
    assert field.name == path.rsplit("/", 1)[-1]


def test_languages_are_codes_with_the_default_first(schema: FormSchema) -> None:
    assert schema.languages == ("es", "en")


@pytest.mark.parametrize(
    ("path", "labels"),
    [
        ("lugar", {"es": "Lugar", "en": "Place"}),
        ("asistentes", {"es": "Asistentes", "en": "Attendees"}),
        ("asistentes/hijos/edad", {"es": "Edad", "en": "Age"}),
        ("grabacion", {"es": "Grabación", "en": "Recording"}),
        ("total", {}),
    ],
)
def test_labels_are_keyed_by_language_code(
    schema: FormSchema, path: str, labels: dict[str, str]
) -> None:
    field = schema.field(path)
    assert field is not None
    assert field.labels == labels


def test_select_choices_carry_names_and_labels_per_language(
    schema: FormSchema,
) -> None:
    ayllu = schema.field("lugar/ayllu")
    roles = schema.field("asistentes/roles")
    assert ayllu is not None
    assert roles is not None
    assert [c.name for c in ayllu.choices] == ["manasaya", "aransaya"]
    assert [(c.name, c.labels) for c in roles.choices] == [
        ("lider", {"es": "Líder", "en": "Leader"}),
        ("comunario", {"es": "Comunario", "en": "Community member"}),
    ]


def test_binary_fields_know_their_media(schema: FormSchema) -> None:
    assert [(f.path, f.media) for f in schema.binary_fields()] == [
        ("asistentes/hijos/foto", "image"),
        ("grabacion", "audio"),
    ]
    assert [f.path for f in schema.repeats()] == ["asistentes", "asistentes/hijos"]


def test_binds_give_required_relevant_and_calculate(schema: FormSchema) -> None:
    ayllu = schema.field("lugar/ayllu")
    foto = schema.field("asistentes/hijos/foto")
    total = schema.field("total")
    assert ayllu is not None
    assert foto is not None
    assert total is not None
    assert ayllu.required is True
    assert foto.required is False
    assert foto.relevant is not None
    assert foto.relevant.startswith("../edad")
    assert foto.relevant.endswith("> 1")
    assert total.calculate is not None
    assert "/data/asistentes" in total.calculate


def test_warnings_are_returned_not_swallowed(compiled: CompiledForm) -> None:
    # pyxform advises max-pixels for every image question (row 11 here).
    assert any("max-pixels" in w and "[row : 11]" in w for w in compiled.warnings)


def test_missing_translation_is_a_warning() -> None:
    md = """
| survey |
| | type | name | label::Español (es) | label::English (en) | hint::English (en) |
| | text | a | A | A | help |
"""
    compiled = compile_markdown(md)
    assert any("Español (es)" in w and "hint" in w for w in compiled.warnings)


@pytest.mark.parametrize(
    ("md", "fragment"),
    [
        pytest.param(
            """
| survey |
| | type | name | label |
| | text | a | A |
| | text | a | B |
""",
            "[row : 3]",
            id="duplicate-name",
        ),
        pytest.param(
            """
| survey |
| | type | name | label |
| | text | a | A |
| | text | bad name | B |
""",
            "[row : 3]",
            id="invalid-name",
        ),
        pytest.param(
            """
| survey |
| | type | name | label |
| | begin_group | g | G |
| | text | a | A |
""",
            "[row : 2]",
            id="unclosed-group",
        ),
        pytest.param(
            """
| survey |
| | type | name | label |
| | select_one nolist | a | A |
""",
            "choices",
            id="missing-choices",
        ),
    ],
)
def test_broken_forms_raise_with_pyxforms_row(md: str, fragment: str) -> None:
    with pytest.raises(XlsFormInvalidError) as caught:
        compile_markdown(md)
    error = caught.value
    assert error.code == "xlsform_invalid"
    assert fragment in error.en
    assert fragment in error.es
    assert any(fragment in line for line in error.errors)
    assert error.extra["errors"] == error.errors
    assert "no es válido" in error.detail()


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"hello", "form.xlsx"),
        (b"PK\x03\x04garbage", "form.xlsx"),
        (b"PK\x03\x04garbage", "form.xls"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1garbage", "form.xls"),
        (b"", "form.xlsx"),
        (b"| survey |", "form.csv"),
        (b"| survey |\n| | type | name |\n| | text | \xe9 |", "form.md"),
    ],
)
def test_files_that_are_not_xlsforms_raise_invalid(data: bytes, filename: str) -> None:
    with pytest.raises(XlsFormInvalidError):
        compile_xlsform(data, filename=filename)


def _workbook(form_id: str | None) -> bytes:
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::Español (es)", "label::English (en)"])
    survey.append(["text", "nombre", "Nombre", "Name"])
    survey.append(["image", "foto", "Foto", "Photo"])
    if form_id is not None:
        settings = book.create_sheet("settings")
        settings.append(["form_id", "version", "form_title"])
        settings.append([form_id, "1", "Hogar"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("filename", ["hogar.xlsx", "hogar.xls"])
def test_xlsx_workbooks_compile_even_when_misnamed(filename: str) -> None:
    compiled = compile_xlsform(_workbook("hogar"), filename=filename)
    assert (compiled.xml_form_id, compiled.version, compiled.title) == (
        "hogar",
        "1",
        "Hogar",
    )
    assert [f.path for f in parse_xform(compiled.xml).binary_fields()] == ["foto"]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("registro_hogar.xlsx", "registro_hogar"),
        ("Registro de hogar (v2).xlsx", "Registro_de_hogar_v2"),
        ("uploads/../x/censo.xlsx", "censo"),
    ],
)
def test_filename_is_the_form_id_when_settings_name_none(
    filename: str, expected: str
) -> None:
    assert compile_xlsform(_workbook(None), filename=filename).xml_form_id == expected


def test_settings_form_id_wins_over_the_filename() -> None:
    assert compile_xlsform(_workbook("hogar"), filename="otro.xlsx").xml_form_id == (
        "hogar"
    )


def test_submission_url_is_never_compiled_in() -> None:
    md = """
| survey |
| | type | name | label |
| | text | a | A |
| settings |
| | form_id | submission_url | public_key |
| | f | http://elsewhere.example/submission | MIIBIjANBgkq |
"""
    compiled = compile_markdown(md)
    root = etree.fromstring(compiled.xml)
    submission = root.find(".//{http://www.w3.org/2002/xforms}submission")
    assert submission is not None
    assert submission.get("action") is None
    assert submission.get("base64RsaPublicKey") == "MIIBIjANBgkq"
    assert b"elsewhere.example" not in compiled.xml
    assert any("submission_url" in w for w in compiled.warnings)


def test_forms_without_submission_url_are_pyxforms_bytes_untouched() -> None:
    md = """
| survey |
| | type | name | label |
| | text | a | A |
| settings |
| | form_id | public_key |
| | f | MIIBIjANBgkq |
"""
    compiled = compile_markdown(md)
    assert b"base64RsaPublicKey" in compiled.xml
    assert compiled.warnings == ()
