"""The console's languages: Spanish by default, English on request.

Every text the console shows is in `app.web.catalogue.CATALOGUE`, one key per
text with its Spanish and English side by side. A plain dict rather than
Flask-Babel: two languages and a few hundred texts need no gettext toolchain
(extract, compile .mo, ship binaries), the pair can be reviewed on one line by
the CdP, and a test checks that every key used in a template or a view exists
in both languages. Uru-Chipaya is not offered: domain.md §7 forbids inventing
translations until the GAIOC supplies them.

The language comes from `?lang=es|en` (remembered in a cookie), else the
cookie, else Spanish; the browser's Accept-Language is ignored on purpose,
since the console is Spanish first whatever the laptop's setting.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, g, has_request_context, request

from app.web.catalogue import CATALOGUE

LANGUAGES = ("es", "en")
DEFAULT_LANG = "es"
COOKIE = "ayni_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def requested_lang() -> str | None:
    asked = request.args.get("lang")
    return asked if asked in LANGUAGES else None


def current_lang() -> str:
    if not has_request_context():
        return DEFAULT_LANG
    found = getattr(g, "lang", None)
    if found is None:
        cookie = request.cookies.get(COOKIE)
        found = requested_lang() or (cookie if cookie in LANGUAGES else DEFAULT_LANG)
        g.lang = found
    return found  # type: ignore[no-any-return]


def remember_lang(response: Response) -> Response:
    """Keep a `?lang=` choice in a cookie (after_request)."""
    asked = requested_lang()
    if asked is not None and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE, asked, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True
        )
    return response


def translate(key: str, lang: str, **params: object) -> str:
    pair = CATALOGUE.get(key)
    if pair is None:
        return key  # a missing text shows its key; tests catch it first
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def gettext(key: str, **params: object) -> str:
    return translate(key, current_lang(), **params)


def label_of(labels: Mapping[str, str] | None, fallback: str = "") -> str:
    """A form or choice label in the chosen language, else the other, else
    the form's default (unnamed) language, else `fallback`."""
    labels = labels or {}
    lang = current_lang()
    other = "en" if lang == "es" else "es"
    for key in (lang, other, ""):
        if labels.get(key):
            return labels[key]
    return next((text for text in labels.values() if text), fallback)
