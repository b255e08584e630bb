"""Redaction of app-user tokens in logs.

An app-user token is a password in the URL (`/v1/key/<token>/…`, `?st=<token>`);
anyone reading a log could act as that tablet, so it is masked before any log
line is written (openrosa.md §5, Beyond Central). URLs reach logs by many roads:
gunicorn's access log, its error log ("Invalid request from ip=…: <request
line>", "Error handling request <uri>"), the app's own messages and the
tracebacks of unexpected errors, whose exception texts may quote a path or a
database statement's parameters. So the masking is one `logging.Filter`,
`RedactingFilter`, installed on every handler (`install_redaction`): it rewrites
the record itself (message with its arguments, formatted traceback, stack)
before any formatter sees it, whichever logger the record came from.

`redact` masks three shapes: the path segment after `/v1/key/` (also
percent-encoded, as in a `next=` parameter), the value of an `st` query
parameter, and a bare token anywhere (a database error quotes its parameters:
`[parameters: ('<token>', …)]`). Tokens are 64 characters of
`[A-Za-z0-9!$]` (`app.auth.sessions.new_token`, web-session bearer tokens
too); a run of exactly 64 lower-case hex digits is a sha256 (blobs, forms),
never a token in practice (16/64 per character), and is left readable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"
# What ends a URL segment or a quoted value in a log line.
_STOP = r"/?#\s'\"<>"
_KEY_SEGMENT = re.compile(rf"(/v1/key/)[^{_STOP}]+")
_KEY_SEGMENT_ENCODED = re.compile(
    rf"(%2F)(v1%2Fkey%2F)(?:(?!%2F)[^{_STOP}&])+", re.IGNORECASE
)
_ST_PARAM = re.compile(rf"((?:[?&;]|%3F|%26)st(?:=|%3D))[^{_STOP}&]+", re.IGNORECASE)
_ALPHABET = "A-Za-z0-9!$"
_BARE_TOKEN = re.compile(
    rf"(?<![{_ALPHABET}])(?![0-9a-f]{{64}}(?![{_ALPHABET}]))"
    rf"[{_ALPHABET}]{{64}}(?![{_ALPHABET}])"
)


def redact(text: str) -> str:
    """`text` with every app-user token in it replaced by `***`."""
    text = _KEY_SEGMENT.sub(rf"\1{MASK}", text)
    text = _KEY_SEGMENT_ENCODED.sub(rf"\1\2{MASK}", text)
    text = _ST_PARAM.sub(rf"\1{MASK}", text)
    return _BARE_TOKEN.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Masks tokens in a record before its handler formats it.

    On a handler, not a logger: a logger's filters see only records logged on
    that very logger, a handler's see every record it writes, propagated ones
    included. The record is rewritten in place (message already merged with
    its arguments, traceback already formatted), so every later handler and
    formatter, pytest's capture too, gets the masked text; masking twice
    changes nothing.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string: the handler reports it (handleError prints
            # the record's message and arguments), so mask those as they are.
            record.msg = redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(redact(str(arg)) for arg in record.args)
            else:
                record.args = ()
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            # What logging.Formatter.format would cache on the record; set here
            # so it is masked before any formatter writes it.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(handlers: Iterable[logging.Handler]) -> None:
    """Put the one `RedactingFilter` on each handler that lacks it."""
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def redact_every_handler() -> None:
    """Install redaction on the handlers of the root logger and of every
    logger configured so far (gunicorn's own do not propagate to the root)."""
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in list(logging.Logger.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        install_redaction(logger.handlers)
