"""Hostile and half-broken submissions, as a curious person or a broken app
sends them: each is refused with a clear OpenRosa message (Spanish, then
English), nothing of it is stored, and the next valid submission is taken.

The form has a file of every kind (photo, audio, video, document, a photo in
a repeat, the audit log), so each class of bad file meets the field it would
hide behind. Bodies are written by hand: names, types and framing are exactly
what is tested, not what a client library would make of them.
"""

from __future__ import annotations

import uuid

import pytest
from lxml import etree

from app.forms import service as forms_service
from app.forms.compiler import compile_markdown
from tests.support import Seeded, counts, media_bytes, seed

OPENROSA = {"X-OpenRosa-Version": "1.0"}
NS = "{http://openrosa.org/http/response}"
FORM_MD = """
| survey |
| | type | name | label |
| | text | nombre | Nombre |
| | image | foto | Foto |
| | audio | audio | Audio |
| | video | video | Video |
| | file | documento | Documento |
| | begin_repeat | fotos | Fotos |
| | image | foto_rep | Foto |
| | end_repeat | | |
| | audit | audit | |
| settings |
| | form_id | version | form_title |
| | hostil | 1 | Formulario hostil |
"""
# A real 2048-bit RSA public key (DER, base64): its form is encrypted.
PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAk9U+exY9XWFVkw3GLcixDKO5kenYJo6RU4h2"
    "wsu5sTR9yxqLR+l9meR8l/Ujfu/0orE/J23s62gX6q7X7MbMA40MnNEgfHz6JdjHklB8ulLFbgmKb5Z4"
    "G8o27xGoRlLv1raf69CbwpGT+ROlU3OX5seDY1h0rkIDjiKKv9l6763h8ZfvU1wrQLUdnbW/90ZQVUYC"
    "1W0a/c68pp9enl/exC4Yp8HP7gjDRw2r/4nX3xrFo7U23z9olayCPlg37WHTxDP48e5vrlDGPDMq/swk"
    "UiwjYdzacN4FwGXYGgrdKkBSGtHvllBZVbfUcHatXnJbllz50dpr+aBwPDhaUUM1awIDAQAB"
)
ENCRYPTED_MD = f"""
| survey |
| | type | name | label |
| | text | nombre | Nombre |
| | image | foto | Foto |
| settings |
| | form_id | version | form_title | public_key |
| | cifrado | 1 | Formulario cifrado | {PUBLIC_KEY} |
"""
JPEG = media_bytes("image", b"foto")
FILES = {
    "1.jpg": JPEG,
    "2.m4a": media_bytes("audio", b"audio"),
    "3.mp4": media_bytes("video", b"video"),
    "4.pdf": media_bytes("file", b"acta"),
    "5.jpg": media_bytes("image", b"foto en repeticion"),
    "audit.csv": b"event,node,start,end\nform start,,1732455064123,\n",
}
HTML = b"<!DOCTYPE html><html><script>fetch('/v1/users/current')</script></html>"
EXE = b"MZ\x90\x00\x03" + bytes(300)


@pytest.fixture
def seeded(runtime) -> Seeded:
    seeded = seed(runtime, md=FORM_MD)
    with runtime.db.transaction() as session:
        forms_service.publish_form(
            session,
            runtime.blobs,
            project_id=seeded.project_id,
            compiled=compile_markdown(ENCRYPTED_MD),
        )
    return seeded


def new_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def instance(
    instance_id: str | None = None,
    *,
    names: dict[str, str] | None = None,
    root_attrs: str = "",
    body: str = "",
    meta: str = "",
    deprecated_id: str | None = None,
    form_id: str = "hostil",
) -> bytes:
    """The instance XML Collect writes for the form, with what a test changes."""
    names = {
        "foto": "1.jpg",
        "audio": "2.m4a",
        "video": "3.mp4",
        "documento": "4.pdf",
        "foto_rep": "5.jpg",
        "audit": "audit.csv",
        **(names or {}),
    }
    deprecated = (
        f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    )
    return (
        f'<?xml version=\'1.0\' ?><data id="{form_id}" version="1"{root_attrs}>'
        f"<nombre>Juana</nombre><foto>{names['foto']}</foto>"
        f"<audio>{names['audio']}</audio><video>{names['video']}</video>"
        f"<documento>{names['documento']}</documento>"
        f"<fotos><foto_rep>{names['foto_rep']}</foto_rep></fotos>{body}"
        f"<meta><audit>{names['audit']}</audit>"
        f"<instanceID>{instance_id or new_id()}</instanceID>{deprecated}{meta}</meta>"
        "</data>"
    ).encode()


Part = tuple[bytes, bytes | None, bytes | None, bytes]  # name, filename, type, data


def multipart(parts: list[Part]) -> bytes:
    """A multipart body as bytes, headers exactly as given."""
    out = b""
    for name, filename, content_type, data in parts:
        disposition = b'form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        out += b"--XX\r\nContent-Disposition: " + disposition + b"\r\n"
        if content_type is not None:
            out += b"Content-Type: " + content_type + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    return out + b"--XX--\r\n"


def parts_for(
    xml: bytes, files: dict[str, bytes] | None = None, *, xml_type: bytes = b"text/xml"
) -> list[Part]:
    found: list[Part] = [(b"xml_submission_file", b"s.xml", xml_type, xml)]
    for name, data in (FILES if files is None else files).items():
        encoded = name.encode()
        found.append((encoded, encoded, b"application/octet-stream", data))
    return found


def post(client, seeded: Seeded, parts: list[Part]):  # type: ignore[no-untyped-def]
    return client.post(
        f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission",
        data=multipart(parts),
        headers={**OPENROSA, "Content-Type": "multipart/form-data; boundary=XX"},
    )


def message(response) -> str:  # type: ignore[no-untyped-def]
    assert response.mimetype == "text/xml"
    found = etree.fromstring(response.data).find(f"{NS}message")
    assert found is not None
    return found.text or ""


def assert_refused(client, runtime, seeded, response, status: int, *words: str) -> None:  # type: ignore[no-untyped-def]
    """The refusal, its bilingual message, nothing stored, and the server
    still taking the next valid submission."""
    before = counts(runtime)
    assert response.status_code == status, response.data[:400]
    text = message(response)
    assert " / " in text, "Spanish first, then English"
    for word in words:
        assert word in text, (word, text)
    assert before == {"submissions": 0, "submission_versions": 0,
                      "submission_attachments": 0, "blobs": 0}  # fmt: skip
    valid = post(client, seeded, parts_for(instance()))
    assert valid.status_code == 201, valid.data
    assert counts(runtime)["submissions"] == 1


def test_a_submission_with_a_file_of_every_kind_is_stored_whole(
    client, runtime, seeded
):
    response = post(client, seeded, parts_for(instance()))
    assert response.status_code == 201, response.data
    assert message(response) == "full submission upload was successful!"
    assert counts(runtime)["submission_attachments"] == len(FILES)
    assert counts(runtime)["blobs"] == len(FILES)


# --- identifiers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "instance_id",
    [
        "uuid:" + "a" * 10_000,
        "uuid:../../etc/passwd",
        "uuid:a/b",
        "uuid:a\\b",
        "uuid:\uff0e\uff0e\uff0fx",
        "uuid:a b",
        "uuid:a\u202eb",
    ],
    ids=["10kB", "dot-dot", "slash", "backslash", "full-width", "space", "bidi"],
)
def test_an_instance_id_that_is_a_path_or_too_long_is_refused(
    client, runtime, seeded, instance_id
):
    response = post(client, seeded, parts_for(instance(instance_id)))
    assert_refused(client, runtime, seeded, response, 400, "instanceID")


def test_a_deprecated_id_that_is_a_path_is_refused(client, runtime, seeded):
    xml = instance(deprecated_id="uuid:../x")
    response = post(client, seeded, parts_for(xml))
    assert_refused(client, runtime, seeded, response, 400, "deprecatedID")


# --- what the XML may hold ------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        (
            instance(
                root_attrs=' xmlns:xi="http://www.w3.org/2001/XInclude"',
                body='<xi:include href="file:///etc/passwd" parse="text"/>',
            ),
            ("XInclude",),
        ),
        (instance(body="<?php system('id'); ?>"), ("instrucciones de procesamiento",)),
        (
            b"<?xml-stylesheet href='x.xsl'?>" + instance().split(b"?>", 1)[1],
            ("instrucciones de procesamiento",),
        ),
        (instance(root_attrs=f' nota="{"x" * 5_000_000}"'), ("4096 bytes",)),
        (
            instance(root_attrs="".join(f' a{i}="1"' for i in range(50_000))),
            ("64 atributos",),
        ),
        (instance(body="<a>" * 80 + "</a>" * 80), ("niveles de anidamiento",)),
    ],
    ids=[
        "xinclude",
        "pi-inside",
        "pi-before",
        "5MB-attribute",
        "50k-attributes",
        "deep",
    ],
)
def test_xinclude_instructions_and_oversized_xml_are_refused(
    client, runtime, seeded, xml, words
):
    response = post(client, seeded, parts_for(xml))
    assert_refused(client, runtime, seeded, response, 400, *words)


def test_comments_are_ignored_anywhere(client, runtime, seeded):
    xml = instance(body="<!-- nota --><nombre2><!-- x --></nombre2>", meta="<!-- y -->")
    xml = xml.replace(b"<nombre>Juana", b"<nombre>Jua<!-- z -->na")
    response = post(
        client, seeded, parts_for(b"<!-- antes -->" + xml.split(b"?>", 1)[1])
    )
    assert response.status_code == 201, response.data


# --- the multipart body ---------------------------------------------------------------


@pytest.mark.parametrize(
    "xml_type", [b"image/jpeg", b"text/plain", b"application/octet-stream", None]
)
def test_an_xml_part_of_another_type_is_refused(client, runtime, seeded, xml_type):
    parts = parts_for(instance())
    name, filename, _type, data = parts[0]
    parts[0] = (name, filename, xml_type, data)
    response = post(client, seeded, parts)
    assert_refused(client, runtime, seeded, response, 400, "xml_submission_file")


def test_two_xml_parts_are_refused(client, runtime, seeded):
    parts = parts_for(instance())
    response = post(client, seeded, [parts[0], *parts_for(instance())])
    assert_refused(client, runtime, seeded, response, 400, "2 partes")


def test_a_file_sent_twice_under_one_name_is_refused(client, runtime, seeded):
    parts = parts_for(instance())
    response = post(client, seeded, [*parts, parts[1]])
    assert_refused(client, runtime, seeded, response, 400, "dos veces")


# --- file names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "gpj.\u202eexe.jpg",
        "foto\u200f.jpg",
        "a\nb.jpg",
        "\uff0e\uff0e\uff0fx.jpg",
        "x\u2215y.jpg",
        ".oculto.jpg",
        "c:foto.jpg",
    ],
    ids=[
        "rlo",
        "rlm",
        "newline",
        "full-width-dots",
        "division-slash",
        "hidden",
        "colon",
    ],
)
def test_a_file_name_that_bends_text_or_is_a_path_is_refused(
    client, runtime, seeded, name
):
    files = {**FILES}
    files[name] = files.pop("1.jpg")
    response = post(client, seeded, parts_for(instance(names={"foto": name}), files))
    assert_refused(
        client, runtime, seeded, response, 400, "Nombre de archivo no permitido"
    )


def test_a_nul_byte_in_a_part_name_is_a_clear_400_not_a_500(client, runtime, seeded):
    parts = parts_for(instance())
    parts.append((b"x\x00.jpg", b"x\x00.jpg", b"image/jpeg", JPEG))
    response = post(client, seeded, parts)
    assert_refused(client, runtime, seeded, response, 400, "\\u0000")


def test_a_carriage_return_in_a_name_is_refused_not_dropped_with_a_201(
    client, runtime, seeded
):
    # Collect writes CR/LF in a name as %0D%0A; the XML holds the real name.
    files = {**FILES}
    files["a%0D%0Ab.jpg"] = files.pop("1.jpg")
    xml = instance(names={"foto": "a&#13;&#10;b.jpg"})
    response = post(client, seeded, parts_for(xml, files))
    assert_refused(
        client, runtime, seeded, response, 400, "Nombre de archivo no permitido"
    )


# --- file contents --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replace", "data", "words"),
    [
        ("1.jpg", HTML, ("programa o contenido activo",)),
        ("1.jpg", EXE, ("programa o contenido activo",)),
        ("1.jpg", b"just text, no picture", ("espera una imagen",)),
        ("5.jpg", HTML, ("5.jpg",)),
        ("2.m4a", JPEG, ("espera un audio",)),
        ("3.mp4", JPEG, ("espera un video",)),
        ("4.pdf", EXE, ("programa o contenido activo",)),
        (
            "4.pdf",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            ("SVG con código",),
        ),
        ("audit.csv", JPEG, ("CSV",)),
    ],
    ids=[
        "html-as-jpeg",
        "exe-as-jpeg",
        "text-as-jpeg",
        "html-in-repeat",
        "jpeg-as-audio",
        "jpeg-as-video",
        "exe-as-pdf",
        "scripted-svg",
        "jpeg-as-audit",
    ],
)
def test_a_file_that_is_not_what_its_field_asks_or_could_run_is_refused(
    client, runtime, seeded, replace, data, words
):
    files = {**FILES, replace: data}
    response = post(client, seeded, parts_for(instance(), files))
    assert_refused(client, runtime, seeded, response, 400, "No se guardó nada", *words)


@pytest.mark.parametrize(
    "name", ["instalar.exe", "pagina.html", "script.js", "app.apk"]
)
def test_a_program_or_page_in_a_file_field_is_refused_by_its_name(
    client, runtime, seeded, name
):
    files = {**FILES}
    files[name] = files.pop("4.pdf")
    response = post(
        client, seeded, parts_for(instance(names={"documento": name}), files)
    )
    assert_refused(
        client, runtime, seeded, response, 400, "programa o contenido activo"
    )


def test_files_the_record_does_not_name_are_said_not_stored_in_the_201(
    client, runtime, seeded
):
    files = {**FILES, "extra.jpg": JPEG}
    response = post(client, seeded, parts_for(instance(), files))
    assert response.status_code == 201
    text = message(response)
    assert "extra.jpg" in text and "No se guardaron" in text
    assert counts(runtime)["submission_attachments"] == len(FILES)


# --- encrypted envelopes --------------------------------------------------------------

ENVELOPE = (
    '<data xmlns="http://www.opendatakit.org/xforms/encrypted" id="{form}" '
    'version="1" encrypted="yes"><base64EncryptedKey>a2V5</base64EncryptedKey>'
    '<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>{iid}'
    "</orx:instanceID></orx:meta><media><file>1.jpg.enc</file></media>"
    "{tail}</data>"
)
COMPLETE_TAIL = (
    "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
    "<base64EncryptedElementSignature>c2ln</base64EncryptedElementSignature>"
)
ENC_FILES = {"1.jpg.enc": EXE, "submission.xml.enc": bytes(range(256))}


def test_an_encrypted_envelope_to_a_plain_form_is_refused(client, runtime, seeded):
    xml = ENVELOPE.format(form="hostil", iid=new_id(), tail=COMPLETE_TAIL).encode()
    response = post(client, seeded, parts_for(xml, ENC_FILES))
    assert_refused(client, runtime, seeded, response, 400, "no está cifrado")


def test_an_incomplete_envelope_to_an_encrypted_form_is_refused(
    client, runtime, seeded
):
    xml = ENVELOPE.format(form="cifrado", iid=new_id(), tail="").encode()
    response = post(client, seeded, parts_for(xml, ENC_FILES))
    assert_refused(client, runtime, seeded, response, 400, "encryptedXmlFile")


def test_a_complete_envelope_to_an_encrypted_form_is_stored_as_sent(
    client, runtime, seeded
):
    xml = ENVELOPE.format(form="cifrado", iid=new_id(), tail=COMPLETE_TAIL).encode()
    response = post(client, seeded, parts_for(xml, ENC_FILES))
    assert response.status_code == 201, response.data
    assert counts(runtime)["submission_attachments"] == 2
