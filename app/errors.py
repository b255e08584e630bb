"""The error hierarchy every layer raises; it owns status codes and stable codes.

No Flask here: services raise these, and each edge (OpenRosa, API, web) renders
them in its own wire format. Every message is bilingual, Spanish first, because
field workers read them on tablets; `detail(lang)` picks the language to show.
"""

from __future__ import annotations


class AppError(Exception):
    """A deliberate failure with an HTTP status, a stable code and a message."""

    status: int = 500
    code: str = "internal_error"
    default_es: str = "Error interno del servidor."
    default_en: str = "Internal server error."

    def __init__(self, es: str | None = None, en: str | None = None, **extra: object):
        self.es = es or self.default_es
        self.en = en or (self.default_en if es is None else es)
        self.extra = extra
        super().__init__(self.en)

    def detail(self, lang: str | None = None) -> str:
        """Message for a person: English alone when asked, else Spanish then English."""
        if lang == "en":
            return self.en
        if self.en == self.es:
            return self.es
        return f"{self.es} / {self.en}"


class InvalidInputError(AppError):
    status, code = 400, "invalid_input"
    default_es = "La solicitud no es válida."
    default_en = "The request is not valid."


class UnprocessableError(InvalidInputError):
    status, code = 422, "unprocessable"


class AuthenticationError(AppError):
    status, code = 401, "authentication_required"
    default_es = "Se requiere autenticación."
    default_en = "Authentication is required."


class PermissionDeniedError(AppError):
    status, code = 403, "permission_denied"
    default_es = "No tiene permiso para esta acción."
    default_en = "You are not allowed to do this."


class NotFoundError(AppError):
    status, code = 404, "not_found"
    default_es = "No se encontró el recurso."
    default_en = "Not found."


class ConflictError(AppError):
    status, code = 409, "conflict"
    default_es = "Conflicto con el estado actual."
    default_en = "Conflict with the current state."


class PayloadTooLargeError(AppError):
    status, code = 413, "payload_too_large"
    default_es = "El envío es demasiado grande."
    default_en = "The upload is too large."


class ServiceUnavailableError(AppError):
    status, code = 503, "unavailable"
    default_es = "El servicio no está disponible."
    default_en = "Service unavailable."
