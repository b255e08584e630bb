"""XLSForm (xlsx, xls, markdown) to XForm: the only module that imports pyxform.

It owns the call into pyxform and turning pyxform's failures into
`XlsFormInvalidError` with pyxform's own text (which names sheet and row).
Keeping pyxform behind this one module means a pyxform upgrade can change
compiled output but never models, migrations or ingest (style.md §1). It runs
pyxform with `validate=False`: ODK Validate needs Java, which the embedded
deployment does not have. Warnings are always returned, never swallowed.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePath

from lxml import etree

from app.forms.errors import XFormInvalidError, XlsFormInvalidError
from app.forms.xform import XF_NS, parse_xform
from app.xmlutil import parse_xml

log = logging.getLogger(__name__)

_SUFFIXES = (".xlsx", ".xls", ".md")
_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx is a zip archive
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls is an OLE2 compound file
# The filename stem becomes the form id when the settings sheet has no form_id
# (as Central does with the uploaded file's name); keep it a plain identifier.
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
_UNSAFE_FALLBACK_CHARS = re.compile(r"[^\w.-]+")


def _read_errors() -> tuple[type[BaseException], ...]:
    """Errors pyxform lets escape for a file that is not a readable workbook.

    Besides pyxform's own: the workbook readers' (openpyxl, xlrd), and the XML
    parsers' under them for a broken part (ElementTree's ParseError, lxml's
    XMLSyntaxError). openpyxl wraps what defusedxml refuses (entities, a DTD)
    in a ValueError "Unable to read workbook"; `_refuse_doctype` names that
    case before pyxform runs, ValueError stays for the rest of its kind.
    """
    from xml.etree.ElementTree import ParseError

    from openpyxl.utils.exceptions import InvalidFileException
    from pyxform.errors import PyXFormError
    from xlrd import XLRDError
    from xlrd.compdoc import CompDocError

    return (
        PyXFormError,
        zipfile.BadZipFile,
        InvalidFileException,
        XLRDError,
        CompDocError,
        ParseError,
        etree.LxmlError,
        ValueError,
    )


@dataclass(frozen=True)
class CompiledForm:
    xml: bytes
    xml_form_id: str
    version: str
    title: str
    warnings: tuple[str, ...]


def compile_xlsform(
    data: bytes, *, filename: str = "form.xlsx", form_id_fallback: str | None = None
) -> CompiledForm:
    """Compile an XLSForm workbook (.xlsx, .xls) or markdown table (.md).

    The type comes from the filename's suffix; the form id, when the settings
    sheet names none, is `form_id_fallback` (what an API client names in
    Central's `X-XlsForm-FormId-Fallback`), else the filename's stem.

    Raises: XlsFormInvalidError (not a workbook, or pyxform refused it).
    """
    name = PurePath(filename).name or "form.xlsx"
    suffix = _file_type(data, PurePath(name).suffix.lower(), name)
    if suffix == ".md":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise XlsFormInvalidError(
                f"«{name}» no está codificado en UTF-8.",
                f"'{name}' is not UTF-8 encoded.",
                errors=[f"UTF-8: byte {exc.start}"],
            ) from exc
    if suffix == ".xlsx":
        _refuse_doctype(data, name)
    if form_id_fallback is not None:
        # Any language's letters may name a form; what could not be a file
        # name (pyxform reads the fallback from one) or an XML attribute goes.
        stem = _UNSAFE_FALLBACK_CHARS.sub("_", form_id_fallback).strip("._- ")
    else:
        stem = _UNSAFE_ID_CHARS.sub("_", PurePath(name).stem).strip("._-")
    return _compile(data, suffix=suffix, fallback_id=stem[:200] or None, name=name)


def compile_markdown(md: str) -> CompiledForm:
    """Compile an XLSForm written as markdown tables (tests, small forms).

    Raises: XlsFormInvalidError.
    """
    return _compile(md.encode("utf-8"), suffix=".md", fallback_id=None, name="form.md")


# `<!DOCTYPE` as a part's bytes may carry it: UTF-8 (or any ASCII-compatible
# encoding) and UTF-16 in either byte order. In a workbook's XML the sequence
# can only be markup: text holding "<" is written `&lt;`.
_DOCTYPE_MARKS = tuple(
    "<!DOCTYPE".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_SCAN_CHUNK = 64 * 1024
# The CdP's largest workbook is well under 1 MB unpacked; pyxform would load a
# zip bomb's parts whole into memory, so unpacking stops here.
MAX_UNPACKED_BYTES = 100_000_000


def _refuse_doctype(data: bytes, name: str) -> None:
    """Refuse an .xlsx any of whose parts declares a DOCTYPE.

    Excel never writes one; one in a workbook is a crafted file (entity
    expansion, external entities). The XML parsers under pyxform refuse or
    ignore it, but only as an obscure read error; this says what it is. Each
    part is read as a stream, so the check holds no more than a chunk in
    memory; a part that does not decompress is a damaged workbook, and one
    that unpacks past MAX_UNPACKED_BYTES is refused before pyxform loads it.

    Raises: XlsFormInvalidError.
    """
    overlap = max(len(mark) for mark in _DOCTYPE_MARKS) - 1
    unpacked = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                with archive.open(info) as part:
                    tail = b""
                    while chunk := part.read(_SCAN_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > MAX_UNPACKED_BYTES:
                            raise XlsFormInvalidError(
                                f"«{name}» es demasiado grande una vez "
                                "descomprimido para ser un XLSForm.",
                                f"'{name}' is too large once unpacked to be an "
                                "XLSForm.",
                                errors=[f"{name}: > {MAX_UNPACKED_BYTES} bytes"],
                            )
                        window = tail + chunk
                        if any(mark in window for mark in _DOCTYPE_MARKS):
                            raise XlsFormInvalidError(
                                f"«{name}» contiene una declaración DOCTYPE "
                                f"({info.filename}), que Excel nunca escribe: "
                                "guarde el libro de nuevo desde Excel o "
                                "LibreOffice.",
                                f"'{name}' contains a DOCTYPE declaration "
                                f"({info.filename}), which Excel never writes: "
                                "save the workbook again from Excel or "
                                "LibreOffice.",
                                errors=[f"{info.filename}: DOCTYPE"],
                            )
                        tail = window[-overlap:]
    # RuntimeError: an encrypted part; NotImplementedError: an unknown method.
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise XlsFormInvalidError(
            f"«{name}» está dañado y no se puede leer como libro de Excel.",
            f"'{name}' is damaged and cannot be read as an Excel workbook.",
            errors=[f"{name}: {exc}"],
        ) from exc


def _file_type(data: bytes, suffix: str, name: str) -> str:
    # Excel users rename files; the two binary formats have unambiguous magic
    # numbers, so trust the bytes over the suffix when they disagree.
    if suffix in (".xlsx", ".xls"):
        if data.startswith(_ZIP_MAGIC):
            return ".xlsx"
        if data.startswith(_OLE2_MAGIC):
            return ".xls"
        raise XlsFormInvalidError(
            f"«{name}» no es un libro de Excel (.xlsx o .xls).",
            f"'{name}' is not an Excel workbook (.xlsx or .xls).",
            errors=[f"{name}: not a workbook"],
        )
    if suffix == ".md":
        return suffix
    raise XlsFormInvalidError(
        f"Tipo de archivo no admitido: «{name}». Use .xlsx, .xls o .md.",
        f"Unsupported file type: '{name}'. Use .xlsx, .xls or .md.",
        errors=[f"{name}: unsupported file type"],
    )


def _compile(
    data: bytes, *, suffix: str, fallback_id: str | None, name: str
) -> CompiledForm:
    # pyxform and its workbook readers add ~10 MB to each process (create_app:
    # 88 -> 78 MB without them); only a compile pays for them, not every
    # gunicorn worker that serves Collect.
    from pyxform.xls2xform import convert

    read_errors = _read_errors()
    warnings: list[str] = []
    try:
        if fallback_id is None:
            result = convert(
                xlsform=data, warnings=warnings, validate=False, file_type=suffix
            )
        else:
            # pyxform takes the fallback form id only from a file path's stem,
            # so the bytes go through a private temporary file of that name.
            with tempfile.TemporaryDirectory(prefix="ayni-xlsform-") as tmp:
                path = Path(tmp) / f"{fallback_id}{suffix}"
                path.write_bytes(data)
                result = convert(
                    xlsform=str(path),
                    warnings=warnings,
                    validate=False,
                    file_type=suffix,
                )
    except read_errors as exc:
        message = str(exc).strip() or type(exc).__name__
        raise XlsFormInvalidError(
            f"El XLSForm «{name}» no es válido: {message}",
            f"The XLSForm '{name}' is not valid: {message}",
            errors=[line for line in message.splitlines() if line.strip()],
            warnings=warnings,
        ) from exc
    except Exception as exc:
        # pyxform and its readers run on a stranger's bytes, and a damaged
        # file can make them fail in ways no one named (xlrd: ZeroDivisionError,
        # struct.error on a garbled .xls): a file that cannot be compiled, not
        # a server fault. Logged in full, in case it is pyxform's own bug.
        log.warning("pyxform failed on %s", name, exc_info=True)
        raise XlsFormInvalidError(
            f"No se pudo leer el XLSForm «{name}»: el archivo parece dañado. "
            "Guárdelo de nuevo desde Excel o LibreOffice.",
            f"The XLSForm '{name}' could not be read: the file looks damaged. "
            "Save it again from Excel or LibreOffice.",
            errors=[f"{type(exc).__name__}: {exc}"],
            warnings=warnings,
        ) from exc
    xml, dropped_url = _without_submission_url(result.xform.encode("utf-8"))
    if dropped_url:
        warnings.append(
            "settings: submission_url ignorado; los envíos siempre van a Ayni. / "
            "submission_url ignored; submissions always go to Ayni."
        )
    try:
        schema = parse_xform(xml)
    except XFormInvalidError as exc:
        # e.g. an empty form_title: pyxform accepts it, Collect would not.
        raise XlsFormInvalidError(
            exc.es, exc.en, errors=[exc.en], warnings=warnings
        ) from exc
    return CompiledForm(
        xml=xml,
        xml_form_id=schema.xml_form_id,
        version=schema.version,
        title=schema.title,
        warnings=tuple(warnings),
    )


def _without_submission_url(xml: bytes) -> tuple[bytes, bool]:
    """Drop `submission_url` from the XForm: tablets must post back to Ayni.

    A `<submission action=...>` makes Collect send records to that URL instead
    of the server it downloaded the form from. The element itself stays, since
    it also carries an encrypted form's public key and auto-send settings.
    Rewritten only when present, so ordinary output is pyxform's bytes as-is.
    Returns the XForm and whether a URL was dropped.
    """
    if b"<submission" not in xml:
        return xml, False
    root = parse_xml(xml, XFormInvalidError)
    actions = [
        element
        for element in root.iter(f"{{{XF_NS}}}submission")
        if element.get("action") is not None
    ]
    if not actions:
        return xml, False
    for element in actions:
        del element.attrib["action"]
    # pyxform writes this declaration; keep it so the bytes look the same.
    body = etree.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0"?>' + body, True
