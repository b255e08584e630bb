"""The error hierarchy every layer raises; it owns status codes and stable codes.

No Flask here: services raise these, and each edge (OpenRosa, API, web) renders
them in its own wire format. Every message is bilingual, Spanish first, because
field workers read them on tablets; `detail(lang)` picks the language to show.

Each error class carries three identities, all decided on the class itself:

- `status`: the HTTP status;
- `code`: Ayni's stable name (`form_not_found`), what Ayni's own clients and
  tests branch on;
- `problem`: ODK Central's numeric problem code (`404.1`, `409.3`, `400.15`;
  Central's `lib/util/problem.js`), which Central's frontend, pyODK and scripts
  written for Central branch on. Its integer part is always `status`. Where
  Central has no such error, the class keeps its parent's generic one.
"""

from __future__ import annotations


class AppError(Exception):
    """A deliberate failure with an HTTP status, a stable code and a message."""

    status: int = 500
    code: str = "internal_error"
    problem: float = 500.1
    default_es: str = "Error interno del servidor."
    default_en: str = "Internal server error."

    def __init__(self, es: str | None = None, en: str | None = None, **extra: object):
        self.es = es or self.default_es
        self.en = en or (self.default_en if es is None else es)
        self.extra = extra
        super().__init__(self.en)

    @property
    def details(self) -> dict[str, object] | None:
        """Central's machine-readable `details` of this problem, if any."""
        value = self.extra.get("details")
        return value if isinstance(value, dict) else None

    def detail(self, lang: str | None = None) -> str:
        """Message for a person: English alone when asked, else Spanish then English."""
        if lang == "en":
            return self.en
        if self.en == self.es:
            return self.es
        return f"{self.es} / {self.en}"


class InvalidInputError(AppError):
    status, code, problem = 400, "invalid_input", 400.8  # Central: unexpectedValue
    default_es = "La solicitud no es válida."
    default_en = "The request is not valid."


class UnparseableError(InvalidInputError):
    """A body that is not the JSON or XML it should be (Central: unparseable)."""

    code, problem = "unparseable", 400.1
    default_es = "No se pudo leer el cuerpo de la solicitud."
    default_en = "Could not parse the given data."


class MissingParametersError(InvalidInputError):
    """Required keys or parameters are missing (Central: missingParameters)."""

    code, problem = "missing_parameters", 400.3
    default_es = "Faltan datos obligatorios."
    default_en = "Required parameters missing."


class InvalidDataTypeError(InvalidInputError):
    """A value of the wrong JSON or query type (Central:
    invalidDataTypeOfParameter). `value`, when given, is echoed in `details`
    as Central does for request bodies."""

    code, problem = "invalid_data_type", 400.11

    def __init__(self, field: str, expected: str, value: object = ...) -> None:
        details: dict[str, object] = {"field": field, "expected": expected}
        if value is not ...:
            details["value"] = value
        super().__init__(
            f"El dato «{field}» debe ser de tipo {expected}.",
            f"Invalid input data type: expected ({field}) to be ({expected})",
            details=details,
        )


class UnexpectedValueError(InvalidInputError):
    """A value of the right type that cannot be used (Central: unexpectedValue)."""

    code, problem = "unexpected_value", 400.8

    def __init__(
        self, field: str, value: object, reason_es: str, reason_en: str
    ) -> None:
        super().__init__(
            f"El valor de «{field}» no es válido: {reason_es}",
            f"Unexpected {field} value {value}; {reason_en}",
            details={"field": field, "value": value, "reason": reason_en},
        )


class ValueTooLongError(InvalidInputError):
    """Longer than the column holds (Central: valueTooLong)."""

    code, problem = "value_too_long", 400.13

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(
            f"«{field}» admite como máximo {limit} caracteres.",
            "Length of value too long for a field",
            details={"field": field, "limit": limit},
        )


class UnprocessableError(InvalidInputError):
    status, code, problem = 422, "unprocessable", 422.1


class AuthenticationError(AppError):
    status, code, problem = 401, "authentication_required", 401.2
    default_es = "Se requiere autenticación."
    default_en = "Authentication is required."


class PermissionDeniedError(AppError):
    status, code, problem = 403, "permission_denied", 403.1
    default_es = "No tiene permiso para esta acción."
    default_en = "You are not allowed to do this."


class NotFoundError(AppError):
    status, code, problem = 404, "not_found", 404.1
    default_es = "No se encontró el recurso."
    default_en = "Not found."


class ConflictError(AppError):
    status, code, problem = 409, "conflict", 409.3  # Central: uniquenessViolation
    default_es = "Conflicto con el estado actual."
    default_en = "Conflict with the current state."


class PayloadTooLargeError(AppError):
    status, code, problem = 413, "payload_too_large", 413.1
    default_es = "El envío es demasiado grande."
    default_en = "The upload is too large."


class ServiceUnavailableError(AppError):
    status, code, problem = 503, "unavailable", 503.1
    default_es = "El servicio no está disponible."
    default_en = "Service unavailable."
