"""Helpers of the OData tests: the feed's paths, CdP meetings and practices
sent as Collect sends them, and reading a data document page by page."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from tests.api.submissions.support import Headers, base, practice_instance
from tests.integration.forms.instances import build_instance
from tests.integration.governance.support import SCHEMAS, XML

MEETING = "reunion_cdp"
PRACTICE = "practica_saber"
HOST = "http://localhost"

__all__ = ["Headers", "practice_instance"]


def svc(project_id: int, form: str = MEETING, *, draft: bool = False) -> str:
    middle = f"{form}/draft.svc" if draft else f"{form}.svc"
    return f"/v1/projects/{project_id}/forms/{middle}"


def meeting_xml(topic: str) -> tuple[bytes, str]:
    built = build_instance(SCHEMAS[MEETING], XML[MEETING], {"temas": topic})
    return built.xml, built.instance_id


def send(
    client: FlaskClient,
    headers: Headers,
    project_id: int,
    form: str,
    xml: bytes,
    **query: str,
) -> str:
    response = client.post(
        base(project_id, form),
        data=xml,
        headers={**headers, "Content-Type": "text/xml"},
        query_string=query,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["instanceId"])


def review(
    client: FlaskClient,
    headers: Headers,
    project_id: int,
    instance_id: str,
    state: str,
    form: str = MEETING,
) -> None:
    response = client.patch(
        f"{base(project_id, form)}/{instance_id}",
        json={"reviewState": state},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def document(client: FlaskClient, headers: Headers, url: str, **query: str) -> Any:
    """A data document that must be served (200), as JSON."""
    response = client.get(url, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return json.loads(response.get_data(as_text=True))


def follow(client: FlaskClient, headers: Headers, url: str) -> Any:
    """The document an absolute `@odata.nextLink` points at."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == HOST
    response = client.get(f"{parts.path}?{parts.query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return json.loads(response.get_data(as_text=True))


def skiptoken_of(link: str) -> dict[str, Any]:
    """The data Central's `$skiptoken` carries: `01` and base64 JSON."""
    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]
    assert token.startswith("01")
    return dict(json.loads(base64.b64decode(token[2:])))


def problem_code(response) -> float:  # type: ignore[no-untyped-def]
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)[:300]
    return float(body["code"])
