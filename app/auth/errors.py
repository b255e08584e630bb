"""Errors of the accounts service: users, app users, roles."""

from __future__ import annotations

from app.errors import ConflictError, InvalidInputError, NotFoundError


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


class AppUserNotFoundError(NotFoundError):
    code = "app_user_not_found"
    default_es = "No existe ese usuario de aplicación (tableta)."
    default_en = "No such app user (tablet)."


class InvalidRoleError(InvalidInputError):
    code = "invalid_role"
    default_es = "El rol o su alcance no es válido."
    default_en = "The role or its scope is not valid."
