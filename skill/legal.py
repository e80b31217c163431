"""The privacy policy and terms of use pages (GET /privacy, GET /terms), generated from content/legal.yaml.

Plain, well-formed HTML: no scripts, no styles, a lang attribute, a title and headings. The stored-data
list is built from the persistence allow-list, so a stored attribute without a sentence cannot ship.

`link_manifest` points a skill.json's privacy and terms URLs at HIP_HELPER_PUBLIC_BASE_URL, for the
skill-package build (deploy/skill_package.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from skill.domain.content import ContentError, read_yaml, validate_item
from skill.persistence import ALLOWED_ATTRIBUTES
from skill.settings import ENV_PREFIX, SettingsError

PAGES = ("privacy", "terms")
DEFAULT_LAYER = "default"
_PLACEHOLDERS = frozenset({"contact"})


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` laid over `base`: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


@dataclass(frozen=True)
class LegalPages:
    """Every page in every locale the file names, already rendered."""

    html: dict[tuple[str, str], str]  # (page, locale) -> document; locale DEFAULT_LAYER for the fallback

    @classmethod
    def load(cls, path: Path, contact: str, allowed: frozenset[str] = ALLOWED_ATTRIBUTES) -> "LegalPages":
        data = read_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get(DEFAULT_LAYER), dict):
            raise ContentError(path, "(file)", f"needs a '{DEFAULT_LAYER}' layer")
        html = {}
        for locale, layer in data.items():
            if not isinstance(layer, dict):
                raise ContentError(path, locale, "a locale layer is a mapping")
            text = _merged(data[DEFAULT_LAYER], layer)
            renderer = _Renderer(path, locale, text, contact, allowed)
            for page in PAGES:
                html[page, locale] = renderer.page(page)
        return cls(html)

    def render(self, page: str, locale: str | None) -> str:
        """The page in `locale`, or in the default layer's words when the locale has none."""
        return self.html.get((page, locale or ""), self.html[page, DEFAULT_LAYER])


class _Renderer:
    def __init__(self, path: Path, locale: str, text: dict[str, Any], contact: str, allowed: frozenset[str]):
        self._path, self._locale, self._text, self._allowed = path, locale, text, allowed
        self._contact = contact or self._item(text.get("contact_unset"), "contact_unset").say

    def _item(self, raw: Any, key: str):
        return validate_item(self._path, f"{self._locale}.{key}", raw, placeholders=_PLACEHOLDERS)

    def _say(self, raw: Any, key: str) -> str:
        return escape(self._item(raw, key).say.replace("{contact}", self._contact))

    def page(self, name: str) -> str:
        page = self._text.get(name)
        if not isinstance(page, dict) or not isinstance(page.get("sections"), dict):
            raise ContentError(self._path, f"{self._locale}.{name}", "a page needs a title, an intro and sections")
        title = self._say(page.get("title"), f"{name}.title")
        body = [f"<h1>{title}</h1>", f"<p>{self._say(page.get('intro'), f'{name}.intro')}</p>"]
        for section_key, section in page["sections"].items():
            body.extend(self._section(f"{name}.sections.{section_key}", section))
        lang = "en" if self._locale == DEFAULT_LAYER else self._locale
        return ("<!DOCTYPE html>\n"
                f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8" />\n'
                '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
                f"<title>{title}</title>\n</head>\n<body>\n<main>\n"
                + "\n".join(body) + "\n</main>\n</body>\n</html>\n")

    def _section(self, key: str, section: Any) -> list[str]:
        if not isinstance(section, dict) or not isinstance(section.get("paragraphs"), list):
            raise ContentError(self._path, f"{self._locale}.{key}", "a section needs a heading and paragraphs")
        lines = [f'<section id="{escape(key.rsplit(".", 1)[-1])}">',
                 f"<h2>{self._say(section.get('heading'), f'{key}.heading')}</h2>"]
        lines += [f"<p>{self._say(raw, f'{key}.paragraphs.{i}')}</p>" for i, raw in enumerate(section["paragraphs"])]
        if "attributes" in section:
            lines += self._stored(f"{key}.attributes", section["attributes"])
        return lines + ["</section>"]

    def _stored(self, key: str, attributes: Any) -> list[str]:
        """One list item per stored attribute: exactly the persistence allow-list."""
        named = set(attributes) if isinstance(attributes, dict) else set()
        if named != self._allowed:
            raise ContentError(self._path, f"{self._locale}.{key}",
                               f"needs one sentence for each stored attribute {sorted(self._allowed)}; "
                               f"missing {sorted(self._allowed - named)}, not stored {sorted(named - self._allowed)}")
        items = [f'<li data-attribute="{escape(name)}">{self._say(attributes[name], f"{key}.{name}")}</li>'
                 for name in attributes]
        return ["<ul>", *items, "</ul>"]


def page_url(base_url: str, page: str, locale: str) -> str:
    return f"{base_url.rstrip('/')}/{page}?locale={quote(locale)}"


def link_manifest(manifest: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The manifest with every locale's privacy and terms URLs under `base_url`."""
    if not base_url.startswith("https://"):
        raise SettingsError(f"{ENV_PREFIX}PUBLIC_BASE_URL must be an https:// URL (Alexa requires it), not {base_url!r}")
    linked = json.loads(json.dumps(manifest))
    locales = linked["manifest"]["privacyAndCompliance"]["locales"]
    for locale, urls in locales.items():
        urls["privacyPolicyUrl"] = page_url(base_url, "privacy", locale)
        urls["termsOfUseUrl"] = page_url(base_url, "terms", locale)
    return linked
