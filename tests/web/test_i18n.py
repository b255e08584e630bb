"""The catalogue: every text the console uses exists in Spanish and English,
and templates carry no text outside it that a browser would fetch."""

from __future__ import annotations

import re
from pathlib import Path

from app.web.catalogue import CATALOGUE

WEB = Path(__file__).resolve().parents[2] / "app" / "web"
_KEY = re.compile(r"""(?:\b_|gettext)\(\s*["']([a-z0-9_.]+)["']""")
# Keys built at run time: every prefix must have all its variants.
DYNAMIC = {
    "state.": ("open", "closing", "closed"),
    "state_help.": ("open", "closing", "closed"),
    "review.": ("received", "hasIssues", "edited", "approved", "rejected"),
    "level.": ("publico", "comunitario", "restringido", "sagrado"),
    "format.": ("csv.zip", "csv", "xlsx", "geojson", "jsonl"),
    "format_help.": ("csv.zip", "csv", "xlsx", "geojson", "jsonl"),
    "role.": ("site_admin", "manager", "analyst", "data_collector", "guardian"),
    "upload.status.": ("created", "new_version", "media_updated", "unchanged"),
    "compass.": ("n", "ne", "e", "se", "s", "so", "o", "no"),
    "error.title.": ("400", "401", "403", "404", "405", "409", "413", "429", "other"),
    "perm_group.": ("permanente", "temporal", "prospectivo", "finalizado"),
    "agg.": ("sin_dato", "no_visible", "sin_mesa", "sin_moneda"),
    "month.": tuple(str(n) for n in range(1, 13)),
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        keys.update(key for key in _KEY.findall(text) if not key.endswith("."))
    for prefix, variants in DYNAMIC.items():
        keys.update(prefix + variant for variant in variants)
    return keys


def test_every_used_key_is_in_the_catalogue():
    missing = sorted(used_keys() - set(CATALOGUE))
    assert missing == []


def test_every_entry_has_spanish_and_english():
    for key, (es, en) in CATALOGUE.items():
        assert es.strip() and en.strip(), key


def test_parameters_match_between_languages():
    field = re.compile(r"\{(\w+)\}")
    for key, (es, en) in CATALOGUE.items():
        assert set(field.findall(es)) == set(field.findall(en)), key


def test_templates_load_nothing_from_outside():
    for path in WEB.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["'](https?:)?//""", text), path
        assert "style=" not in text, path
