"""Errors of submission ingest, with ODK Central's English texts where it has them.

Collect shows `<message>` verbatim (openrosa.md §4.5), so each message is short,
Spanish first, then the English a Central user would recognise.
"""

from __future__ import annotations

from app.errors import ConflictError, InvalidInputError, NotFoundError


class InstanceInvalidError(InvalidInputError):
    """Malformed XML, a DOCTYPE or entities, not UTF-8, or no form id on the root."""

    code = "instance_invalid"
    default_es = "El XML del envío no es válido."
    default_en = "The submission XML is not valid."


class SubmissionConflictError(ConflictError):
    code = "submission_conflict"
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
    code = "submission_deleted"
    default_es = "Este envío fue eliminado. No puede reenviarlo."
    default_en = "This submission has been deleted. You may not resubmit it."


class DeprecatedIdNotFoundError(NotFoundError):
    code = "deprecated_id_not_found"
    default_es = "El envío que se editó (deprecatedID) no existe en este formulario."
    default_en = (
        "The submission being edited (deprecatedID) does not exist for this form."
    )


class InstanceIdMissingError(InvalidInputError):
    code = "instance_id_missing"
    default_es = "El envío no tiene instanceID (meta/instanceID)."
    default_en = "The submission has no instanceID (meta/instanceID)."
