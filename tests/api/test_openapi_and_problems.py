"""The API's contract with its clients: every `/v1/` route is in the OpenAPI
document, and every error is Central's problem body."""

from __future__ import annotations

from app.api.openapi import api_views, declared
from app.errors import AppError


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def test_every_api_route_is_declared_for_the_openapi_document(app):
    undeclared = [
        f"{method} {rule}"
        for rule, method, view in api_views(app)
        if declared(view) is None
    ]
    assert undeclared == []


def test_the_openapi_document_names_every_route_with_its_schemas(client, app):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for rule, method, _view in api_views(app):
        path = rule.replace("<int:", "<").replace("<path:", "<")
        path = path.replace("<", "{").replace(">", "}")
        if "any(" in path:
            continue
        assert method.lower() in paths[path], f"{method} {rule}"
    session = paths["/v1/sessions"]["post"]
    schema = session["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/Session")


def test_ayni_additions_are_marked(client):
    paths = client.get("/v1/openapi.json").get_json()["paths"]
    aggregate = paths["/v1/projects/{project_id}/aggregates/{name}"]["get"]
    assert aggregate["x-ayni"] is True
    consent = paths["/v1/projects/{project_id}/consent/withdrawals"]["post"]
    assert consent["x-ayni"] is True
    assert "x-ayni" not in paths["/v1/sessions"]["post"]


def test_every_error_has_a_central_problem_code_matching_its_status():
    for cls in [AppError, *_all_subclasses(AppError)]:
        assert int(cls.problem) == cls.status, cls.__name__


def test_an_unknown_api_path_is_centrals_404_1_problem(client):
    response = client.get("/v1/no/such/thing", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == 404.1
    assert body["message"] == "Not found."
    assert body["error"] == "not_found"


def test_a_body_that_is_not_json_is_400_1_with_its_length(client):
    response = client.post(
        "/v1/sessions", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400.1
    assert body["details"] == {"format": "json", "rawLength": 9}


def test_missing_keys_are_400_3_with_expected_and_got(client):
    response = client.post("/v1/sessions", json={"email": "a@b.c"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400.3
    assert body["details"] == {
        "expected": ["email", "password"],
        # Central serialises the keys it got; an absent one is left out.
        "got": {"email": "a@b.c"},
    }
    assert "password" in body["detail"]


def test_a_password_given_is_never_echoed_in_a_problem(client):
    response = client.post("/v1/sessions", json={"password": "secreto-largo-1"})
    body = response.get_json()
    assert body["code"] == 400.3
    assert body["details"]["got"] == {"password": "***"}
    assert "secreto" not in response.get_data(as_text=True)
