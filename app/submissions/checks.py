"""What an OpenRosa submission must be before anything of it is written.

One place for every check ingest makes on what a tablet, a browser or a
script sent, in the order `app.submissions.service.ingest_submission` calls
them; each refusal says what and why, Spanish first, then English:

- the multipart body: exactly one `xml_submission_file` part, of an XML type;
  no two parts with one name; at most `max_attachments` files;
- the XML: no deeper, larger or more attribute-laden than `SubmissionLimits`
  allows, no XInclude and no processing instructions (comments are ignored);
- identity: instanceID and deprecatedID are `uuid:`-style identifiers of at
  most `instance_id_length` characters: letters, digits, `:`, `-`, `_`, `.`,
  never `..` or a path (the same rule on every database);
- an encrypted envelope only for an encrypted form, and then a complete one;
- file names: printable, no control or bidirectional characters, no path in
  any Unicode spelling (`/`, `\\`, `..` and their look-alikes);
- file contents: by their first bytes, against the form field they belong to
  and their extension: an image field gets an image, audio audio, video
  video, `meta/audit` a CSV; a file field anything but a program or active
  content (HTML, scripts, scripted SVG), which no field ever gets.

Pure: no database, no Flask; streams are read from their start and rewound.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import BinaryIO

from lxml import etree

from app.config import SubmissionLimits
from app.submissions import sniff
from app.submissions.errors import (
    AttachmentRefusedError,
    EncryptionMismatchError,
    InstanceIdInvalidError,
    InstanceLimitError,
    InstanceNodeRefusedError,
    XmlPartInvalidError,
)
from app.xmlutil import local_name

XML_TYPES = ("text/xml", "application/xml")
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
MAX_NAME_BYTES = 255
_INSTANCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]*")
# Characters that read as a path separator once a file name reaches a disk, a
# zip or a browser, after NFKC folds the full-width forms into `/` and `.`.
_SLASHES = frozenset("/\\\u2215\u2044\u29f8\u29f9\u2571\u2572\ufe68")
_BIDI = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
SVG_READ_LIMIT = 2_000_000

# The family a field's files must be, by the field's media kind.
_FAMILIES = {
    "image": ({"image"}, sniff.IMAGE_EXTENSIONS),
    "audio": ({"audio", "av"}, sniff.AUDIO_EXTENSIONS),
    "video": ({"video", "av"}, sniff.VIDEO_EXTENSIONS),
}


# --- the multipart body ---------------------------------------------------------------


def _mimetype(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_xml_parts(content_types: Iterable[str | None]) -> None:
    """Exactly one `xml_submission_file` part, declared as XML."""
    found = list(content_types)
    if len(found) > 1:
        raise XmlPartInvalidError(
            f"El envío trae {len(found)} partes xml_submission_file; debe traer una.",
            f"The submission has {len(found)} xml_submission_file parts; "
            "it must have one.",
        )
    if found and _mimetype(found[0]) not in XML_TYPES:
        shown = _mimetype(found[0]) or "ninguno / none"
        raise XmlPartInvalidError(
            f"La parte xml_submission_file debe ser XML (text/xml), no «{shown}».",
            f"The xml_submission_file part must be XML (text/xml), not '{shown}'.",
        )


def check_part_names(
    names: Iterable[tuple[str, str | None]], limits: SubmissionLimits
) -> None:
    """Every file part's name and filename, and how many there are."""
    seen: set[str] = set()
    count = 0
    for name, filename in names:
        count += 1
        if name in seen:
            raise AttachmentRefusedError(
                f"El archivo «{printable(name)}» viene dos veces en el envío.",
                f"The file '{printable(name)}' comes twice in the submission.",
            )
        seen.add(name)
        for candidate in (name, filename):
            if candidate:
                check_file_name(candidate)
    if count > limits.attachments:
        raise AttachmentRefusedError(
            f"El envío trae {count} archivos; el máximo es {limits.attachments}.",
            f"The submission has {count} files; at most {limits.attachments}.",
        )


def printable(name: str, limit: int = 80) -> str:
    """A name as a message may show it: controls and bidi marks made visible
    (an error message must not itself be bent by what it reports)."""
    shown = "".join(
        f"\\u{ord(ch):04x}"
        if (unicodedata.category(ch)[0] in "CZ" and ch != " ") or ch in _BIDI
        else ch
        for ch in name
    )
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def file_name_problem(name: str) -> tuple[str, str] | None:
    """Why a client-given file name cannot be used as-is (None: it can)."""
    if not name or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return (
            "el nombre está vacío o es demasiado largo",
            "the name is empty or too long",
        )
    if any(
        ch in _BIDI
        or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
        for ch in name
    ):
        return (
            "el nombre tiene caracteres de control o de dirección del texto",
            "the name has control or text-direction characters",
        )
    folded = unicodedata.normalize("NFKC", name)
    if any(ch in _SLASHES for ch in folded) or ".." in folded or folded.startswith("."):
        return ("el nombre tiene partes de una ruta", "the name has parts of a path")
    if ":" in folded:
        return ("el nombre tiene «:»", "the name has ':'")
    return None


def check_file_name(name: str) -> None:
    problem = file_name_problem(name)
    if problem is not None:
        raise AttachmentRefusedError(
            f"Nombre de archivo no permitido: «{printable(name)}» ({problem[0]}).",
            f"File name not allowed: '{printable(name)}' ({problem[1]}).",
        )


# --- the XML --------------------------------------------------------------------------


def check_tree(root: etree._Element, limits: SubmissionLimits) -> None:
    """Size, shape and node types of a parsed instance."""
    for sibling in (*root.itersiblings(preceding=True), *root.itersiblings()):
        if isinstance(sibling, etree._ProcessingInstruction):
            raise _node_refused(
                "instrucciones de procesamiento", "processing instructions"
            )
    elements, text = 0, 0
    for node in root.iter():  # every node: elements, comments, instructions
        if isinstance(node, etree._ProcessingInstruction):
            raise _node_refused(
                "instrucciones de procesamiento", "processing instructions"
            )
        text += len(node.tail or "")
        if not isinstance(node.tag, str):
            continue  # a comment: ignored, as XML allows
        if etree.QName(node).namespace == XINCLUDE_NS:
            raise _node_refused("elementos XInclude", "XInclude elements")
        elements += 1
        if elements > limits.xml_elements:
            raise _limit(
                f"más de {limits.xml_elements} elementos",
                f"more than {limits.xml_elements} elements",
            )
        if len(node.attrib) > limits.attributes_per_element:
            raise _limit(
                f"un elemento con más de {limits.attributes_per_element} atributos",
                f"an element with more than {limits.attributes_per_element} attributes",
            )
        for value in node.attrib.values():
            if len(value.encode("utf-8")) > limits.attribute_bytes:
                raise _limit(
                    f"un atributo de más de {limits.attribute_bytes} bytes",
                    f"an attribute over {limits.attribute_bytes} bytes",
                )
        text += len(node.text or "")
        if text > limits.xml_text_bytes:
            raise _limit(
                f"más de {limits.xml_text_bytes} caracteres de texto",
                f"more than {limits.xml_text_bytes} characters of text",
            )
    _check_depth(root, limits.xml_depth)


def _check_depth(root: etree._Element, limit: int) -> None:
    depth = 0
    for event, node in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        depth += 1 if event == "start" else -1
        if depth > limit:
            raise _limit(
                f"más de {limit} niveles de anidamiento",
                f"more than {limit} levels of nesting",
            )


def _limit(es: str, en: str) -> InstanceLimitError:
    return InstanceLimitError(
        f"El XML del envío excede un límite: {es}.",
        f"The submission XML exceeds a limit: {en}.",
    )


def _node_refused(es: str, en: str) -> InstanceNodeRefusedError:
    return InstanceNodeRefusedError(
        f"El XML del envío no puede contener {es}.",
        f"The submission XML must not contain {en}.",
    )


def check_instance_id(
    value: str | None, limits: SubmissionLimits, *, label: str = "instanceID"
) -> None:
    """instanceID and deprecatedID: identifiers, not paths, of bounded length."""
    if value is None:
        return
    if (
        len(value) > limits.instance_id_length
        or _INSTANCE_ID.fullmatch(value) is None
        or ".." in value
    ):
        raise InstanceIdInvalidError(
            f"El {label} «{printable(value, 60)}» no es válido: hasta "
            f"{limits.instance_id_length} letras, dígitos y «:-_.» (p. ej. uuid:…).",
            f"The {label} '{printable(value, 60)}' is not valid: up to "
            f"{limits.instance_id_length} letters, digits and ':-_.' (e.g. uuid:…).",
        )


# --- encryption -----------------------------------------------------------------------

_ENVELOPE = ("base64EncryptedKey", "encryptedXmlFile")


def check_envelope(root: etree._Element, *, form_encrypted: bool) -> None:
    """An encrypted envelope (openrosa.md §7) only for an encrypted form, and
    complete. A plain record to an encrypted form is accepted, as in Central."""
    if (root.get("encrypted") or "").strip() != "yes":
        return
    if not form_encrypted:
        raise EncryptionMismatchError(
            "Este formulario no está cifrado: no acepta envíos cifrados.",
            "This form is not encrypted: it takes no encrypted submissions.",
        )
    present = {
        local_name(child)
        for child in root
        if isinstance(child.tag, str) and (child.text or "").strip()
    }
    missing = [name for name in _ENVELOPE if name not in present]
    if missing:
        raise EncryptionMismatchError(
            f"El envío cifrado está incompleto: falta {', '.join(missing)}.",
            f"The encrypted submission is incomplete: {', '.join(missing)} missing.",
        )


# --- file contents --------------------------------------------------------------------


def _read_head(stream: BinaryIO, size: int) -> bytes:
    stream.seek(0)
    data = stream.read(size)
    stream.seek(0)
    return data


def content_problem(
    name: str, kinds: set[str], stream: BinaryIO
) -> tuple[str, str] | None:
    """Why a file may not be stored under the fields (`kinds`) that name it."""
    head = _read_head(stream, sniff.HEAD_BYTES)
    found = sniff.sniff(head)
    ext = sniff.extension(name)
    if "encrypted" in kinds:
        return None  # ciphertext: its first bytes say nothing
    if found.family == "active" or ext in sniff.ACTIVE_EXTENSIONS:
        return (
            "es un programa o contenido activo",
            "it is a program or active content",
        )
    if found.family == "svg" and sniff.svg_is_active(
        _read_head(stream, SVG_READ_LIMIT)
    ):
        return ("es un SVG con código", "it is an SVG with script")
    for kind in kinds:
        if kind == "audit":
            if ext != "csv" or found.family != "text":
                return (
                    "el registro de auditoría debe ser un CSV",
                    "the audit log must be a CSV",
                )
            continue
        rule = _FAMILIES.get(kind)
        if rule is None:
            continue  # a file field: any document but the above
        families, extensions = rule
        if found.family not in families or ext not in extensions:
            what = {"image": ("una imagen", "an image"), "audio": ("un audio", "audio"),
                    "video": ("un video", "a video")}[kind]  # fmt: skip
            return (
                f"la pregunta espera {what[0]} y el archivo no lo es "
                f"(.{ext or '?'}, {found.format or 'desconocido'})",
                f"the question expects {what[1]} and the file is not "
                f"(.{ext or '?'}, {found.format or 'unknown'})",
            )
    return None


def check_contents(files: Mapping[str, tuple[set[str], BinaryIO]]) -> None:
    """Every file to be stored, against the fields that name it; all the
    refused ones named in one answer."""
    refused = [
        (name, problem)
        for name, (kinds, stream) in files.items()
        if (problem := content_problem(name, kinds, stream)) is not None
    ]
    if refused:
        raise AttachmentRefusedError(
            "No se guardó nada; archivos rechazados: "
            + "; ".join(f"«{printable(n)}»: {p[0]}" for n, p in refused)
            + ".",
            "Nothing was stored; files refused: "
            + "; ".join(f"'{printable(n)}': {p[1]}" for n, p in refused)
            + ".",
        )
