"""The checks a submission passes before anything is written: parts, names,
identifiers, the XML's size and node types, envelopes and file contents."""

from __future__ import annotations

import io

import pytest
from lxml import etree

from app.config import SubmissionLimits
from app.submissions import checks, sniff
from app.submissions.errors import (
    AttachmentRefusedError,
    EncryptionMismatchError,
    InstanceIdInvalidError,
    InstanceLimitError,
    InstanceNodeRefusedError,
    XmlPartInvalidError,
)
from app.xmlutil import parse_xml

LIMITS = SubmissionLimits()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + bytes(200)
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00" + bytes(200)
AMR = b"#!AMR\n" + bytes(200)
WEBM = b"\x1a\x45\xdf\xa3" + bytes(200)
PDF = b"%PDF-1.7\n" + bytes(200)
EXE = b"MZ\x90\x00" + bytes(200)
ELF = b"\x7fELF\x02\x01\x01" + bytes(200)
HTML = b"\xef\xbb\xbf  <!DOCTYPE html><html><script>alert(1)</script>"
SCRIPTED_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>'
)
PLAIN_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1"/></svg>'
AUDIT_CSV = b"event,node,start,end\nform start,,1732455064123,\n"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("1732455064123.jpg", True),
        ("audit.csv", True),
        ("submission.xml.enc", True),
        ("foto de Ñusta.jpg", True),
        ("image-10_15_3.jpg", True),
        ("a" * 255, True),
        ("a" * 256, False),
        ("ñ" * 128, False),  # 256 bytes of UTF-8
        ("", False),
        ("../etc/passwd", False),
        ("dir/x.jpg", False),
        ("dir\\x.jpg", False),
        ("x..jpg", False),
        (".hidden.jpg", False),
        ("c:foto.jpg", False),
        ("x\x00.jpg", False),
        ("x\n.jpg", False),
        ("x\r\n.jpg", False),
        ("x\x7f.jpg", False),
        ("x\u0085.jpg", False),  # next line
        ("x\u2028.jpg", False),  # line separator
        ("gpj.\u202eexe", False),  # right-to-left override
        ("x\u200f.jpg", False),  # right-to-left mark
        ("x\u200b.jpg", False),  # zero-width space (a format character)
        ("\uff0e\uff0e\uff0fx.jpg", False),  # full-width "../"
        ("x\uff0fy.jpg", False),  # full-width solidus
        ("x\u2215y.jpg", False),  # division slash
        ("x\u2044y.jpg", False),  # fraction slash
        ("x\ufe52\ufe52y.jpg", False),  # small full stops fold to ".."
    ],
)
def test_file_names_are_printable_and_never_a_path_in_any_spelling(name, safe):
    assert (checks.file_name_problem(name) is None) is safe


def test_a_refused_name_is_shown_with_its_controls_made_visible():
    with pytest.raises(AttachmentRefusedError) as refused:
        checks.check_file_name("a\x00\u202eb.jpg")
    assert "a\\u0000\\u202eb.jpg" in refused.value.es
    assert (
        "\x00" not in refused.value.detail() and "\u202e" not in refused.value.detail()
    )


@pytest.mark.parametrize(
    "types",
    [[], ["text/xml"], ["application/xml"], ["text/xml; charset=utf-8"], ["TEXT/XML"]],
)
def test_one_xml_part_of_an_xml_type_passes(types):
    checks.check_xml_parts(types)


@pytest.mark.parametrize(
    ("types", "words"),
    [
        (["text/xml", "text/xml"], "2 xml_submission_file parts"),
        (["image/jpeg"], "image/jpeg"),
        (["text/plain"], "text/plain"),
        (["application/octet-stream"], "octet-stream"),
        ([None], "none"),
    ],
)
def test_two_xml_parts_or_a_non_xml_type_are_refused(types, words):
    with pytest.raises(XmlPartInvalidError, match=words):
        checks.check_xml_parts(types)


def test_two_parts_with_one_name_or_too_many_files_are_refused():
    with pytest.raises(AttachmentRefusedError, match="comes twice"):
        checks.check_part_names([("a.jpg", "a.jpg"), ("a.jpg", "a.jpg")], LIMITS)
    few = SubmissionLimits(attachments=2)
    with pytest.raises(AttachmentRefusedError, match="at most 2"):
        checks.check_part_names([(f"{i}.jpg", None) for i in range(3)], few)


@pytest.mark.parametrize(
    "value",
    [
        "uuid:6f3e1d9a-2b7c-4d8e-9f01-23456789abcd",
        "uuid:x",
        "legacy-id_1.2",
        "a" * 255,
    ],
)
def test_identifiers_like_collects_pass(value):
    checks.check_instance_id(value, LIMITS)


@pytest.mark.parametrize(
    "value",
    [
        "a" * 256,
        "a" * 10_000,
        "uuid:../../etc/passwd",
        "uuid:a/b",
        "uuid:a\\b",
        "uuid:a b",
        "uuid:\uff41",  # full-width a
        "uuid:a\u202eb",
        ":leading",
        "uuid:a..b",
        "uuid:a\x00",
    ],
)
def test_identifiers_that_are_paths_or_too_long_are_refused(value):
    with pytest.raises(InstanceIdInvalidError) as refused:
        checks.check_instance_id(value, LIMITS)
    assert refused.value.status == 400
    assert len(refused.value.detail()) < 600  # a 10 kB id is not echoed whole


def _root(xml: str) -> etree._Element:
    return parse_xml(xml.encode())


@pytest.mark.parametrize(
    ("xml", "error"),
    [
        (
            '<data xmlns:xi="http://www.w3.org/2001/XInclude">'
            '<xi:include href="/etc/passwd"/></data>',
            InstanceNodeRefusedError,
        ),
        ("<data><a><?php echo 1; ?></a></data>", InstanceNodeRefusedError),
        ("<?xml-stylesheet href='x.xsl'?><data/>", InstanceNodeRefusedError),
        ("<data/><?after x?>", InstanceNodeRefusedError),
        (f"<data a='{'x' * 5_000_000}'/>", InstanceLimitError),
        (
            "<data " + " ".join(f"a{i}='1'" for i in range(50_000)) + "/>",
            InstanceLimitError,
        ),
        ("<data>" + "<a>" * 70 + "</a>" * 70 + "</data>", InstanceLimitError),
    ],
    ids=[
        "xinclude",
        "pi-inside",
        "pi-before",
        "pi-after",
        "5MB-attribute",
        "50k-attributes",
        "depth-70",
    ],
)
def test_xinclude_processing_instructions_and_huge_trees_are_refused(xml, error):
    with pytest.raises(error):
        checks.check_tree(_root(xml), LIMITS)


def test_element_and_text_limits_are_enforced():
    small = SubmissionLimits(xml_elements=10, xml_text_bytes=100)
    with pytest.raises(InstanceLimitError, match="more than 10 elements"):
        checks.check_tree(_root("<data>" + "<a/>" * 10 + "</data>"), small)
    with pytest.raises(InstanceLimitError, match="characters of text"):
        checks.check_tree(_root(f"<data><a>{'x' * 101}</a></data>"), small)


def test_comments_are_ignored():
    checks.check_tree(
        _root("<!-- antes --><data><!-- c --><a>1<!-- d --></a></data>"), LIMITS
    )


def test_an_envelope_is_refused_for_a_plain_form_and_must_be_complete():
    envelope = (
        '<data encrypted="yes"><base64EncryptedKey>k</base64EncryptedKey>'
        "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile></data>"
    )
    with pytest.raises(EncryptionMismatchError, match="not encrypted"):
        checks.check_envelope(_root(envelope), form_encrypted=False)
    checks.check_envelope(_root(envelope), form_encrypted=True)
    with pytest.raises(EncryptionMismatchError, match="base64EncryptedKey"):
        checks.check_envelope(
            _root(
                '<data encrypted="yes">'
                "<encryptedXmlFile>s.enc</encryptedXmlFile></data>"
            ),
            form_encrypted=True,
        )
    checks.check_envelope(_root("<data/>"), form_encrypted=True)  # plain: accepted


@pytest.mark.parametrize(
    ("name", "kinds", "data"),
    [
        ("1.jpg", {"image"}, JPEG),
        ("firma.png", {"image"}, PNG),
        ("1.jpg", {"image"}, PNG),  # same family, another subtype: Android does it
        ("1.m4a", {"audio"}, M4A),
        ("1.amr", {"audio"}, AMR),
        ("grabacion.webm", {"audio"}, WEBM),  # Enketo's recorder
        ("1.3gp", {"audio"}, b"\x00\x00\x00\x18ftyp3gp4" + bytes(200)),
        ("1.mp4", {"video"}, MP4),
        ("acta.pdf", {"file"}, PDF),
        ("datos.csv", {"file"}, AUDIT_CSV),
        ("plano.svg", {"file"}, PLAIN_SVG),
        ("audit.csv", {"audit"}, AUDIT_CSV),
        ("1.jpg.enc", {"encrypted"}, EXE),  # ciphertext says nothing
    ],
)
def test_files_matching_their_field_pass(name, kinds, data):
    assert checks.content_problem(name, kinds, io.BytesIO(data)) is None


@pytest.mark.parametrize(
    ("name", "kinds", "data", "why"),
    [
        ("1.jpg", {"image"}, HTML, "programa o contenido activo"),
        ("1.jpg", {"image"}, b"not an image at all", "espera una imagen"),
        ("1.jpg", {"image"}, b"", "espera una imagen"),
        ("1.m4a", {"image"}, M4A, "espera una imagen"),
        ("1.jpg", {"audio"}, JPEG, "espera un audio"),
        ("1.exe", {"image"}, JPEG, "programa"),
        ("1.mp4", {"video"}, JPEG, "espera un video"),
        ("informe.pdf", {"file"}, EXE, "programa"),
        ("informe.pdf", {"file"}, ELF, "programa"),
        ("instalar.exe", {"file"}, PDF, "programa"),
        ("pagina.html", {"file"}, b"hola", "programa"),
        ("datos.txt", {"file"}, b"#!/bin/sh\nrm -rf /\n", "programa"),
        ("dibujo.svg", {"file"}, SCRIPTED_SVG, "SVG con código"),
        ("audit.csv", {"audit"}, JPEG, "CSV"),
        ("audit.txt", {"audit"}, AUDIT_CSV, "CSV"),
    ],
)
def test_files_that_are_not_what_their_field_asks_or_are_active_are_refused(
    name, kinds, data, why
):
    problem = checks.content_problem(name, kinds, io.BytesIO(data))
    assert problem is not None and why in problem[0]


def test_all_refused_files_are_named_in_one_answer_and_streams_are_rewound():
    good, bad = io.BytesIO(JPEG), io.BytesIO(HTML)
    with pytest.raises(AttachmentRefusedError) as refused:
        checks.check_contents(
            {
                "a.jpg": ({"image"}, good),
                "b.jpg": ({"image"}, bad),
                "c.jpg": ({"image"}, io.BytesIO(EXE)),
            }
        )
    text = refused.value.detail()
    assert "b.jpg" in text and "c.jpg" in text and "a.jpg" not in text
    assert text.startswith("No se guardó nada")
    assert good.tell() == 0 and bad.tell() == 0


@pytest.mark.parametrize(
    ("head", "family"),
    [
        (JPEG, "image"),
        (PNG, "image"),
        (b"GIF89a" + bytes(20), "image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(8), "image"),
        (M4A, "audio"),
        (b"ID3\x04" + bytes(20), "audio"),
        (b"OggS" + bytes(20), "av"),
        (MP4, "av"),
        (b"\x00\x00\x00\x14ftypqt  " + bytes(8), "video"),
        (EXE, "active"),
        (b"\xca\xfe\xba\xbe" + bytes(8), "active"),
        (HTML, "active"),
        (b"\n\n<script>x</script>", "active"),
        (PLAIN_SVG, "svg"),
        (AUDIT_CSV, "text"),
        (bytes(range(256)), "other"),
    ],
)
def test_sniffing_knows_the_formats_tablets_write_and_what_must_never_run(head, family):
    assert sniff.sniff(head).family == family
