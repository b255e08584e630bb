"""Password hashing (argon2id) and the Digest HA1 kept for Collect users.

Pure: no database. Collect sends Digest credentials as US-ASCII (openrosa.md §5),
so passwords of users enabled for Collect must be printable ASCII.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

DIGEST_REALM = "Ayni"
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with the library's current parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def digest_ha1(username: str, password: str, realm: str = DIGEST_REALM) -> str:
    # MD5 is what RFC 2617 Digest and Collect's okhttp-digest speak; it is kept
    # only as HA1 for the Collect login, never as the password hash.
    data = f"{username}:{realm}:{password}".encode()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def is_acceptable_password(password: str) -> bool:
    printable = set(string.printable) - set("\t\n\r\x0b\x0c")
    return len(password) >= MIN_PASSWORD_LENGTH and set(password) <= printable


def generate_password() -> str:
    """A password a coordinator can read aloud and type on a tablet keyboard."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)
