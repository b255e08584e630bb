"""Password hashing (argon2id), strength, and the Digest HA1 kept for Collect.

Pure: no database. Strength is judged as ODK Central judges it
(`lib/util/crypto.js::hashPassword`): at least 10 characters and a zxcvbn score
of 3 or more, the score and zxcvbn's advice going back in the error. Collect
sends Digest credentials as US-ASCII (openrosa.md §5), so passwords are
printable ASCII.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

DIGEST_REALM = "Ayni"
MIN_PASSWORD_LENGTH = 10
# Central's limit (bcrypt's 72 bytes), which is also the longest password
# zxcvbn judges; argon2 needs none.
MAX_PASSWORD_LENGTH = 72
MIN_SCORE = 3  # Central refuses scores 0-2
_PRINTABLE = frozenset(string.printable) - frozenset("\t\n\r\x0b\x0c")
_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified when there is no such user, so that an unknown login takes as long
# as a wrong password and timing tells nobody which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))

# zxcvbn's advice, in Spanish (it speaks English only).
_ADVICE_ES = {
    "Use a few words, avoid common phrases.": (
        "Use varias palabras y evite frases comunes."
    ),
    "No need for symbols, digits, or uppercase letters.": (
        "No hacen falta símbolos, números ni mayúsculas."
    ),
    "Add another word or two. Uncommon words are better.": (
        "Agregue una o dos palabras más; mejor si son poco comunes."
    ),
    "Straight rows of keys are easy to guess.": (
        "Las filas seguidas del teclado son fáciles de adivinar."
    ),
    "Short keyboard patterns are easy to guess.": (
        "Los patrones cortos del teclado son fáciles de adivinar."
    ),
    "Use a longer keyboard pattern with more turns.": (
        "Use un patrón de teclado más largo y con más giros."
    ),
    'Repeats like "aaa" are easy to guess.': (
        "Las repeticiones como «aaa» son fáciles de adivinar."
    ),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "Las repeticiones como «abcabcabc» casi no son más difíciles que «abc»."
    ),
    "Avoid repeated words and characters.": "Evite repetir palabras y caracteres.",
    'Sequences like "abc" or "6543" are easy to guess.': (
        "Las secuencias como «abc» o «6543» son fáciles de adivinar."
    ),
    "Avoid sequences.": "Evite las secuencias.",
    "Recent years are easy to guess.": "Los años recientes son fáciles de adivinar.",
    "Avoid recent years.": "Evite los años recientes.",
    "Avoid years that are associated with you.": "Evite años relacionados con usted.",
    "Dates are often easy to guess.": "Las fechas suelen ser fáciles de adivinar.",
    "Avoid dates and years that are associated with you.": (
        "Evite fechas y años relacionados con usted."
    ),
    "This is a top-10 common password.": ("Es una de las 10 contraseñas más usadas."),
    "This is a top-100 common password.": ("Es una de las 100 contraseñas más usadas."),
    "This is a very common password.": "Es una contraseña muy común.",
    "This is similar to a commonly used password.": (
        "Se parece a una contraseña muy usada."
    ),
    "A word by itself is easy to guess.": "Una palabra sola es fácil de adivinar.",
    "Names and surnames by themselves are easy to guess.": (
        "Los nombres y apellidos solos son fáciles de adivinar."
    ),
    "Common names and surnames are easy to guess.": (
        "Los nombres y apellidos comunes son fáciles de adivinar."
    ),
    "Capitalization doesn't help very much.": "Las mayúsculas ayudan poco.",
    "All-uppercase is almost as easy to guess as all-lowercase.": (
        "Todo en mayúsculas es casi tan fácil de adivinar como en minúsculas."
    ),
    "Reversed words aren't much harder to guess.": (
        "Las palabras al revés no son mucho más difíciles de adivinar."
    ),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "Los cambios previsibles como «@» en lugar de «a» ayudan poco."
    ),
}


@dataclass(frozen=True)
class Strength:
    """Why a password is refused (None: it is acceptable)."""

    problem: str | None  # "short", "long", "characters", "weak"
    score: int  # zxcvbn's 0-4 (0 when not judged)
    advice_es: str = ""
    advice_en: str = ""
    # zxcvbn's own feedback, which Central returns in its 400.44 details.
    warning: str = ""
    suggestions: tuple[str, ...] = ()

    @property
    def acceptable(self) -> bool:
        return self.problem is None


def judge_password(password: str) -> Strength:
    if len(password) < MIN_PASSWORD_LENGTH:
        return Strength("short", 0)
    if len(password.encode("utf-8")) > MAX_PASSWORD_LENGTH:
        return Strength("long", 0)
    if not set(password) <= _PRINTABLE:
        return Strength("characters", 0)
    # Imported here: zxcvbn's dictionaries take ~25 MB, which every gunicorn
    # worker would carry for the few requests that set a password.
    from zxcvbn import zxcvbn

    result = zxcvbn(password)
    score = int(result["score"])
    if score >= MIN_SCORE:
        return Strength(None, score)
    feedback = result.get("feedback") or {}
    advice_en = feedback.get("warning") or next(
        iter(feedback.get("suggestions") or []), ""
    )
    advice_es = _ADVICE_ES.get(advice_en, "Agregue palabras poco comunes.")
    return Strength(
        "weak",
        score,
        advice_es,
        advice_en or "Add uncommon words.",
        feedback.get("warning") or "",
        tuple(feedback.get("suggestions") or ()),
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an unknown user (no hash) costs the same."""
    try:
        matched = _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def digest_ha1(username: str, password: str, realm: str = DIGEST_REALM) -> str:
    # MD5 is what RFC 2617 Digest and Collect's okhttp-digest speak; it is kept
    # only as HA1 for the Collect login, never as the password hash.
    data = f"{username}:{realm}:{password}".encode()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def generate_password() -> str:
    """A password a coordinator can read aloud and type on a tablet keyboard."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    while True:  # 80 random bits nearly always score 4; never hand out a weak one
        groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
        password = "-".join(groups)
        if judge_password(password).acceptable:
            return password
