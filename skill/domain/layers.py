"""Content layered by locale, the way ask-sdk looks up a locale's templates: en-GB, then en, then default.

content/<file>.yaml is the default layer: the shared English, said wherever no layer says otherwise.
content/locales/<layer>/<file>.yaml holds only what a language ("en") or a locale ("en-GB") says
differently. A layer can replace a spoken item's words (say, more, source, note) or a data value
(a list of words, a phrase), never add a key the default lacks, and never change what a spoken
item means: its urgency, where it is shown, and the clinical rules beside it (a triage outcome's
urgency and stretching offer) come from the default layer only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.domain.content import ContentError, read_yaml

LAYERS_DIR = "locales"
# What a layer may replace in a spoken item: its words and where they come from.
ITEM_WORDS = frozenset({"say", "more", "source", "note"})


def layer_chain(locale: str | None) -> tuple[str, ...]:
    """The layers laid over the default for `locale`, most general first: ("en", "en-GB")."""
    if not locale:
        return ()
    language = locale.split("-", 1)[0]
    return (language,) if language == locale else (language, locale)


@dataclass(frozen=True)
class Layered:
    """One content file as a locale reads it."""
    path: Path                   # the file errors are reported against: the most specific layer used
    data: Any
    overrides: tuple[str, ...]   # dotted keys a layer replaced, in file order


class ContentLayers:
    """content/ with its locale layers; each file is parsed once, however many locales read it."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._parsed: dict[Path, Any] = {}

    def layers(self) -> tuple[str, ...]:
        """Every layer directory under content/locales, sorted."""
        root = self.directory / LAYERS_DIR
        return tuple(sorted(path.name for path in root.iterdir() if path.is_dir())) if root.is_dir() else ()

    def has_layer(self, name: str, locale: str | None) -> bool:
        """Whether any layer for `locale` changes `name`.yaml."""
        return any(self._layer_path(layer, name).is_file() for layer in layer_chain(locale))

    def read(self, name: str, locale: str | None = None) -> Layered:
        path = self.directory / f"{name}.yaml"
        data = self._parse(path)
        overrides: list[str] = []
        for layer in layer_chain(locale):
            layer_path = self._layer_path(layer, name)
            if layer_path.is_file():
                overlay = self._parse(layer_path)
                if not isinstance(overlay, dict):
                    raise ContentError(layer_path, "(file)", "a layer is a mapping of the keys it changes")
                data = _laid_over(data, overlay, layer_path, "", overrides)
                path = layer_path
        return Layered(path, data, tuple(overrides))

    def _layer_path(self, layer: str, name: str) -> Path:
        return self.directory / LAYERS_DIR / layer / f"{name}.yaml"

    def _parse(self, path: Path) -> Any:
        if path not in self._parsed:
            self._parsed[path] = read_yaml(path)
        return self._parsed[path]


def _laid_over(base: Any, overlay: dict, path: Path, prefix: str, overrides: list[str]) -> dict:
    if not isinstance(base, dict):
        raise ContentError(path, prefix or "(file)", "the default layer has no group here to change")
    merged = dict(base)
    for key, value in overlay.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ContentError(path, dotted, "changes nothing: the default layer has no such key")
        current = base[key]
        if _is_item(current):
            merged[key] = _item_laid_over(current, value, path, dotted)
            overrides.append(dotted)
        elif isinstance(current, dict):
            if not isinstance(value, dict):
                raise ContentError(path, dotted, "the default layer has a group here; change its keys one by one")
            merged[key] = _laid_over(current, value, path, f"{dotted}.", overrides)
        else:
            if current is not None and type(value) is not type(current):
                raise ContentError(path, dotted, f"replaces a {type(current).__name__} with a {type(value).__name__}")
            merged[key] = value
            overrides.append(dotted)
    return merged


def _is_item(value: Any) -> bool:
    return isinstance(value, dict) and "say" in value


def _item_laid_over(base: dict, overlay: Any, path: Path, key: str) -> dict:
    if not _is_item(overlay):
        raise ContentError(path, key, "replaces a spoken item: give its new 'say' and 'source'")
    changed = set(overlay) - ITEM_WORDS
    if changed:
        raise ContentError(path, key, f"a layer changes only an item's words {sorted(ITEM_WORDS)}, "
                                      f"not {sorted(changed)}: those hold for every locale")
    if "more" in base and "more" not in overlay:
        raise ContentError(path, key, "the item has more to say: give the layer's 'more' too")
    words = {name: overlay[name] for name in ITEM_WORDS if name in overlay}
    return {**{name: value for name, value in base.items() if name not in ITEM_WORDS}, **words}
