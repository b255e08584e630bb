"""Errors of submissions (ingest, reading, review), with ODK Central's English
texts where it has them.

Collect shows `<message>` verbatim (openrosa.md §4.5), so each message is short,
Spanish first, then the English a Central user would recognise.
"""

from __future__ import annotations

from app.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)


class InstanceInvalidError(InvalidInputError):
    """Malformed XML, a DOCTYPE or entities, not UTF-8, or no form id on the root."""

    code, problem = "instance_invalid", 400.1  # Central: unparseable
    default_es = "El XML del envío no es válido."
    default_en = "The submission XML is not valid."


class SubmissionConflictError(ConflictError):
    code, problem = "submission_conflict", 409.1  # Central: xmlConflict
    default_es = (
        "Ya existe un envío con este ID, pero con otro XML. Para adjuntar más "
        "archivos, reenvíe un xml_submission_file idéntico."
    )
    default_en = (
        "A submission already exists with this ID, but with different XML. "
        "Resubmissions to attach additional multimedia must resubmit an identical "
        "xml_submission_file."
    )


class SubmissionDeletedError(ConflictError):
    code, problem = "submission_deleted", 409.18  # Central: duplicateSubmission
    default_es = "Este envío fue eliminado. No puede reenviarlo."
    default_en = "This submission has been deleted. You may not resubmit it."


class DeprecatedIdNotFoundError(NotFoundError):
    code, problem = "deprecated_id_not_found", 404.5  # Central: deprecatedIdNotFound
    default_es = "El envío que se editó (deprecatedID) no existe en este formulario."
    default_en = (
        "The submission being edited (deprecatedID) does not exist for this form."
    )


class InstanceIdMissingError(InvalidInputError):
    code, problem = "instance_id_missing", 400.2  # Central: missingParameter
    default_es = "El envío no tiene instanceID (meta/instanceID)."
    default_en = "The submission has no instanceID (meta/instanceID)."


class KnowledgeEditRefusedError(PermissionDeniedError):
    """An edit that opens a governed record up, by someone who does not guard
    its ayllu (domain.md §4)."""

    code = "knowledge_edit_refused"
    default_es = (
        "Esta edición abre el registro (nivel de acceso menos estricto, "
        "consentimiento o ayllu distinto): solo quien custodia los saberes de "
        "ese ayllu puede hacerla. No se guardó nada."
    )
    default_en = (
        "This edit opens the record up (a less strict access level, another "
        "consent or another ayllu): only the guardian of that ayllu's knowledge "
        "may make it. Nothing was stored."
    )


class AttachmentNotFoundError(NotFoundError):
    code = "attachment_not_found"
    default_es = "No se encontró el archivo adjunto."
    default_en = "The attachment was not found."


class ReviewInputError(InvalidInputError):
    code = "review_invalid"


class XmlPartInvalidError(InvalidInputError):
    code = "xml_submission_file_invalid"


class InstanceIdInvalidError(InvalidInputError):
    code = "instance_id_invalid"


class InstanceLimitError(InvalidInputError):
    code = "instance_too_large"


class InstanceNodeRefusedError(InvalidInputError):
    code = "instance_node_refused"


class EncryptionMismatchError(InvalidInputError):
    code = "encryption_mismatch"


class AttachmentRefusedError(InvalidInputError):
    """A file the submission carries cannot be stored (its name or its
    content); nothing of the submission is."""

    code = "attachment_refused"


class ExpectedDeprecationError(InvalidInputError):
    """An edit (`PUT …/submissions/<id>`) whose XML names no version it replaces."""

    code, problem = "deprecated_id_missing", 400.19  # Central: expectedDeprecation
    default_es = (
        "Para editar un envío, el XML debe traer meta/deprecatedID con el "
        "instanceID de la versión actual. Este no lo trae."
    )
    default_en = (
        "This PUT endpoint expects a deprecatedID metadata tag pointing at the "
        "current version instanceID. I cannot find that tag in your request."
    )


class DeprecatingOldSubmissionError(SubmissionConflictError):
    """An edit of a version that is no longer the current one."""

    code, problem = "submission_out_of_date", 409.9  # deprecatingOldSubmission
    default_es = (
        "La copia que estaba editando ya no está al día: otra persona la "
        "editó. Descargue la versión actual y vuelva a editarla."
    )
    default_en = (
        "You tried to update a submission, but the copy you were editing is now "
        "out of date. Please get the new version that has been submitted, and "
        "make your edits again."
    )


class InstanceIdConflictError(ConflictError):
    """An edit whose new instanceID the form already has."""

    code, problem = "instance_id_conflict", 409.8  # Central: instanceIdConflict
    default_es = (
        "Intentó editar un envío, pero el instanceID nuevo ya existe en este "
        "servidor. Vuelva a intentarlo con un instanceID único."
    )
    default_en = (
        "You tried to update a submission, but the instanceID you provided "
        "already exists on this server. Please try again with a unique instanceID."
    )


class SubmissionNotDeletedError(NotFoundError):
    """A restore of a submission that is not deleted (Central: 404)."""

    code = "submission_not_deleted"
    default_es = "No se encontró un envío eliminado con ese instanceID."
    default_en = "Could not find the resource you were looking for."
