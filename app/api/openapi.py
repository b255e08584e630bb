"""The OpenAPI document of Ayni's `/v1/` API, built from the routes themselves.

Every API view declares what it takes and gives with `@operation(...)`: a
summary, a tag (Central's endpoint group, or Ayni's), the marshmallow schema
of its JSON body and of its answer (or the media type of a non-JSON one), and
its query parameters. `build_document(app)` walks Flask's URL map, so a route
cannot exist without being in the document, nor the document name a route that
does not exist; a test checks that every `/v1/` view is declared.

Ayni's additions to Central's API (aggregates, XLSX/GeoJSON/JSON-lines
exports, consent) carry `x-ayni: true`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from app.api.problems import PROBLEM_SCHEMA

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__ayni_operation__"
JSON = "application/json"
# Body or answer: a schema (JSON), or a media type for everything else.
Payload = type[Schema] | str | None
_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_PARAM_TYPES = {"int": "integer", "float": "number"}


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    body: Payload = None
    response: Payload = None
    many: bool = False
    status: int = 200
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    ayni: bool = False
    description: str | None = None


def operation(
    summary: str,
    *,
    tag: str,
    body: Payload = None,
    response: Payload = None,
    many: bool = False,
    status: int = 200,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    ayni: bool = False,
) -> Callable[[F], F]:
    """Declare an API view for the OpenAPI document.

    `query` and `headers` map each parameter a client may send to what it
    does; `ayni=True` marks an addition Central does not have.
    """

    def mark(view: F) -> F:
        doc = (view.__doc__ or "").strip() or None
        setattr(
            view,
            ATTRIBUTE,
            Operation(
                summary,
                tag,
                body,
                response,
                many,
                status,
                dict(query or {}),
                dict(headers or {}),
                ayni,
                doc,
            ),
        )
        return view

    return mark


def declared(view: Callable[..., Any]) -> Operation | None:
    return getattr(view, ATTRIBUTE, None)


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params: list[dict[str, Any]] = []

    def swap(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": _PARAM_TYPES.get(converter or "", "string")},
            }
        )
        return "{" + name + "}"

    return _CONVERTER.sub(swap, rule), params


def _content(payload: Payload, many: bool) -> dict[str, Any]:
    if payload == JSON:
        return {JSON: {"schema": {"type": "object"}}}
    if isinstance(payload, str):
        return {payload: {"schema": {"type": "string", "format": "binary"}}}
    schema: Any = payload
    if many:
        schema = {"type": "array", "items": payload}
    return {JSON: {"schema": schema}}


def _operation(op: Operation, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    parameters = list(path_params)
    parameters += [
        {"name": name, "in": "query", "required": False, "description": text}
        | {"schema": {"type": "string"}}
        for name, text in op.query.items()
    ]
    parameters += [
        {"name": name, "in": "header", "required": False, "description": text}
        | {"schema": {"type": "string"}}
        for name, text in op.headers.items()
    ]
    answer: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        answer["content"] = _content(op.response, op.many)
    result: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": {
            str(op.status): answer,
            "default": {
                "description": "Central's problem body",
                "content": {JSON: {"schema": PROBLEM_SCHEMA}},
            },
        },
    }
    if op.description:
        result["description"] = op.description
    if op.body is not None:
        result["requestBody"] = {"required": True, "content": _content(op.body, False)}
    if op.ayni:
        result["x-ayni"] = True
    return result


def api_views(app: Flask) -> list[tuple[str, str, Callable[..., Any]]]:
    """(rule, method, view) of every `/v1/` route outside OpenRosa's."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/") or rule.endpoint.startswith("openrosa"):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, view))
    return found


def build_document(app: Flask, version: str) -> dict[str, Any]:
    spec = APISpec(
        title="Ayni",
        version=version,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": (
                "ODK Central's v1 API and OData feed, as Ayni serves them, "
                "with Ayni's additions marked x-ayni."
            )
        },
        components={
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            }
        },
        security=[{"bearer": []}, {"basic": []}],
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, view in api_views(app):
        op = declared(view)
        if op is None:
            continue
        path, params = _path(rule)
        paths.setdefault(path, {})[method.lower()] = _operation(op, params)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()
