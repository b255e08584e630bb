"""The hardened parser refuses what a server must never parse: DTDs, entities,
non-UTF-8, malformed XML, and fetches nothing while doing so."""

from __future__ import annotations

import socket

import pytest

from app.errors import InvalidInputError
from app.submissions.errors import InstanceInvalidError
from app.xmlutil import declared_encoding, local_name, parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<data id="f">&lol4;</data>"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<data id="f">&xxe;</data>"""


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<data id='f'><a>1</a></data>", id="no-declaration-enketo"),
        pytest.param(b"<?xml version='1.0' ?><data id='f'/>", id="collect-declaration"),
        pytest.param(
            b'<?xml version="1.0" encoding="UTF-8"?><data id="f"/>', id="utf8-declared"
        ),
        pytest.param(b"\xef\xbb\xbf<data id='f'/>", id="utf8-bom"),
        pytest.param("<data id='f'>Señora Ñusta</data>".encode(), id="utf8-text"),
    ],
)
def test_plain_utf8_documents_parse(data: bytes) -> None:
    assert parse_xml(data).get("id") == "f"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param(BILLION_LAUGHS, "DOCTYPE", id="billion-laughs"),
        pytest.param(XXE_FILE, "DOCTYPE", id="external-file-entity"),
        pytest.param(b"<!DOCTYPE data><data id='f'/>", "DOCTYPE", id="bare-doctype"),
        pytest.param(b"<data id='f'>&undefined;</data>", "malformed", id="entity"),
        pytest.param(b"<data id='f'><a></data>", "malformed", id="unclosed"),
        pytest.param(b"not xml at all", "malformed", id="text"),
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"  \n", "empty", id="blank"),
        pytest.param(
            b'<?xml version="1.0" encoding="ISO-8859-1"?><data id="f">\xe9</data>',
            "ISO-8859-1",
            id="latin1-declared",
        ),
        pytest.param(b"<data id='f'>\xe9</data>", "UTF-8", id="latin1-undeclared"),
        pytest.param("<data id='f'/>".encode("utf-16"), "UTF-8", id="utf16"),
    ],
)
def test_unsafe_or_broken_documents_are_refused(data: bytes, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_xml(data)
    assert fragment.lower() in caught.value.en.lower()
    assert caught.value.es != caught.value.en


def test_refusal_raises_the_error_the_caller_names() -> None:
    with pytest.raises(InstanceInvalidError) as caught:
        parse_xml(BILLION_LAUGHS, InstanceInvalidError)
    assert caught.value.code == "instance_invalid"


def test_external_dtd_and_entities_are_never_fetched() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        port = server.getsockname()[1]
        data = (
            f'<!DOCTYPE data SYSTEM "http://127.0.0.1:{port}/x.dtd" ['
            f'<!ENTITY remote SYSTEM "http://127.0.0.1:{port}/e">]>'
            '<data id="f">&remote;</data>'
        ).encode()
        with pytest.raises(InvalidInputError):
            parse_xml(data)
        with pytest.raises(BlockingIOError):
            server.accept()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<?xml version='1.0' ?><a/>", None),
        (b'<?xml version="1.0" encoding="utf-8"?><a/>', "utf-8"),
        (b"<?xml version='1.0' encoding='ISO-8859-1' ?><a/>", "iso-8859-1"),
        (b"<a encoding='latin1'/>", None),
    ],
)
def test_declared_encoding_reads_only_the_declaration(
    data: bytes, expected: str | None
) -> None:
    assert declared_encoding(data) == expected


def test_local_name_ignores_namespace_prefixes() -> None:
    root = parse_xml(b'<d xmlns:n0="http://openrosa.org/xforms"><n0:meta/></d>')
    assert [local_name(child) for child in root] == ["meta"]
