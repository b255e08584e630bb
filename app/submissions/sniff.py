"""What a file is, by its first bytes: the formats ODK clients write, and the
executables and active content a tablet must never hand the server.

Pure: bytes in, a family out. The table is the handful of formats Collect and
Enketo produce (camera JPEG, drawn PNG, recorded M4A/AMR/3GP/WebM/Ogg, MP4 or
3GP video, the audit CSV) plus what must be refused wherever it is sent
(Windows, Linux and Mac programs, scripts, HTML and scripted SVG). A general
magic library (python `filetype`) misses the 3GP brands and the short WebM
headers tablets write, and knows nothing of scripted SVG; this is short enough
to read whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_BYTES = 4096  # enough for every signature and the start of a text file

IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "heic", "heif", "avif"}
)
AUDIO_EXTENSIONS = frozenset(
    {"m4a", "mp3", "ogg", "oga", "opus", "amr", "wav", "aac", "flac", "3gp", "3gpp"}
    | {"webm", "mp4", "aif", "aiff", "weba"}
)
VIDEO_EXTENSIONS = frozenset(
    {"mp4", "3gp", "3gpp", "3g2", "webm", "mkv", "mov", "avi", "m4v", "wmv", "ogv"}
)
# Never stored, whatever the field: programs and pages a browser or an office
# laptop would run when someone opens the file.
ACTIVE_EXTENSIONS = frozenset(
    {"exe", "dll", "com", "scr", "msi", "bat", "cmd", "ps1", "vbs", "sh", "bash"}
    | {"js", "mjs", "jse", "wsf", "hta", "html", "htm", "xhtml", "shtml", "svgz"}
    | {"php", "phtml", "jsp", "asp", "aspx", "jar", "apk", "elf", "so", "dylib"}
    | {"app", "lnk", "reg", "cpl", "pif", "py", "pl", "rb", "wasm"}
)

_FTYP_IMAGE = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
_FTYP_AUDIO = {b"M4A ", b"M4B ", b"F4A "}
_ACTIVE_TEXT = re.compile(
    rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<iframe|<meta|<object|"
    rb"<embed|<svg|#!)",
    re.IGNORECASE,
)
_SVG_SCRIPT = re.compile(
    rb"<script|\son[a-z]+\s*=|javascript:|<foreignobject|<iframe|<embed",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sniffed:
    family: str  # "image", "audio", "video", "av" (either), "text", "active", "other"
    format: str  # "jpeg", "mp4", "exe", "html"… or "" when unknown


def _ftyp(head: bytes) -> Sniffed | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _FTYP_IMAGE:
        return Sniffed("image", "heif")
    if brand in _FTYP_AUDIO:
        return Sniffed("audio", "m4a")
    if brand.startswith((b"3gp", b"3g2")):
        return Sniffed("av", "3gp")  # Collect's recorder writes audio in 3GP too
    if brand.startswith(b"qt"):
        return Sniffed("video", "mov")
    return Sniffed("av", "mp4")  # isom, mp41, mp42, avc1, dash…: audio or video


def sniff(head: bytes) -> Sniffed:
    """The family of a file from its first `HEAD_BYTES` bytes."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "png")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed("image", "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "webp")
    if head.startswith(b"BM") and len(head) > 14:
        return Sniffed("image", "bmp")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return Sniffed("image", "tiff")
    if (found := _ftyp(head)) is not None:
        return found
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("av", "webm")  # Matroska/WebM: Enketo records audio in it
    if head.startswith(b"OggS"):
        return Sniffed("av", "ogg")
    if head.startswith(b"#!AMR"):
        return Sniffed("audio", "amr")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio", "wav")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("video", "avi")
    if head.startswith(b"fLaC"):
        return Sniffed("audio", "flac")
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return Sniffed("audio", "aiff")
    if head.startswith(b"ID3") or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
    ):
        return Sniffed("audio", "mpeg")  # MP3 (ID3 tag or frame sync), AAC ADTS
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return Sniffed("video", "asf")
    if head.startswith(b"MZ"):
        return Sniffed("active", "exe")
    if head.startswith(b"\x7fELF"):
        return Sniffed("active", "elf")
    if head[:4] in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):  # fmt: skip
        return Sniffed("active", "mach-o")  # also Java classes (CAFEBABE)
    if head.startswith(b"\x00asm"):
        return Sniffed("active", "wasm")
    text = head.removeprefix(b"\xef\xbb\xbf")
    if (match := _ACTIVE_TEXT.match(text)) is not None:
        opening = match.group(1).lower()
        if opening == b"<svg":
            return Sniffed("svg", "svg")
        return Sniffed("active", "script" if opening == b"#!" else "html")
    if b"<svg" in text[:1024].lower():
        return Sniffed("svg", "svg")  # an SVG after an XML declaration or comment
    if _is_text(text):
        return Sniffed("text", "text")
    return Sniffed("other", "")


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a character.
        return exc.start >= len(data) - 3
    return True


def svg_is_active(data: bytes) -> bool:
    """Whether an SVG can run something when opened (scripts, event handlers,
    javascript: links, embedded HTML)."""
    return _SVG_SCRIPT.search(data) is not None


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""
