"""Token redaction in logs: every shape a token takes in a log line is masked,
by the one filter on the handlers, message, arguments and traceback alike."""

from __future__ import annotations

import io
import logging

import pytest

from app.auth.sessions import new_token
from app.logredact import RedactingFilter, install_redaction, redact

TOKEN = "Ab3$" + "x!Y9" * 15  # 64 characters of the token alphabet
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (
            f'"GET /v1/key/{TOKEN}/projects/1/formList?st={TOKEN}&deviceID=c%3A1"',
            '"GET /v1/key/***/projects/1/formList?st=***&deviceID=c%3A1"',
        ),
        (f"http://h/v1/key/Ab%24{TOKEN[4:]}/x", "http://h/v1/key/***/x"),
        (f"'/v1/key/{TOKEN}'", "'/v1/key/***'"),
        (
            f"/login?next=%2Fv1%2Fkey%2F{TOKEN}%2Fprojects",
            "/login?next=%2Fv1%2Fkey%2F***%2Fprojects",
        ),
        (f"/x?a=1&amp;st={TOKEN}&b=2", "/x?a=1&amp;st=***&b=2"),
        (f"[parameters: ('{TOKEN}', 1)]", "[parameters: ('***', 1)]"),
    ],
)
def test_every_shape_of_a_token_is_masked(line, masked):
    assert redact(line) == masked
    assert redact(masked) == masked  # masking twice changes nothing


def test_a_real_token_is_masked_and_a_sha256_is_not():
    token = new_token()
    assert redact(f"token {token} blob {SHA256}") == f"token *** blob {SHA256}"


def log_through_filter(emit) -> str:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    install_redaction([handler])
    install_redaction([handler])  # once is enough, twice adds nothing
    logger = logging.getLogger("tests.logredact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    return stream.getvalue()


def test_the_filter_masks_arguments_traceback_and_stack():
    def emit(logger):  # type: ignore[no-untyped-def]
        logger.warning("slow %s", f"/v1/key/{TOKEN}/formList", stack_info=True)
        try:
            raise RuntimeError(f"no app user {TOKEN}")
        except RuntimeError:
            logger.exception("failed for ?st=%s", TOKEN)

    text = log_through_filter(emit)

    assert TOKEN not in text
    assert "slow /v1/key/***/formList" in text
    assert "failed for ?st=***" in text
    assert "RuntimeError: no app user ***" in text
    assert "Stack (most recent call last)" in text


def test_a_bad_format_string_is_reported_masked(capsys):
    text = log_through_filter(lambda logger: logger.warning("%d items", TOKEN))

    # logging reports the broken call on stderr, message and arguments quoted.
    report = capsys.readouterr().err
    assert "Logging error" in report
    assert "Arguments: ('***',)" in report
    assert TOKEN not in text + report
