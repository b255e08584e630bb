"""gunicorn settings for `make run` and the grown deployment.

Everything comes from the environment (HOST, PORT, WORKERS, THREADS), like the
app's own Settings. Threads per worker let a slow tablet upload over a weak link
without blocking the other tablets.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.glogging import Logger
from gunicorn.http.body import ChunkedReader
from gunicorn.http.errors import InvalidChunkSize

from app.config import env_flag
from app.logredact import install_redaction

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WORKERS", "2"))
# gthread, not sync nor an async class. `sync` is meant to sit behind a
# buffering proxy: without one (the laptop on the LAN) a single slow tablet
# occupies a whole worker. gevent/eventlet would monkey-patch the database
# drivers and the file I/O ingest relies on for its fsync order, and add
# packages the offline laptop must carry. gthread keeps Collect's keep-alive
# connections in a poller and gives each request a plain thread; the two
# bounds below (idle timeout, chunk cap) close what it leaves open.
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
# Collect's read/write timeout is 60 s (openrosa.md §2); give uploads longer.
timeout = 120
graceful_timeout = 30
accesslog = os.environ.get("ACCESS_LOG", "-")
# No control socket (gunicorn >= 25): several servers on one machine (tests,
# benchmarks, two projects on one laptop) would share its default path under
# $HOME, and Ayni does not use it.
control_socket_disable = True
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# X-Forwarded-Proto and friends count only behind a proxy Ayni is told to
# trust (TRUSTED_PROXY=1, as the app's own Settings). gunicorn's default
# trusts them from 127.0.0.1, so anyone on the laptop itself could make a
# plain-HTTP request look like HTTPS and be offered Basic authentication.
_TRUSTED_PROXY = env_flag(os.environ.get("TRUSTED_PROXY", "0"))
forwarded_allow_ips = (
    os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if _TRUSTED_PROXY else ""
)
secure_scheme_headers = (
    {
        "X-FORWARDED-PROTOCOL": "ssl",
        "X-FORWARDED-PROTO": "https",
        "X-FORWARDED-SSL": "on",
    }
    if _TRUSTED_PROXY
    else {}
)


class RedactingLogger(Logger):
    """gunicorn's logs without app-user tokens.

    The access log carries request lines and referrers; the error log quotes
    them too ("Invalid request from ip=…: Invalid HTTP request line: 'GET
    /v1/key/<token>/…'", "Error handling request /v1/key/<token>/…" with a
    traceback). Both loggers keep to their own handlers (they do not propagate
    to the root, where `create_app` installs the same filter), so the one
    `RedactingFilter` goes on those handlers each time gunicorn (re)builds
    them: at start and on SIGHUP.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        install_redaction(
            [
                *self.error_log.handlers,
                *self.access_log.handlers,
                *logging.getLogger().handlers,
            ]
        )


logger_class = RedactingLogger


# --- a body that never finishes ----------------------------------------------------
#
# gthread workers read a request body as the application asks for it, with a
# blocking socket. A client that stops sending halfway (a tablet leaving the
# Wi-Fi, or on purpose) would hold the worker's thread until it closed the
# connection, and a chunk header announcing 2^80 bytes made gunicorn wait for
# them. Two bounds fix that for every request, before the application runs:
# the socket gives up after REQUEST_IDLE_TIMEOUT seconds without a byte (the
# app answers 408: app.httpbody), and a chunk larger than the largest
# submission Ayni takes is refused at once (400). A slow but moving upload is
# never cut: the timeout is per read, not for the whole body. Collect itself
# gives up after 60 s without progress (openrosa.md §2).
REQUEST_IDLE_TIMEOUT = float(os.environ.get("REQUEST_IDLE_TIMEOUT", "60"))
_MAX_CHUNK = int(os.environ.get("MAX_SUBMISSION_BYTES", "100000000")) + 1_000_000


def _capped(read_size: Any) -> Any:
    def parse_chunk_size(unreader: Any, data: Any = None) -> Any:
        size, rest = read_size(unreader, data)
        if size > _MAX_CHUNK:
            raise InvalidChunkSize(b"chunk larger than the largest submission")
        return size, rest

    return parse_chunk_size


def pre_request(worker: Any, req: Any) -> None:
    """gunicorn's hook before each request reaches the application."""
    sock = getattr(getattr(req, "unreader", None), "sock", None)
    if sock is not None:
        sock.settimeout(REQUEST_IDLE_TIMEOUT)
    reader = getattr(getattr(req, "body", None), "reader", None)
    if isinstance(reader, ChunkedReader):
        # The reader's generator looks its chunk parser up on the instance
        # when it first runs, which is after this hook.
        reader.parse_chunk_size = _capped(reader.parse_chunk_size)
    worker.log.debug("%s %s", req.method, req.path)
