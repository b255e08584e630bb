"""Fixtures of the web console tests."""

from __future__ import annotations

import pytest

from tests.web.support import make_web_world


@pytest.fixture
def world(runtime):  # type: ignore[no-untyped-def]
    return make_web_world(runtime)
