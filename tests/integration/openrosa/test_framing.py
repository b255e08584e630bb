"""Broken HTTP framing on a real gunicorn: garbage or overflowing chunk sizes,
a body shorter than it said, a client that stops sending. Each ends in a
prompt 400 or 408 in Collect's terms, never a 500 or a hang; nothing is
stored, and the server takes the next valid submission."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.server import LiveServer
from tests.support import (
    Seeded,
    counts,
    encuesta_xml,
    media_bytes,
    new_instance_id,
    seed,
)

pytestmark = pytest.mark.server

IDLE_TIMEOUT = 2  # seconds a body may stop arriving before 408 (REQUEST_IDLE_TIMEOUT)
PROMPT = 8  # seconds within which every answer below must come


@pytest.fixture
def server(settings) -> Iterator[LiveServer]:
    live = LiveServer(settings, extra_env={"REQUEST_IDLE_TIMEOUT": str(IDLE_TIMEOUT)})
    live.start()
    yield live
    live.stop()


@pytest.fixture
def seeded(runtime) -> Seeded:
    return seed(runtime)


def body(instance_id: str) -> tuple[bytes, str]:
    photo = media_bytes("image", instance_id, size=4000)
    parts = [
        (
            b'name="xml_submission_file"; filename="s.xml"',
            b"text/xml",
            encuesta_xml(instance_id, asistentes=()),
        ),
        (
            b'name="1732455064123.jpg"; filename="1732455064123.jpg"',
            b"image/jpeg",
            photo,
        ),
    ]
    out = b""
    for disposition, content_type, data in parts:
        out += b"--XX\r\nContent-Disposition: form-data; " + disposition + b"\r\n"
        out += b"Content-Type: " + content_type + b"\r\n\r\n" + data + b"\r\n"
    return out + b"--XX--\r\n", "multipart/form-data; boundary=XX"


def raw(
    server: LiveServer, request: bytes, *, stall: bool = False, half_close: bool = False
) -> tuple[int, bytes, float]:
    """Send bytes as they are; the status, the answer and how long it took."""
    started = time.monotonic()
    with socket.create_connection(
        ("127.0.0.1", server.port), timeout=PROMPT + 5
    ) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer or (stall and not answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        # The rest of the answer, if any, until the server closes or a second passes.
        sock.settimeout(1)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    elapsed = time.monotonic() - started
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer, elapsed


def head(seeded: Seeded, headers: dict[str, str]) -> bytes:
    path = f"/v1/key/{seeded.token}/projects/{seeded.project_id}/submission"
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "X-OpenRosa-Version: 1.0",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_refused_promptly(
    server, runtime, seeded, result, statuses: tuple[int, ...]
) -> None:  # type: ignore[no-untyped-def]
    status, answer, elapsed = result
    assert status in statuses, answer[:2000]
    assert elapsed < PROMPT, f"answered after {elapsed:.1f} s"
    assert b"<OpenRosaResponse" in answer and b" / " in answer
    assert counts(runtime)["submissions"] == 0
    data, content_type = body(new_instance_id())
    ok = requests.post(
        f"{server.url}/v1/key/{seeded.token}/projects/{seeded.project_id}/submission",
        data=data,
        headers={"Content-Type": content_type, "X-OpenRosa-Version": "1.0"},
        timeout=10,
    )
    assert ok.status_code == 201, ok.text
    assert counts(runtime)["submissions"] == 1


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"-5\r\nabc\r\n0\r\n\r\n",
        b"5;=;\r\nabcde\r\n0\r\n\r\n",
    ],
    ids=["not-hex", "negative", "bad-extension"],
)
def test_garbage_chunk_sizes_are_a_prompt_400(server, runtime, seeded, chunks):
    _data, content_type = body(new_instance_id())
    request = head(
        seeded, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}
    )
    result = raw(server, request + chunks)
    assert_refused_promptly(server, runtime, seeded, result, (400,))


def test_a_chunk_size_that_overflows_is_a_prompt_400_not_a_hang(
    server, runtime, seeded
):
    data, content_type = body(new_instance_id())
    request = head(
        seeded, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}
    )
    # A chunk of 2^80 bytes, then a few of them, then nothing: waiting for the
    # rest would keep the worker until the client gave up.
    result = raw(server, request + b"FFFFFFFFFFFFFFFFFFFF\r\n" + data[:500], stall=True)
    assert_refused_promptly(server, runtime, seeded, result, (400, 413))


def test_a_body_shorter_than_its_length_is_a_prompt_400(server, runtime, seeded):
    data, content_type = body(new_instance_id())
    request = head(
        seeded, {"Content-Type": content_type, "Content-Length": str(len(data) + 5000)}
    )
    result = raw(server, request + data, half_close=True)
    assert_refused_promptly(server, runtime, seeded, result, (400,))


def test_a_client_that_stops_sending_gets_a_408(server, runtime, seeded):
    data, content_type = body(new_instance_id())
    request = head(
        seeded, {"Content-Type": content_type, "Content-Length": str(len(data))}
    )
    result = raw(server, request + data[: len(data) // 2], stall=True)
    assert_refused_promptly(server, runtime, seeded, result, (408,))
    assert result[2] >= IDLE_TIMEOUT - 0.5


def test_a_valid_chunked_upload_is_stored(server, runtime, seeded):
    data, content_type = body(new_instance_id())
    chunked = (
        b"".join(
            b"%x\r\n%s\r\n" % (len(piece), piece)
            for piece in (data[:1000], data[1000:])
        )
        + b"0\r\n\r\n"
    )
    request = head(
        seeded, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}
    )
    status, answer, _elapsed = raw(server, request + chunked)
    assert status == 201, answer[:300]
