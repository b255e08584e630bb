"""The problems of the OData feed, with Central's problem codes and texts
(`lib/util/problem.js`): what a client that branches on `code` expects."""

from __future__ import annotations

from app.errors import AppError, InvalidInputError, NotFoundError


class NotImplementedFeatureError(AppError):
    """501.1: a query option, or a combination, Central does not serve."""

    status, code, problem = 501, "odata_not_implemented", 501.1
    default_es = "El servidor no admite esta función."
    default_en = "The requested feature is not supported by this server."

    def __init__(self, feature: str) -> None:
        super().__init__(
            f"El servidor no admite esta función: {feature}.",
            f"The requested feature {feature} is not supported by this server.",
            details={"feature": feature},
        )


class UnsupportedExpressionError(AppError):
    """501.4: a `$filter` that parses but uses what Central does not run."""

    status, code, problem = 501, "odata_unsupported_expression", 501.4

    def __init__(self, kind: str, at: int, text: str) -> None:
        super().__init__(
            "La expresión $filter usa funciones que el servidor no admite: "
            f"{kind} en {at} («{text}»).",
            "The given OData filter expression uses features not supported by "
            f'this server: {kind} at {at} ("{text}")',
            details={"at": at, "type": kind, "text": text},
        )


class UnsupportedFieldError(AppError):
    """501.5: a `$filter` or `$orderby` naming a field it may not use."""

    status, code, problem = 501, "odata_unsupported_field", 501.5

    def __init__(self, text: str, at: int | None = None) -> None:
        where_es = f" en {at}" if at is not None else ""
        where_en = f" at {at}" if at is not None else ""
        details: dict[str, object] = {"text": text}
        if at is not None:
            details["at"] = at
        super().__init__(
            "La expresión $filter o $orderby nombra campos que el servidor no "
            f"admite: {text}{where_es}",
            "The given OData filter expression references fields not supported "
            f"by this server: {text}{where_en}",
            details=details,
        )


class UnsupportedExpandError(AppError):
    """501.6: `$expand` other than `*`."""

    status, code, problem = 501, "odata_unsupported_expand", 501.6

    def __init__(self, text: str) -> None:
        super().__init__(
            f"El servidor no admite la expresión $expand «{text}»; solo «*».",
            f'The given OData expand expression is not supported by this server: "'
            f'{text}". Currently, only "$expand=*" is supported.',
            details={"text": text},
        )


class SelectWithExpandError(AppError):
    """501.11: `$select` and `$expand` together."""

    status, code, problem = 501, "odata_select_with_expand", 501.11
    default_es = "El servidor no admite $select junto con $expand."
    default_en = "This server doesn't support $select query parameter with $expand."


class UnparseableFilterError(InvalidInputError):
    """400.18: a `$filter` that does not parse."""

    code, problem = "odata_unparseable_filter", 400.18

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"No se pudo leer la expresión $filter: {reason}",
            f"The OData filter expression you provided could not be parsed: {reason}",
            details={"reason": reason},
        )


class OutOfRangeError(InvalidInputError):
    """400.22: a number past what the database holds (Central's answer to a
    `$top` beyond a bigint)."""

    code, problem = "value_out_of_range", 400.22

    def __init__(self, value: str, kind: str) -> None:
        super().__init__(
            f"El valor «{value}» está fuera del rango del tipo «{kind}».",
            f"Provided value '{value}' is out of range for type '{kind}'",
            details={"value": value, "type": kind},
        )


class PropertyNotFoundError(InvalidInputError):
    """400.23: `$select` names a property the table does not have."""

    code, problem = "odata_property_not_found", 400.23

    def __init__(self, name: str) -> None:
        super().__init__(
            f"No existe la propiedad «{name}».",
            f"Could not find a property named '{name}'",
            details={"property": name},
        )


class UnsupportedSelectError(InvalidInputError):
    """400.24: `$select` reaching into a repeat."""

    code, problem = "odata_unsupported_select", 400.24

    def __init__(self, name: str) -> None:
        super().__init__(
            f"La propiedad «{name}» de $select usa funciones que el servidor no "
            "admite.",
            f"The given OData select property '{name}' uses features not "
            "supported by this server.",
            details={"property": name},
        )


class SkiptokenRecordNotFoundError(InvalidInputError):
    """400.34: a well-formed `$skiptoken` whose record is not there."""

    code, problem = "odata_skiptoken_not_found", 400.34
    default_es = "No se encontró el registro del $skiptoken indicado."
    default_en = "Record associated with the provided $skiptoken not found."


class InvalidSkiptokenError(InvalidInputError):
    """400.35: a `$skiptoken` that is not one of ours."""

    code, problem = "odata_invalid_skiptoken", 400.35
    default_es = "El $skiptoken no es válido."
    default_en = "Invalid $skiptoken"


class UnacceptableFormatError(AppError):
    """406.1: `$format`/`Accept` asking for what the resource does not give."""

    status, code, problem = 406, "unacceptable_format", 406.1

    def __init__(self, allowed: tuple[str, ...], got: str) -> None:
        super().__init__(
            "Formato no aceptable; este recurso da: " + ",".join(allowed) + ".",
            "Requested format not acceptable; this resource allows: "
            + ",".join(allowed)
            + ".",
            details={"allowed": list(allowed), "got": got},
        )


class ODataNotFoundError(NotFoundError):
    """404.1: no such table, or a path Central does not serve."""

    code = "odata_not_found"
    default_es = "No se encontró el recurso."
    default_en = "Could not find the resource you were looking for."
