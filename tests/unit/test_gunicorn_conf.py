"""The gunicorn configuration names only settings gunicorn knows.

gunicorn silently ignores an unknown name in a Python config file, so a typo
(or a setting renamed between releases) would quietly drop the setting.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from gunicorn.config import KNOWN_SETTINGS

from app import gunicorn_conf


def test_every_setting_in_the_gunicorn_config_is_one_gunicorn_knows():
    known = {setting.name for setting in KNOWN_SETTINGS}
    ours = {
        name
        for name, value in vars(gunicorn_conf).items()
        if not name.startswith("_")
        and name != "annotations"
        and not inspect.ismodule(value)
        and not inspect.isclass(value)
        and not inspect.isfunction(value)
        and name not in {"Any", "Logger", "os", "redact", "env_flag"}
        and name not in {"ChunkedReader", "InvalidChunkSize", "REQUEST_IDLE_TIMEOUT"}
    }
    assert ours, "no settings found"
    assert ours <= known, sorted(ours - known)


def test_servers_do_not_share_a_control_socket():
    assert gunicorn_conf.control_socket_disable is True


@pytest.mark.parametrize(
    ("trusted", "allowed", "headers"),
    [
        (None, "", {}),
        ("0", "", {}),
        ("1", "127.0.0.1,::1", {"X-FORWARDED-PROTO": "https"}),
    ],
)
def test_forwarded_headers_are_trusted_only_with_trusted_proxy(
    monkeypatch, trusted, allowed, headers
):
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    if trusted is None:
        monkeypatch.delenv("TRUSTED_PROXY", raising=False)
    else:
        monkeypatch.setenv("TRUSTED_PROXY", trusted)
    conf = importlib.reload(gunicorn_conf)
    try:
        assert conf.forwarded_allow_ips == allowed
        assert headers.items() <= conf.secure_scheme_headers.items()
        assert bool(conf.secure_scheme_headers) == bool(headers)
    finally:
        monkeypatch.undo()
        importlib.reload(gunicorn_conf)
