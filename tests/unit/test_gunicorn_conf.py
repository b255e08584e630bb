"""The gunicorn configuration names only settings gunicorn knows.

gunicorn silently ignores an unknown name in a Python config file, so a typo
(or a setting renamed between releases) would quietly drop the setting.
"""

from __future__ import annotations

import inspect

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
        and name not in {"Any", "Logger", "os", "redact"}
    }
    assert ours, "no settings found"
    assert ours <= known, sorted(ours - known)


def test_servers_do_not_share_a_control_socket():
    assert gunicorn_conf.control_socket_disable is True
