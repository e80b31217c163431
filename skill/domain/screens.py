"""Echo Show screens: the APL documents in content/apl and the data sources they bind to.

Pure: no SDK, no Flask. The documents hold layout only; every visible word arrives through the
`payload` data source built here from the same content the skill speaks. Send a document only
to devices that declare Alexa.Presentation.APL (the handler checks that).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from skill.domain.content import ContentError
from skill.domain.routines import Step

DATASOURCE_NAME = "payload"
_VERSION = re.compile(r"^\d{4}\.\d+$")
_EXPRESSION = re.compile(r"\$\{([^}]*)\}")
_PAYLOAD_REFERENCE = re.compile(rf"\b{DATASOURCE_NAME}\b((?:\.\w+)*)")


def answer_datasource(title: str, text: str, safety: str) -> dict[str, Any]:
    """For content/apl/answer.json: an answer's title and text, and the safety line under it."""
    return {DATASOURCE_NAME: {"title": title, "text": text, "safety": safety}}


def step_datasource(step: Step, safety: str, step_label: str) -> dict[str, Any]:
    """For content/apl/stretch_step.json: the stretch, "Step n of m", its progress bar and the safety line."""
    return {DATASOURCE_NAME: {
        "title": step.title,
        "text": step.screen_text,
        "stepLabel": step_label,
        "safety": safety,
        "progressPercent": round(100 * step.index / step.total),
    }}


# Each document, with a data source its builder makes: every binding must resolve in it.
_SAMPLE_DATASOURCES: dict[str, Callable[[], dict[str, Any]]] = {
    "answer": lambda: answer_datasource("title", "text", "safety"),
    "stretch_step": lambda: step_datasource(
        Step(routine="hips", index=1, total=2, title="title", parts=(), screen_text="text"), "safety", "label"),
}


def load_documents(directory: Path) -> dict[str, dict[str, Any]]:
    """Every APL document by name ("answer", "stretch_step"), checked; ContentError names file and key."""
    documents = {}
    for name, sample in _SAMPLE_DATASOURCES.items():
        path = directory / f"{name}.json"
        document = _read_json(path)
        _check_shape(path, document)
        _check_bindings(path, document, sample())
        documents[name] = document
    return documents


def bindings(document: Any) -> Iterator[tuple[str, str]]:
    """(where, path) for every `${payload...}` reference, e.g. ("mainTemplate.items[0].text", "title")."""
    for where, text in _strings(document, ""):
        for expression in _EXPRESSION.findall(text):
            for reference in _PAYLOAD_REFERENCE.findall(expression):
                yield where, reference.lstrip(".")


def _strings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}" if where else key)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{where}[{index}]")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(path, "(file)", "missing") from None
    except json.JSONDecodeError as error:
        raise ContentError(path, "(file)", f"not valid JSON: {error}") from None


def _check_shape(path: Path, document: Any) -> None:
    if not isinstance(document, dict) or document.get("type") != "APL":
        raise ContentError(path, "type", "an APL document has type 'APL'")
    if not isinstance(document.get("version"), str) or not _VERSION.match(document["version"]):
        raise ContentError(path, "version", "needs an APL version like '2023.3'")
    template = document.get("mainTemplate")
    if not isinstance(template, dict) or template.get("parameters") != [DATASOURCE_NAME]:
        raise ContentError(path, "mainTemplate.parameters", f"must be exactly [{DATASOURCE_NAME!r}]")
    if not isinstance(template.get("items"), list) or not template["items"]:
        raise ContentError(path, "mainTemplate.items", "needs at least one component")


def _check_bindings(path: Path, document: dict[str, Any], datasources: dict[str, Any]) -> None:
    for where, reference in bindings(document):
        if not _resolves(datasources[DATASOURCE_NAME], reference):
            raise ContentError(path, where, f"binds ${{{DATASOURCE_NAME}.{reference}}}, which the data source lacks")


def _resolves(payload: Any, reference: str) -> bool:
    node = payload
    for field in filter(None, reference.split(".")):
        if not isinstance(node, dict) or field not in node:
            return False
        node = node[field]
    return True
