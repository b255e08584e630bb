"""Errors of the form registry: compiling, parsing, finding and versioning forms.

Each carries a stable `code` and a Spanish-then-English message fit to show an
enumerator in Collect or a coordinator in the web console (style.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.errors import (
    ConflictError,
    InvalidInputError,
    MissingParametersError,
    NotFoundError,
    UnparseableError,
)


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
        # Central's details: pyxform's error text and its warnings.
        extra.setdefault(
            "details",
            {
                "error": "\n".join(self.errors) or en or es or self.default_en,
                "warnings": self.warnings,
            },
        )
        # In `extra` too, so the API's problem body carries them (api/problems.py).
        super().__init__(es, en, errors=self.errors, warnings=self.warnings, **extra)


class XFormInvalidError(InvalidInputError):
    code, problem = "xform_invalid", 400.1  # Central: unparseable
    default_es = "El XForm no es válido."
    default_en = "The XForm is not valid."


class XFormUnparseableError(XFormInvalidError, UnparseableError):
    """Not XML at all, or XML Ayni refuses to read (a DOCTYPE, not UTF-8).

    Central's `details` are `{format: "xml", rawLength}`.
    """

    # Ayni's code stays the one of every invalid XForm; Central's number
    # tells the kinds apart.
    code, problem = "xform_invalid", 400.1


class XFormIncompleteError(XFormInvalidError, MissingParametersError):
    """XML without what a form needs: a form id (Central answers 400.2
    `missingParameter` with `{field: "formId"}`), or a title, which Collect
    needs to list it."""

    code, problem = "xform_invalid", 400.2


class FormIdInvalidError(InvalidInputError):
    """A form id Central refuses: one ending in .xml, .xls or .xlsx (a file
    name taken for an id), 400.8 `unexpectedValue`."""

    code, problem = "form_id_invalid", 400.8
    default_es = "El ID del formulario no es válido."
    default_en = "The form id is not valid."


class FormIdTooLongError(InvalidInputError):
    code, problem = "form_id_too_long", 400.13  # Central: valueTooLong
    default_es = "El ID del formulario es demasiado largo."
    default_en = "Length of value too long for a field"


class MetaMissingError(InvalidInputError):
    code, problem = "meta_missing", 400.27  # Central: missingMeta
    default_es = "El formulario no contiene un grupo «meta»."
    default_en = "The form does not contain a 'meta' group."


class FormWarningsError(InvalidInputError):
    """The form is valid, with warnings the client must accept with
    `?ignoreWarnings=true`; `details.warnings` holds `xlsFormWarnings`
    (pyxform's) and `workflowWarnings` (Central's `deletedFormExists`,
    `structureChanged`)."""

    code, problem = "form_warnings", 400.16  # Central: formWarnings
    default_es = (
        "El formulario es válido, pero con advertencias. Revíselas y, si son "
        "aceptables, envíelo de nuevo con ?ignoreWarnings=true."
    )
    default_en = (
        "The Form is valid, but with warnings. Please check the warnings and if "
        "they are acceptable resubmit with ?ignoreWarnings=true"
    )


class DefinitionMissingError(MissingParametersError):
    """An empty draft body asks for a copy of the published version; a form
    never published has none (Central: 400.2 `{field: "xml"}`)."""

    code, problem = "definition_missing", 400.2
    default_es = (
        "Falta la definición del formulario: envíe un XForm o un XLSForm "
        "(el formulario no tiene una versión publicada que copiar)."
    )
    default_en = "Required parameter xml missing."


class FormStateInvalidError(InvalidInputError):
    code, problem = "form_state_invalid", 400.8  # Central: unexpectedValue
    default_es = "Estado de formulario desconocido."
    default_en = "Unexpected state value; not a recognized state name"


class FormNumericIdError(InvalidInputError):
    """A form named by its xmlFormId where Central takes the numeric id (the
    restore of a deleted form; Central: invalidDataTypeOfParameter)."""

    code, problem = "form_numeric_id", 400.11

    def __init__(self, value: str):
        super().__init__(
            "Un formulario borrado se restaura por su número (`id` en "
            "`?deleted=true`), no por su ID.",
            "Invalid input data type: expected (numericFormId) to be (integer)",
            details={"field": "numericFormId", "value": value, "expected": "integer"},
        )


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


class DraftNotFoundError(FormNotFoundError):
    code = "draft_not_found"
    default_es = "El formulario no tiene un borrador."
    default_en = "The form has no draft."


class FormAttachmentNotFoundError(FormNotFoundError):
    code = "form_attachment_not_found"
    default_es = "El formulario no tiene ese archivo multimedia."
    default_en = "The form has no such media file."


class FormExistsError(ConflictError):
    """A live form of the project has this id (Central: 409.3
    `uniquenessViolation`, `{fields: [projectId, xmlFormId], values}`)."""

    code, problem = "form_exists", 409.3
    default_es = "Ya existe un formulario con ese ID en este proyecto."
    default_en = "A form with this id already exists in this project."


class NoPublishedVersionError(ConflictError):
    code, problem = "no_published_version", 409.7  # Central: noPublishedVersion
    default_es = (
        "No se puede descartar el borrador: el formulario nunca se publicó. "
        "Elimine el formulario entero o reemplace el borrador."
    )
    default_en = (
        "Could not delete draft, because the form has not been published. Either "
        "delete the whole form, or replace the draft."
    )


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
