"""The Echo Show documents: valid shape, every binding fed by its data source, no baked-in words, small."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from skill.domain.content import Content, ContentError
from skill.domain.routines import Routines
from skill.domain.screens import answer_datasource, bindings, load_documents, step_datasource
from skill.domain.speech import MAX_CARD_CHARS
from skill.settings import PROJECT_ROOT

APL_DIR = PROJECT_ROOT / "content" / "apl"
# Alexa's hard limit is 120 KB for the whole response; 24 KB leaves room for speech and session.
TARGET_DIRECTIVE_BYTES = 24 * 1024
_EXPRESSION = re.compile(r"\$\{[^}]*\}")
_TWO_WORDS = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return load_documents(APL_DIR)


@pytest.fixture(scope="module")
def routines() -> Routines:
    return Routines.load(PROJECT_ROOT / "content" / "stretches.yaml")


@pytest.fixture(scope="module")
def content() -> Content:
    return Content.load(PROJECT_ROOT / "content")


def datasources_for(name: str, routines: Routines) -> dict[str, Any]:
    if name == "answer":
        return answer_datasource("Title", "Text", routines.safety)
    step = routines.step("cool_down", 2, outer_hip_pain=False)
    return step_datasource(step, routines.safety, routines.step_label(step))


def components(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from components(value)
    elif isinstance(node, list):
        for value in node:
            yield from components(value)


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def test_both_documents_load_with_the_apl_shape(documents):
    assert set(documents) == {"answer", "stretch_step"}
    for document in documents.values():
        assert document["type"] == "APL"
        assert re.fullmatch(r"\d{4}\.\d+", document["version"])
        assert document["mainTemplate"]["parameters"] == ["payload"]


@pytest.mark.parametrize("name", ["answer", "stretch_step"])
def test_bindings_and_data_source_fields_match_exactly(documents, routines, name):
    """Every binding has a field to read, and every field the builder makes is shown somewhere."""
    bound = {reference for _, reference in bindings(documents[name])}
    assert bound == set(datasources_for(name, routines)["payload"])


def test_every_visible_text_comes_from_the_data_source(documents):
    for name, document in documents.items():
        texts = [component["text"] for component in components(document) if component.get("type") == "Text"]
        assert texts, name
        for text in texts:
            assert re.fullmatch(r"\$\{payload\.\w+\}", text), f"{name}: {text!r} is baked in"


def test_no_english_sentence_is_baked_into_a_document(documents):
    for name, document in documents.items():
        for text in strings(document):
            outside_bindings = _EXPRESSION.sub("", text)
            assert not _TWO_WORDS.search(outside_bindings), f"{name}: {text!r}"


def test_every_resource_reference_is_defined(documents):
    for name, document in documents.items():
        defined = {key for block in document["resources"] for group in ("colors", "dimensions")
                   for key in block.get(group, {})}
        used = {text[1:] for text in strings(document) if text.startswith("@")}
        assert used and used <= defined, f"{name}: undefined {sorted(used - defined)}"


def test_documents_adapt_to_round_and_small_screens(documents):
    for name, document in documents.items():
        conditions = " ".join(block.get("when", "") for block in document["resources"])
        assert "viewport.shape == 'round'" in conditions, name
        assert "viewport.width" in conditions, name


def test_progress_bar_follows_the_step(routines):
    steps = routines.steps("cool_down", outer_hip_pain=False)
    progress = [step_datasource(step, "s", "l")["payload"]["progressPercent"] for step in steps]
    assert progress == [25, 50, 75, 100]


def test_step_data_source_carries_the_step_and_the_safety_line(routines):
    step = routines.step("hips", 1, outer_hip_pain=True)
    payload = step_datasource(step, routines.safety, routines.step_label(step))["payload"]
    assert payload == {"title": "Kneeling hip flexor stretch", "text": step.screen_text, "stepLabel": "Step 1 of 3.",
                       "safety": routines.safety, "progressPercent": 33}


def render_directive(document: dict, datasources: dict, token: str) -> dict:
    """The RenderDocument directive as it goes on the wire."""
    return {"type": "Alexa.Presentation.APL.RenderDocument", "token": token, "document": document,
            "datasources": datasources}


def test_worst_case_directives_stay_far_under_the_response_limit(documents, routines, content):
    # No answer can be longer than the composer lets Alexa speak or show on a card.
    longest_answer = "word " * (MAX_CARD_CHARS // 5)
    safety = content.say("guidance.full")
    steps = [step for routine in routines.routine_ids for step in routines.steps(routine, outer_hip_pain=False)]
    directives = [render_directive(documents["answer"], answer_datasource("A title", longest_answer, safety), "a")]
    directives += [render_directive(documents["stretch_step"],
                                    step_datasource(step, safety, routines.step_label(step)), "s") for step in steps]
    for directive in directives:
        assert directive["type"] == "Alexa.Presentation.APL.RenderDocument"
        assert len(json.dumps(directive).encode("utf-8")) < TARGET_DIRECTIVE_BYTES


def _broken_copy(tmp_path: Path, name: str, mutate) -> Path:
    for path in APL_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    document = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
    mutate(document)
    (tmp_path / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
    return tmp_path


def _rebind_first_text(document: dict, binding: str) -> None:
    document["mainTemplate"]["items"][0]["items"][0]["text"] = binding


@pytest.mark.parametrize("name, mutate, key", [
    ("answer", lambda d: d.update(type="Layout"), "type"),
    ("answer", lambda d: d.pop("version"), "version"),
    ("stretch_step", lambda d: d["mainTemplate"].update(parameters=["data"]), "mainTemplate.parameters"),
    ("stretch_step", lambda d: _rebind_first_text(d, "${payload.stepNumber}"), "mainTemplate.items[0].items[0].text"),
    ("answer", lambda d: _rebind_first_text(d, "${payload.title.text}"), "mainTemplate.items[0].items[0].text"),
])
def test_broken_documents_name_file_and_key(tmp_path, name, mutate, key):
    with pytest.raises(ContentError) as raised:
        load_documents(_broken_copy(tmp_path, name, mutate))
    assert raised.value.key == key
    assert raised.value.file.endswith(f"{name}.json")


def test_unparsable_document_names_the_file(tmp_path):
    (tmp_path / "answer.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ContentError, match="answer.json.*not valid JSON"):
        load_documents(tmp_path)
