"""Errors of the form registry: compiling, parsing, finding and versioning forms.

Each carries a stable `code` and a Spanish-then-English message fit to show an
enumerator in Collect or a coordinator in the web console (style.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.errors import ConflictError, InvalidInputError, NotFoundError


class XlsFormInvalidError(InvalidInputError):
    """pyxform refused the workbook; `errors` name sheet and row when it can."""

    code, problem = "xlsform_invalid", 400.15  # Central: xlsformNotValid
    default_es = "El XLSForm no es válido."
    default_en = "The XLSForm is not valid."

    def __init__(
        self,
        es: str | None = None,
        en: str | None = None,
        *,
        errors: Iterable[str] = (),
        warnings: Iterable[str] = (),
        **extra: object,
    ):
        self.errors: list[str] = list(errors)
        self.warnings: list[str] = list(warnings)
        # In `extra` too, so the API's problem body carries them (api/problems.py).
        super().__init__(es, en, errors=self.errors, warnings=self.warnings, **extra)


class XFormInvalidError(InvalidInputError):
    code, problem = "xform_invalid", 400.1  # Central: unparseable
    default_es = "El XForm no es válido."
    default_en = "The XForm is not valid."


class MediaNameInvalidError(InvalidInputError):
    """A form media file name Collect could not use or a manifest could not
    carry (control or invisible characters, a path, a hidden file…)."""

    code = "media_name_invalid"
    default_es = "Nombre de archivo multimedia no válido."
    default_en = "Invalid media file name."


class FormNotFoundError(NotFoundError):
    code = "form_not_found"
    default_es = "No se encontró el formulario."
    default_en = "The form was not found."


class FormVersionNotFoundError(NotFoundError):
    code, problem = "form_version_not_found", 404.6  # Central: formVersionNotFound
    default_es = "La versión del formulario indicada en este envío no existe."
    default_en = "The form version specified in this submission does not exist."


class FormClosedError(ConflictError):
    code, problem = "form_closed", 409.2  # Central: notAcceptingSubmissions
    default_es = "Este formulario no acepta envíos en este momento."
    default_en = "This form is not currently accepting submissions."


class FormVersionConflictError(ConflictError):
    code, problem = "form_version_conflict", 409.6  # versionUniquenessViolation
    default_es = (
        "El formulario cambió pero su versión sigue igual: cambie la versión "
        "en la hoja settings y vuelva a cargarlo."
    )
    default_en = (
        "The form changed but its version did not: change the version in the "
        "settings sheet and load it again."
    )
