"""The planning dashboard: SVG charts (title, desc, data table) from the
aggregates, for members who read data."""

from __future__ import annotations

import re

from tests.integration.forms.instances import build_instance
from tests.integration.governance.support import SCHEMAS, XML
from tests.web.support import send_submission, sign_in


def send_form(client, world, form_id: str, overrides=None):  # type: ignore[no-untyped-def]
    built = build_instance(SCHEMAS[form_id], XML[form_id], overrides or {})
    send_submission(client, world, built.xml, dict(built.media))


def test_charts_render_offline_with_text_alternatives(client, world):
    send_form(client, world, "necesidades_ayllu", {"ayllu": "manasaya"})
    send_form(client, world, "reunion_cdp")
    sign_in(client, "analista")
    page = client.get("/projects/1/dashboard").get_data(as_text=True)
    charts = re.findall(
        r'<svg xmlns="http://www.w3.org/2000/svg"[^>]*class="chart"', page
    )
    assert len(charts) >= 4
    assert '<title id="chart-needs-t">' in page
    assert '<desc id="chart-needs-d">' in page
    assert 'role="img"' in page
    assert "Manasaya" in page  # labels, not codes
    assert "<table" in page  # the same numbers as a table
    assert "Asistentes por sexo" in page
    assert "Sin datos para estos filtros." in page  # no practices yet


def test_filters_narrow_the_figures(client, world):
    send_form(client, world, "necesidades_ayllu", {"ayllu": "manasaya"})
    sign_in(client, "analista")
    page = client.get("/projects/1/dashboard?ayllu=aransaya").get_data(as_text=True)
    assert "chart-needs" not in page
    page = client.get("/projects/1/dashboard?ayllu=manasaya").get_data(as_text=True)
    assert "chart-needs" in page


def test_english_dashboard(client, world):
    sign_in(client, "analista")
    page = client.get("/projects/1/dashboard?lang=en").get_data(as_text=True)
    assert "Which needs come first?" in page


def test_data_collectors_do_not_see_the_dashboard(client, world):
    sign_in(client, "recolectora")
    assert client.get("/projects/1/dashboard").status_code == 403
