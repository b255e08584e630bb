"""Errors of the projects service and of project and app-user requests.

Each carries ODK Central's problem code (its `lib/util/problem.js`), so
Central's frontend, pyODK and scripts branch on them as they would with
Central, and a Spanish-then-English message for a person.
"""

from __future__ import annotations

from app.errors import (
    AppError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)


class ProjectNotFoundError(NotFoundError):
    code = "project_not_found"
    default_es = "No existe ese proyecto."
    default_en = "No such project."


class MissingParameterError(InvalidInputError):
    """One required value is absent or null (Central: missingParameter, what
    it answers when a project or app user would be stored without a name)."""

    code, problem = "missing_parameter", 400.2

    def __init__(self, field: str):
        super().__init__(
            f"Falta el dato obligatorio «{field}».",
            f"Required parameter {field} missing.",
            details={"field": field},
        )


class DefaultProjectError(ConflictError):
    """The default project cannot be deleted: Collect's root aliases
    (`/formList`, `/submission`) serve it, so every tablet set up with the bare
    server address would lose its forms and its sends. Central has no default
    project, hence no problem code of its own: the parent's 409.3 stays."""

    code = "default_project"
    default_es = (
        "No se puede eliminar el proyecto predeterminado: las tabletas "
        "configuradas solo con la dirección del servidor (/formList, /submission) "
        "lo usan. Archívelo si ya no se usa."
    )
    default_en = (
        "The default project cannot be deleted: tablets set up with only the "
        "server address (/formList, /submission) use it. Archive it instead if "
        "it is no longer used."
    )


class NotImplementedFeatureError(AppError):
    """A Central feature Ayni does not offer (Central: notImplemented)."""

    status, code, problem = 501, "not_implemented", 501.1

    def __init__(self, feature: str, es: str, en: str):
        super().__init__(
            es,
            f"The requested feature {feature} is not supported by this server. {en}",
            details={"feature": feature},
        )


class UnexpectedFormsListError(AppError):
    """A deep project update (`PUT /v1/projects/<id>`) that would add or remove
    forms (Central: unexpectedFormsList)."""

    status, code, problem = 501, "unexpected_forms_list", 501.2
    default_es = (
        "Esta operación no crea ni elimina formularios. Envíe exactamente los "
        "formularios que ya tiene el proyecto."
    )
    default_en = (
        "This endpoint does not allow creation or deletion of forms. Please "
        "check that you have sent the correct detail for all forms in this "
        "project."
    )
