"""What every API view does the same way: read a JSON body, answer
`{"success": true}`, read Central's flags and headers.

Central's conventions (its `lib/http/endpoint.js` and `lib/util/http.js`):
a body that is not JSON is 400.1 with `{format, rawLength}`; missing keys
are 400.3 with `{expected, got}`; an action with nothing to return answers
`{"success": true}`; `X-Extended-Metadata: true` asks for the extended
shape of a resource; boolean query flags are case-insensitive (pyODK sends
`True`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, ValidationError

from app.errors import InvalidInputError, MissingParametersError, UnparseableError

_MISSING = "Missing data for required field."

View = Callable[..., Any]


def central_routes(bp: Blueprint) -> Callable[..., Callable[[View], View]]:
    """The route decorator of a Central resource module: `route(rule,
    methods=[…], name=None)` registers the view at `/v1<rule>` and again
    under the app-user prefix `/v1/key/<token><rule>`, as Central answers
    every resource there (Collect and Enketo reach the API with a token in
    the path). The view takes `token: str | None = None`; the endpoint is
    `name` (default: the view's name), and `<name>_key` under the prefix.
    """

    def route(
        rule: str, *, name: str | None = None, **options: Any
    ) -> Callable[[View], View]:
        def register(view: View) -> View:
            endpoint = name or view.__name__
            bp.add_url_rule(f"/v1{rule}", endpoint, view, **options)
            bp.add_url_rule(
                f"/v1/key/<token>{rule}", f"{endpoint}_key", view, **options
            )
            return view

        return register

    return route


def json_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON body loaded through `schema`.

    Raises: UnparseableError (400.1) for a body that is not a JSON object,
    MissingParametersError (400.3) when required keys are absent,
    InvalidInputError (400.8) for values of the wrong kind.
    """
    raw = request.get_data(cache=True)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise UnparseableError(
            "El cuerpo de la solicitud no es un objeto JSON.",
            f"Could not parse the given data ({len(raw)} chars) as json.",
            details={"format": "json", "rawLength": len(raw)},
        )
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        missing = sorted(k for k, v in messages.items() if v == [_MISSING])
        if missing:
            expected = sorted(
                name for name, f in schema.load_fields.items() if f.required
            )
            # Central echoes what was given; a secret (load-only: a
            # password) is never echoed, only whether it came.
            got = {
                name: (
                    "***"
                    if schema.load_fields[name].load_only and data.get(name)
                    else data.get(name)
                )
                for name in expected
            }
            raise MissingParametersError(
                f"Faltan datos obligatorios: {', '.join(missing)}.",
                f"Required parameters missing. Expected ({', '.join(expected)}).",
                details={"expected": expected, "got": got},
            ) from exc
        error = InvalidInputError(
            "Hay datos que no son válidos.", "Some values are not valid."
        )
        error.extra["errors"] = [f"{k}: {v}" for k, v in sorted(messages.items())]
        raise error from exc


def success() -> Response:
    return jsonify(success=True)


def query_flag(name: str, default: bool = False) -> bool:
    """A boolean query flag: `true`/`True`/`1` (pyODK capitalises)."""
    value = request.args.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"true", "1", "yes"}


def extended() -> bool:
    """Whether the client asked for Central's extended metadata."""
    return request.headers.get("X-Extended-Metadata", "").strip().lower() == "true"
