"""Reading a request body that may be malformed, truncated or never finish.

A tablet on a weak link, a broken client or an attacker can send chunk sizes
that are garbage or overflow, a body shorter than its Content-Length, or stop
sending halfway. gunicorn's readers raise their own parse errors for the first
ones, and the socket's read timeout (`app.gunicorn_worker`) ends the last.
`BodyGuard` wraps `wsgi.input` so that whatever the server raises while the
application reads the body becomes a client error the edges render in their
own terms (OpenRosa XML, problem JSON, a page): 400 for a body that is not
HTTP, 408 for one that stopped coming; never a 500, never a hang.

Shared by every edge; no Flask here (a WSGI middleware).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import BadRequest, HTTPException, RequestTimeout

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyUnreadableError(BadRequest):
    es = "El cuerpo de la solicitud está mal formado o incompleto: no se guardó nada."
    en = "The request body is malformed or incomplete: nothing was stored."
    description = f"{es} / {en}"


class BodyTimeoutError(RequestTimeout):
    es = "El envío dejó de llegar a medio camino: no se guardó nada; vuelva a enviarlo."
    en = "The upload stopped arriving halfway: nothing was stored; send it again."
    description = f"{es} / {en}"


class _GuardedInput:
    """`wsgi.input` whose read errors are the client's, as HTTP errors.

    It also counts: a body that ends before its Content-Length is truncated
    (the client closed its side halfway), which gunicorn's reader reports only
    as an early end of data; a multipart parser would take what came as the
    whole upload.
    """

    def __init__(self, stream: Any, content_length: int | None) -> None:
        self._stream = stream
        self._remaining = content_length

    def _call(self, method: str, *args: Any) -> Any:
        try:
            data = getattr(self._stream, method)(*args)
        except HTTPException:
            raise
        except TimeoutError as exc:
            raise BodyTimeoutError() from exc
        # The server's own parse errors (gunicorn's InvalidChunkSize,
        # ChunkMissingTerminator, NoMoreData…) are not OSErrors and not ours to
        # import: anything raised while reading the client's bytes is a body
        # the client got wrong.
        except Exception as exc:
            log.info("unreadable request body: %s", type(exc).__name__)
            raise BodyUnreadableError() from exc
        if self._remaining is not None and method != "readlines":
            if not data and self._remaining > 0 and (not args or args[0] != 0):
                log.info("request body ended %d bytes early", self._remaining)
                raise BodyUnreadableError()
            self._remaining -= len(data)
        return data

    def read(self, *args: Any) -> bytes:
        return self._call("read", *args)  # type: ignore[no-any-return]

    def readline(self, *args: Any) -> bytes:
        return self._call("readline", *args)  # type: ignore[no-any-return]

    def readlines(self, *args: Any) -> list[bytes]:
        return self._call("readlines", *args)  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class BodyGuard:
    """WSGI middleware: the request body read through `_GuardedInput`."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        stream = environ.get("wsgi.input")
        if stream is not None:
            environ["wsgi.input"] = _GuardedInput(stream, _content_length(environ))
        return self.app(environ, start_response)


def _content_length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH") or ""
    if environ.get("HTTP_TRANSFER_ENCODING") or not raw.isdigit():
        return None  # chunked: gunicorn itself reports a chunked body cut short
    return int(raw)
