"""Basic auth on plain HTTP: refused by default, allowed for the API when an
administrator sets BASIC_OVER_HTTP=1 (Excel, Power BI and ruODK speak only
Basic), and never offered to Collect, which answers Digest."""

from __future__ import annotations

import base64

from tests.support import ADMIN_PASSWORD, seed

CSV = "/v1/projects/{pid}/forms/encuesta/submissions.csv"


def _basic(login: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_basic_on_plain_http_is_refused_by_default(client, runtime):
    seeded = seed(runtime)
    response = client.get(
        CSV.format(pid=seeded.project_id),
        headers=_basic("admin@localhost", ADMIN_PASSWORD),
    )
    assert response.status_code == 401
    assert response.get_json()["code"] == 401.2
    assert "Basic" not in response.headers.get("WWW-Authenticate", "")


def test_basic_on_plain_http_works_for_the_api_when_allowed(make_app):
    app = make_app(basic_over_http=True)
    seeded = seed(app.extensions["ayni"])
    client = app.test_client()
    url = CSV.format(pid=seeded.project_id)
    assert (
        client.get(url, headers=_basic("admin@localhost", ADMIN_PASSWORD)).status_code
        == 200
    )
    anonymous = client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = client.get(url, headers=_basic("admin@localhost", "no-es-la-clave"))
    assert wrong.status_code == 401


def test_collect_is_still_offered_digest_alone_when_basic_is_allowed(make_app):
    app = make_app(basic_over_http=True)
    seed(app.extensions["ayni"])
    response = app.test_client().get("/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 401
    challenges = response.headers.getlist("WWW-Authenticate")
    assert challenges and all(c.startswith("Digest ") for c in challenges)
