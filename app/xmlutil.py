"""The one hardened XML parser every module uses for XML from outside.

It owns the rules for untrusted XML (instances from tablets, XForms from
uploads): no DTD, no entity expansion, no network, no huge trees, UTF-8 only.
A document that carries a DOCTYPE at all is refused rather than parsed with the
DTD ignored, because nothing ODK sends has one and its only uses against a
server are billion laughs and XXE. Callers choose which `AppError` to raise, so
a bad instance reads as an instance error and a bad XForm as a form error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml import etree

from app.errors import AppError, InvalidInputError

ErrorFactory = Callable[[str, str], AppError]

# The encoding pseudo-attribute of an XML declaration (XML 1.0 §4.3.3). Only the
# start of the document can hold one, so a bounded prefix is enough.
_DECLARED_ENCODING = re.compile(
    rb"""\A(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers keep state and are not meant to be
    # shared between threads (gunicorn may run threaded workers).
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def declared_encoding(data: bytes) -> str | None:
    """The encoding named by the XML declaration, lower-cased; None without one."""
    match = _DECLARED_ENCODING.match(data[:512])
    return match.group(1).decode("ascii").lower() if match else None


def check_utf8(data: bytes, error: ErrorFactory = InvalidInputError) -> None:
    """Refuse a document that is not UTF-8, whatever its declaration says.

    Collect and Enketo always send UTF-8; accepting other encodings would mean
    storing bytes that later readers (exports, Briefcase) decode wrongly.
    """
    encoding = declared_encoding(data)
    if encoding is not None and encoding not in _UTF8_NAMES:
        raise error(
            f"El XML declara la codificación «{encoding}»; solo se acepta UTF-8.",
            f"The XML declares encoding '{encoding}'; only UTF-8 is accepted.",
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"El XML no está codificado en UTF-8 (byte {exc.start}).",
            f"The XML is not UTF-8 encoded (byte {exc.start}).",
        ) from exc


def parse_xml(data: bytes, error: ErrorFactory = InvalidInputError) -> etree._Element:
    """Parse untrusted XML bytes into their root element.

    Raises `error(es, en)` (an `InvalidInputError` unless told otherwise) for
    empty or malformed XML, any DOCTYPE, and anything not UTF-8.
    """
    if not data or not data.strip():
        raise error("El XML está vacío.", "The XML is empty.")
    check_utf8(data, error)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        # libxml2's message names line and column; it never echoes the input.
        raise error(
            f"El XML está mal formado: {exc.msg}.",
            f"The XML is malformed: {exc.msg}.",
        ) from exc
    docinfo = root.getroottree().docinfo
    # With load_dtd=False nothing was fetched or expanded, but a DOCTYPE still
    # has no legitimate use here: refuse it (billion laughs, XXE, DTD fetches).
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.system_url:
        raise error(
            "El XML no puede contener una declaración DOCTYPE.",
            "The XML must not contain a DOCTYPE declaration.",
        )
    return root


def local_name(element: etree._Element) -> str:
    """Tag name without namespace: `orx:meta` and `n0:meta` both give `meta`."""
    return etree.QName(element).localname


def child_elements(element: etree._Element) -> list[etree._Element]:
    """Element children only (comments and processing instructions skipped)."""
    return [child for child in element if isinstance(child.tag, str)]


def walk(
    element: etree._Element, prefix: str = ""
) -> Iterator[tuple[str, etree._Element]]:
    """Every element below `element` with its local-name path from it
    (`grupo/campo`), in document order."""
    for child in child_elements(element):
        path = f"{prefix}/{local_name(child)}" if prefix else local_name(child)
        yield path, child
        yield from walk(child, path)
