"""OpenRosa XML responses and the headers every OpenRosa answer carries.

Built with lxml, never string formatting. Collect reads the first element whose
tag name is exactly `message` with a namespace-unaware DOM, so the namespace is
the default one and never a prefix (openrosa.md §4.5); lists and manifests must
be `text/xml` (Collect refuses `application/xml`, §2).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, request
from lxml import etree

from app.errors import AppError, InvalidInputError
from app.httpauth import challenge_headers

OPENROSA_RESPONSE_NS = "http://openrosa.org/http/response"
FORM_LIST_NS = "http://openrosa.org/xforms/xformsList"
MANIFEST_NS = "http://openrosa.org/xforms/xformsManifest"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"


def _xml_response(root: etree._Element, status: int = 200) -> Response:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    response = Response(body, status=status, content_type=XML_CONTENT_TYPE)
    response.headers["X-OpenRosa-Version"] = "1.0"
    return response


def openrosa_message(text: str, *, nature: str = "", status: int = 201) -> Response:
    root = etree.Element("OpenRosaResponse", nsmap={None: OPENROSA_RESPONSE_NS})
    root.set("items", "0")
    message = etree.SubElement(root, "message")
    message.set("nature", nature)
    message.text = text
    return _xml_response(root, status)


def openrosa_error(error: AppError, lang: str | None = None) -> Response:
    response = openrosa_message(error.detail(lang), nature="error", status=error.status)
    if error.status == 401:
        for name, value in challenge_headers(error):
            response.headers.add(name, value)
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


@dataclass(frozen=True)
class FormListEntry:
    xml_form_id: str
    name: str
    version: str
    md5: str
    download_url: str
    manifest_url: str | None


def form_list(entries: list[FormListEntry]) -> Response:
    root = etree.Element("xforms", nsmap={None: FORM_LIST_NS})
    ns = f"{{{FORM_LIST_NS}}}"
    for entry in entries:
        xform = etree.SubElement(root, f"{ns}xform")
        etree.SubElement(xform, f"{ns}formID").text = entry.xml_form_id
        etree.SubElement(xform, f"{ns}name").text = entry.name
        # Always present, empty when the form has no version (§3.1).
        etree.SubElement(xform, f"{ns}version").text = entry.version
        etree.SubElement(xform, f"{ns}hash").text = f"md5:{entry.md5}"
        etree.SubElement(xform, f"{ns}downloadUrl").text = entry.download_url
        if entry.manifest_url:
            etree.SubElement(xform, f"{ns}manifestUrl").text = entry.manifest_url
    return _xml_response(root)


@dataclass(frozen=True)
class MediaEntry:
    filename: str
    md5: str
    download_url: str


def manifest(media: list[MediaEntry]) -> Response:
    root = etree.Element("manifest", nsmap={None: MANIFEST_NS})
    ns = f"{{{MANIFEST_NS}}}"
    for entry in media:
        item = etree.SubElement(root, f"{ns}mediaFile")
        etree.SubElement(item, f"{ns}filename").text = entry.filename
        # The `md5:` prefix is mandatory: Collect drops 4 characters unchecked.
        etree.SubElement(item, f"{ns}hash").text = f"md5:{entry.md5}"
        etree.SubElement(item, f"{ns}downloadUrl").text = entry.download_url
    return _xml_response(root)


def download(data: bytes, content_type: str, filename: str, md5: str) -> Response:
    response = Response(data, content_type=content_type)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["ETag"] = f'"{md5}"'
    return response


class OpenRosaVersionError(InvalidInputError):
    code = "openrosa_version"
    default_es = "Versión de OpenRosa no admitida: se espera X-OpenRosa-Version 1.0."
    default_en = "Unsupported OpenRosa version: X-OpenRosa-Version 1.0 expected."


def init_app(app: Flask, max_submission_bytes: int) -> None:
    """Request check and response headers for every OpenRosa path, errors too."""
    from app.openrosa import is_openrosa_path

    @app.before_request
    def check_openrosa_version() -> None:
        if not is_openrosa_path(request.path):
            return
        # Beyond Central: a missing header (curl, browsers) is accepted; any
        # other value than 1.0 is refused, as Central does.
        version = request.headers.get("X-OpenRosa-Version")
        if version is not None and version.strip() != "1.0":
            raise OpenRosaVersionError()

    @app.after_request
    def openrosa_headers(response: Response) -> Response:
        if not is_openrosa_path(request.path):
            return response
        response.headers["X-OpenRosa-Version"] = "1.0"
        response.headers["X-OpenRosa-Accept-Content-Length"] = str(max_submission_bytes)
        response.headers.setdefault("Content-Language", "es")
        # Collect keeps an HTTP disk cache: never let it serve a stale list.
        if request.method in ("GET", "HEAD"):
            response.headers["Cache-Control"] = "private, no-cache"
        else:
            response.headers["Cache-Control"] = "no-store"
        return response
