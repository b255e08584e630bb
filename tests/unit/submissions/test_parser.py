"""Instance XML as Collect, Enketo and pyODK send it: identity, values,
attachments, and cutting sacred content out without touching anything else."""

from __future__ import annotations

import pytest

from app.forms.compiler import compile_markdown
from app.forms.xform import FormSchema, parse_xform
from app.submissions.errors import InstanceInvalidError
from app.submissions.parser import (
    attachment_kinds,
    extract_values,
    parse_instance,
)

FORM_MD = """
| survey |
| | type | name | label |
| | text | titulo | Título |
| | begin_group | lugar | Lugar |
| | text | ayllu | Ayllu |
| | geopoint | punto | Punto |
| | end_group | | |
| | image | foto | Foto |
| | begin_repeat | asistentes | Asistentes |
| | text | nombre | Nombre |
| | image | firma | Firma |
| | begin_repeat | hijos | Hijos |
| | integer | edad | Edad |
| | audio | voz | Voz |
| | end_repeat | | |
| | end_repeat | | |
| | text | contenido | Contenido |
| | audit | audit | |
| settings |
| | form_id | version | instance_name |
| | reunion | 3 | ${titulo} |
"""

COLLECT_XML = (
    b'<?xml version=\'1.0\' ?><data id="reunion" version="3" '
    b'xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">'
    b"<titulo>Ayni &amp; minka</titulo>"
    b"<lugar><ayllu>Manasaya</ayllu><punto>-19.04 -68.13 3650 5</punto></lugar>"
    b"<foto>1732455064123.jpg</foto>"
    b"<asistentes><nombre>Juana</nombre><firma>a.jpg</firma>"
    b"<hijos><edad>4</edad><voz>v1.m4a</voz></hijos>"
    b"<hijos><edad /><voz /></hijos></asistentes>"
    b"<asistentes><nombre>Pedro</nombre><firma> a.jpg </firma></asistentes>"
    b"<contenido>secreto</contenido>"
    b"<extra>not in the form</extra>"
    b"<meta><audit>audit.csv</audit><instanceID>uuid:1</instanceID>"
    b"<instanceName>Ayni</instanceName></meta>"
    b"</data>"
)


@pytest.fixture(scope="module")
def schema() -> FormSchema:
    return parse_xform(compile_markdown(FORM_MD).xml)


def test_collect_instance_identity_is_read() -> None:
    info, root = parse_instance(COLLECT_XML)
    assert info.xml_form_id == "reunion"
    assert info.version == "3"
    assert info.instance_id == "uuid:1"
    assert info.instance_name == "Ayni"
    assert info.deprecated_id is None
    assert info.encrypted is False
    assert root.tag == "data"


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param(
            '<data id="f"><n0:meta xmlns:n0="http://openrosa.org/xforms">'
            "<n0:instanceID>uuid:1</n0:instanceID>"
            "<n0:deprecatedID>uuid:0</n0:deprecatedID></n0:meta></data>",
            id="collect-n0-meta",
        ),
        pytest.param(
            '<data xmlns:orx="http://openrosa.org/xforms" id="f"><orx:meta>'
            "<orx:instanceID>uuid:1</orx:instanceID>"
            "<orx:deprecatedID>uuid:0</orx:deprecatedID></orx:meta></data>",
            id="enketo-orx-meta",
        ),
        pytest.param(
            '<data xmlns="http://example.org/x" id="f"><meta>'
            "<instanceID> uuid:1 </instanceID>"
            "<deprecatedID>uuid:0</deprecatedID></meta></data>",
            id="default-namespace",
        ),
        pytest.param(
            '<data id="f"><instanceID>uuid:1</instanceID>'
            "<deprecatedID>uuid:0</deprecatedID></data>",
            id="top-level",
        ),
        pytest.param(
            '<data id="f"><meta><instanceID/><deprecatedID>uuid:0</deprecatedID>'
            "</meta><instanceID>uuid:1</instanceID></data>",
            id="empty-meta-falls-back-to-top-level",
        ),
    ],
)
def test_instance_and_deprecated_ids_match_by_local_name(xml: str) -> None:
    info, _root = parse_instance(xml.encode())
    assert (info.instance_id, info.deprecated_id) == ("uuid:1", "uuid:0")
    assert info.version == ""


def test_missing_instance_id_is_none() -> None:
    info, _root = parse_instance(b'<data id="f" version="2"><a>1</a><meta/></data>')
    assert (info.instance_id, info.deprecated_id, info.instance_name) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "xml", [b"<data><a/></data>", b'<data id=""/>', b'<data id="  "/>']
)
def test_missing_root_id_is_refused_with_centrals_message(xml: bytes) -> None:
    with pytest.raises(InstanceInvalidError) as caught:
        parse_instance(xml)
    assert caught.value.en == "Required parameter form ID xml attribute missing."
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("xml", "fragment"),
    [
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<data id="f">&lol2;</data>',
            "DOCTYPE",
            id="billion-laughs",
        ),
        pytest.param(
            b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<data id="f">&x;</data>',
            "DOCTYPE",
            id="xxe",
        ),
        pytest.param(b'<data id="f"><a></data>', "malformed", id="malformed"),
        pytest.param(
            b"<?xml version='1.0' encoding='ISO-8859-1' ?><data id=\"f\">"
            b"<a>Se\xf1ora</a></data>",
            "only UTF-8",
            id="latin1",
        ),
        pytest.param(b"", "empty", id="empty"),
    ],
)
def test_unsafe_or_broken_instances_are_refused(xml: bytes, fragment: str) -> None:
    with pytest.raises(InstanceInvalidError) as caught:
        parse_instance(xml)
    assert fragment in caught.value.en
    assert caught.value.code == "instance_invalid"


def test_values_follow_the_schema_with_nested_repeats(schema: FormSchema) -> None:
    _info, root = parse_instance(COLLECT_XML)
    assert extract_values(root, schema) == {
        "titulo": "Ayni & minka",
        "lugar": {"ayllu": "Manasaya", "punto": "-19.04 -68.13 3650 5"},
        "foto": "1732455064123.jpg",
        "asistentes": [
            {
                "nombre": "Juana",
                "firma": "a.jpg",
                "hijos": [
                    {"edad": "4", "voz": "v1.m4a"},
                    {"edad": None, "voz": None},
                ],
            },
            {"nombre": "Pedro", "firma": " a.jpg "},
        ],
        "contenido": "secreto",
        "meta": {
            "audit": "audit.csv",
            "instanceID": "uuid:1",
            "instanceName": "Ayni",
        },
    }


def test_values_match_namespaced_elements_and_omit_absent_fields(
    schema: FormSchema,
) -> None:
    xml = (
        b'<data xmlns="http://example.org/x" xmlns:orx="http://openrosa.org/xforms"'
        b' id="reunion"><titulo></titulo><orx:meta><orx:instanceID>uuid:9'
        b"</orx:instanceID></orx:meta></data>"
    )
    _info, root = parse_instance(xml)
    assert extract_values(root, schema) == {
        "titulo": None,
        "meta": {"instanceID": "uuid:9"},
    }


def test_attachment_names_are_trimmed_unique_and_in_document_order(
    schema: FormSchema,
) -> None:
    _info, root = parse_instance(COLLECT_XML)
    found = attachment_kinds(root, schema)
    assert list(found) == ["1732455064123.jpg", "a.jpg", "v1.m4a", "audit.csv"]
    assert found["audit.csv"] == {"audit"}


@pytest.mark.parametrize(
    "namespace",
    [
        "http://www.opendatakit.org/xforms/encrypted",
        "http://opendatakit.org/submissions",
    ],
)
def test_encrypted_manifests_expect_media_files_and_the_encrypted_xml(
    schema: FormSchema, namespace: str
) -> None:
    xml = (
        f'<data xmlns="{namespace}" id="reunion" version="3" encrypted="yes">'
        "<base64EncryptedKey>a2V5</base64EncryptedKey>"
        '<orx:meta xmlns:orx="http://openrosa.org/xforms">'
        "<orx:instanceID>uuid:e</orx:instanceID></orx:meta>"
        "<media><file>1.jpg.enc</file></media><media><file>2.m4a.enc</file></media>"
        "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        "<base64EncryptedElementSignature>c2ln</base64EncryptedElementSignature>"
        "</data>"
    ).encode()
    info, root = parse_instance(xml)
    assert info.encrypted is True
    assert info.instance_id == "uuid:e"
    found = attachment_kinds(root, schema)
    assert list(found) == ["1.jpg.enc", "2.m4a.enc", "submission.xml.enc"]
    assert all(kinds == {"encrypted"} for kinds in found.values())
