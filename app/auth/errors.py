"""Errors of the accounts service: users, sessions, app users, roles and
their assignments.

Each carries ODK Central's problem code (its `lib/util/problem.js`), so
Central's frontend, pyODK and scripts branch on them as they would with
Central, and a Spanish-then-English message for a person.
"""

from __future__ import annotations

from app.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)


class UserExistsError(ConflictError):
    code = "user_exists"
    default_es = "Ya existe un usuario con ese nombre o correo."
    default_en = "A user with that username or e-mail already exists."


class UserNotFoundError(NotFoundError):
    code = "user_not_found"
    default_es = "No existe ese usuario."
    default_en = "No such user."


class WeakPasswordError(InvalidInputError):
    code, problem = "weak_password", 400.44  # Central: passwordTooWeak
    default_es = "La contraseña debe tener al menos 10 caracteres ASCII imprimibles."
    default_en = "The password must have at least 10 printable ASCII characters."


class PasswordTooShortError(WeakPasswordError):
    code, problem = "password_too_short", 400.21  # Central: passwordTooShort


class PasswordTooLongError(WeakPasswordError):
    code, problem = "password_too_long", 400.38  # Central: passwordTooLong


class PasswordCharactersError(WeakPasswordError):
    """Characters Collect cannot send (Ayni's rule; Central has none, so its
    generic unexpected value)."""

    code, problem = "password_characters", 400.8


class WrongPasswordError(AuthenticationError):
    """The current password given to change it does not match (Central:
    authenticationFailed)."""

    code = "wrong_password"
    default_es = "La contraseña actual no es correcta."
    default_en = "Could not authenticate with the provided credentials."


class SessionRefusedError(PermissionDeniedError):
    """A session that does not exist, or that the caller may not end: Central
    answers both with 403.1, so a token's existence is never revealed."""

    code = "session_refused"
    default_es = "No puede cerrar esa sesión."
    default_en = (
        "The authentication you provided does not have rights to perform that action."
    )


class AppUserNotFoundError(NotFoundError):
    code = "app_user_not_found"
    default_es = "No existe ese usuario de aplicación (tableta)."
    default_en = "No such app user (tablet)."


class InvalidRoleError(InvalidInputError):
    code = "invalid_role"
    default_es = "El rol o su alcance no es válido."
    default_en = "The role or its scope is not valid."


class RoleNotFoundError(NotFoundError):
    code = "role_not_found"
    default_es = "No existe ese rol."
    default_en = "Could not find the resource you were looking for."


class AssignmentExistsError(ConflictError):
    """The actor already holds that role there (Central: the assignment's
    primary key, uniquenessViolation)."""

    code = "assignment_exists"
    default_es = "Ese usuario ya tiene ese rol aquí."
    default_en = "That actor already holds that role here."


class AssignmentNotFoundError(NotFoundError):
    code = "assignment_not_found"
    default_es = "Ese usuario no tiene ese rol aquí."
    default_en = "Could not find the resource you were looking for."


class AylluRequiredError(InvalidInputError):
    """A guardian grant names no ayllu. Central's URL has no place for one;
    Ayni takes it as `?ayllu=` or `{"ayllu": …}` (Central: missingParameter)."""

    code, problem = "ayllu_required", 400.2

    def __init__(self) -> None:
        super().__init__(
            "La custodia de saberes es por ayllu: indique cuál con ?ayllu= "
            'o con {"ayllu": "…"} en el cuerpo.',
            "Required parameter ayllu missing. Knowledge guardianship is per "
            'ayllu: give it as ?ayllu= or as {"ayllu": "…"} in the body.',
            details={"field": "ayllu"},
        )
