"""The grammar source and its expander: the committed model is exactly what the source generates."""
from __future__ import annotations

import json
import re

import pytest

from skill import grammar
from skill.cli import main
from skill.domain.content import Content, read_yaml
from skill.settings import PROJECT_ROOT

MODEL_DIR = PROJECT_ROOT / "interaction_model"
CONTENT_DIR = PROJECT_ROOT / "content"
FAMILIES = {"hip": "(hip|hips)", "run": "(running|a [long] run)", "sore": "<hip> (hurts|aches)"}
LOCALES = grammar.locales()


def generated(locale: str = "en-US") -> dict:
    return grammar.load(locale=locale).to_model(grammar.content_prompt(CONTENT_DIR, locale))


def test_there_is_a_model_for_exactly_the_five_locales() -> None:
    assert LOCALES == ("en-US", "en-AU", "en-CA", "en-GB", "en-IN")
    assert sorted(path.stem for path in MODEL_DIR.glob("*.json")) == sorted(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_committed_model_is_what_the_source_generates(locale: str) -> None:
    assert (MODEL_DIR / f"{locale}.json").read_text(encoding="utf-8") == grammar.render(generated(locale)), \
        "run `make model`"


@pytest.mark.parametrize("locale", LOCALES)
def test_build_model_check_fails_with_a_summary_on_a_hand_edit(locale, tmp_path, monkeypatch, capsys) -> None:
    committed = (MODEL_DIR / f"{locale}.json").read_text(encoding="utf-8")
    model = json.loads(committed)
    causes = next(i for i in model["interactionModel"]["languageModel"]["intents"] if i["name"] == "CausesIntent")
    causes["samples"].append("why is my hip hand edited")
    for other in LOCALES:
        (tmp_path / f"{other}.json").write_text(
            grammar.render(model) if other == locale else (MODEL_DIR / f"{other}.json").read_text(encoding="utf-8"),
            encoding="utf-8")
    monkeypatch.setenv("HIP_HELPER_MODEL_DIR", str(tmp_path))
    assert main(["build-model", "--check"]) == 1
    err = capsys.readouterr().err
    assert f"stale ({locale}): intent CausesIntent: 0 samples to add, 1 to remove" in err
    assert f"{locale}.json differs" in err and "make model" in err and err.count("differs from") == 1
    assert main(["build-model", "--locale", locale]) == 0 and main(["build-model", "--check"]) == 0
    assert (tmp_path / f"{locale}.json").read_text(encoding="utf-8") == committed


def test_build_model_check_fails_on_a_changed_indent(tmp_path, monkeypatch) -> None:
    """Even a formatting-only edit is stale: the committed text is exactly what render() makes."""
    text = (MODEL_DIR / "en-GB.json").read_text(encoding="utf-8")
    (tmp_path / "en-GB.json").write_text(text.replace('\n"', '\n  "', 1), encoding="utf-8")
    monkeypatch.setenv("HIP_HELPER_MODEL_DIR", str(tmp_path))
    assert main(["build-model", "--check", "--locale", "en-GB"]) == 1


def test_build_model_prints_per_intent_counts_and_the_size(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HIP_HELPER_MODEL_DIR", str(tmp_path))
    assert main(["build-model"]) == 0
    out = capsys.readouterr().out
    assert f"{len(grammar.load().intent('RedFlagNerveIntent').samples):6d}  RedFlagNerveIntent" in out
    for locale in LOCALES:
        assert f"bytes  {locale}.json" in out and f"{locale}:" in out
    assert sorted(path.stem for path in tmp_path.glob("*.json")) == sorted(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
def test_model_stays_within_alexas_size_limit(locale: str) -> None:
    assert len(grammar.render(generated(locale)).encode()) <= 1_500_000


def test_render_puts_one_string_a_line_and_indents_the_rest() -> None:
    assert grammar.render({"a": {"samples": ["x y", "z"], "slots": [{"n": 1}], "e": [], "o": {}}}) == (
        '{\n  "a": {\n    "samples": [\n"x y",\n"z"\n    ],\n    "slots": [\n      {\n        "n": 1\n      }\n'
        '    ],\n    "e": [],\n    "o": {}\n  }\n}\n')
    model = generated()
    assert json.loads(grammar.render(model)) == model


def test_dialog_prompts_are_the_content_wording() -> None:
    model = generated()["interactionModel"]
    prompts = {p["id"]: p["variations"][0]["value"] for p in model["prompts"]}
    questions = read_yaml(CONTENT_DIR / "triage.yaml")["questions"]
    triage = {name: " ".join(question["say"].split()) for name, question in questions.items()}
    assert prompts["Elicit.Slot.SetReminderIntent.time"] == Content.load(CONTENT_DIR).say("prompts.questions.reminder_time")
    assert prompts["Elicit.Slot.DurationIntent.duration"] == triage["DURATION"]
    assert prompts["Elicit.Slot.DescribePainIntent.location"] == triage["LOCATION"]


def test_the_compiled_answers_are_what_the_source_says() -> None:
    """The skill reads the triage's answer ids from this compiled file at start-up; a stale one fails here."""
    assert grammar.ANSWERS_FILE.read_text(encoding="utf-8") == grammar.compile_answers()


def test_slot_ids_and_the_slot_carrying_intents() -> None:
    ids = grammar.slot_ids()
    assert ids["yes_no"] == ("YES", "NO", "UNSURE")
    assert ids["duration"] == ("FEW_DAYS", "ONE_TO_TWO_WEEKS", "MORE_THAN_TWO_WEEKS")
    assert [grammar.intent_of_slot(s) for s in ("location", "timing", "feeling", "duration")] == [
        "DescribePainIntent"] * 3 + ["DurationIntent"]
    with pytest.raises(KeyError):
        grammar.intent_of_slot("yes_no")


# --- the expander ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("(what|what's) causes it", ["what causes it", "what's causes it"]),
    ("my [left] hip", ["my left hip", "my hip"]),
    ("a ((long|short) run|jog)", ["a long run", "a short run", "a jog"]),
    ("after [my] run", ["after my run", "after run"]),
    ("why does my <hip> hurt", ["why does my hip hurt", "why does my hips hurt"]),
    ("my <sore>", ["my hip hurts", "my hip aches", "my hips hurts", "my hips aches"]),
    ("  Why   DOES it  hurt ", ["why does it hurt"]),
    ("(it|it) hurts", ["it hurts"]),
    ("it hurts <run>", ["it hurts running", "it hurts a long run", "it hurts a run"]),
    ("in my {place} [please]", ["in my {place} please", "in my {place}"]),
])
def test_expansion(text: str, expected: list[str]) -> None:
    assert grammar.expand(text, FAMILIES, ["place"]) == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("(a|) hurts", "empty alternative"),
    ("my () hip", "empty alternative"),
    ("my <knee> hurts", "undeclared family <knee>"),
    ("in my {knee}", "undeclared slot {knee}"),
    ("is it bad?", "characters Alexa does not accept"),
    ("a&e now", "characters Alexa does not accept"),
    ("my hip, it hurts", "characters Alexa does not accept"),
    ("[after [my] run]", "can expand to nothing"),
    ("(my hip", "missing ')'"),
    ("my hip)", "unbalanced ')'"),
    ("(a|b|c|d|e|f|g|h|i|j) (a|b|c|d|e|f|g|h|i|j) (a|b|c|d|e|f|g|h|i|j) (a|b)", "split it"),
])
def test_expansion_refuses(text: str, problem: str) -> None:
    with pytest.raises(grammar.GrammarError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")) \
            as error:
        grammar.expand(text, FAMILIES, ["place"], where="CausesIntent")
    assert error.value.where == "CausesIntent"


def test_a_self_referring_family_is_refused() -> None:
    with pytest.raises(grammar.GrammarError, match="refers to itself"):
        grammar.expand("<loop>", {"loop": "x <loop>"}, [])


def test_slot_values_may_not_hold_slots() -> None:
    with pytest.raises(grammar.GrammarError, match="cannot appear here"):
        grammar.expand("my {place}", FAMILIES, None)


def source(**intents) -> dict:
    return {
        "invocation_name": "hip helper",
        "families": FAMILIES,
        "types": {"Place": {"GROIN": ["groin", "(my|the) groin"], "SIDE": ["side"]}},
        "intents": intents,
    }


def test_parse_builds_intents_slots_types_and_dialog() -> None:
    parsed = grammar.parse({**source(Describe={
        "slots": {"place": {"type": "Place", "samples": ["{place}", "in (my|the) {place}"]}},
        "samples": ["my <hip> hurts in the {place}"],
    }), "dialog": {"Describe": {"place": "prompts.questions.reminder_time"}},
        "triage_answers": {"place": "Describe"}})
    model = parsed.to_model(grammar.content_prompt(CONTENT_DIR))["interactionModel"]
    intent = model["languageModel"]["intents"][0]
    assert intent["samples"] == ["my hip hurts in the {place}", "my hips hurts in the {place}"]
    assert intent["slots"][0]["samples"] == ["{place}", "in my {place}", "in the {place}"]
    assert model["languageModel"]["types"][0]["values"][0] == {
        "id": "GROIN", "name": {"value": "groin", "synonyms": ["my groin", "the groin"]}}
    assert model["dialog"]["intents"][0]["slots"][0]["prompts"] == {"elicitation": "Elicit.Slot.Describe.place"}
    assert parsed.slot_ids() == {"place": ("GROIN", "SIDE")}


@pytest.mark.parametrize(("intents", "where", "problem"), [
    ({"A": {"slots": {"place": {"type": "Place"}}, "samples": ["{place}"]}}, "A", "only slots"),
    ({"A": {"slots": {"p": {"type": "Place"}, "q": {"type": "Place"}}, "samples": ["[{p}] {q}"]}}, "A", "only slots"),
    ({"A": {"samples": ["my <hip> hurts"]}, "B": {"samples": ["my hips hurts"]}}, "B", "also a sample of A"),
    ({"A": {"slots": {"p": {"type": "Place"}}, "samples": ["in my {p}"]},
      "B": {"slots": {"q": {"type": "Place"}}, "samples": ["in my {q}"]}}, "B", "also a sample of A"),
    ({"A": {"slots": {"p": {"type": "Knee"}}, "samples": ["in my {p}"]}}, "A", "undeclared slot type"),
    ({"A": {"slots": {"p": {"type": "Place", "samples": ["in my groin"]}}, "samples": ["in my {p}"]}},
     "A.p", "must hold"),
])
def test_parse_refuses(intents: dict, where: str, problem: str) -> None:
    with pytest.raises(grammar.GrammarError, match=problem) as error:
        grammar.parse(source(**intents))
    assert error.value.where == where


def test_a_spoken_form_in_two_values_is_refused() -> None:
    bad = source(A={"samples": ["hello"]})
    bad["types"]["Place"]["SIDE"] = ["side", "the groin"]
    with pytest.raises(grammar.GrammarError, match="also a spoken form of GROIN"):
        grammar.parse(bad)


def test_an_id_in_two_answer_slots_is_refused() -> None:
    bad = {**source(A={"slots": {"p": {"type": "Place"}}, "samples": ["in my {p}"]}),
           "triage_answers": {"p": "A", "yes_no": {"GROIN": "AMAZON.YesIntent"}}}
    with pytest.raises(grammar.GrammarError, match="id used by p and yes_no"):
        grammar.parse(bad)


def test_a_dialog_prompt_must_be_a_content_item() -> None:
    parsed = grammar.parse({**source(A={"slots": {"p": {"type": "Place"}}, "samples": ["in my {p}"]}),
                            "dialog": {"A": {"p": "prompts.questions.no_such_item"}}})
    with pytest.raises(grammar.GrammarError, match="no content item"):
        parsed.to_model(grammar.content_prompt(CONTENT_DIR))


def test_spellings_that_sound_the_same_are_kept_once_in_their_first_form() -> None:
    parsed = grammar.parse(source(Stand={"samples": ["(i can't|i cannot|i can not) stand", "i'm (sore|stiff)",
                                                      "i am sore"]}))
    assert parsed.intent("Stand").samples == ("i can't stand", "i'm sore", "i'm stiff")


# --- locale layers -------------------------------------------------------------------------------

LAYER_SOURCE = {"families": {"doc": "(a doctor)"}, "types": {"Place": {"GROIN": ["groin"]}}}


def test_a_layer_adds_or_replaces_family_alternatives_and_synonyms() -> None:
    layered = grammar.apply_layer(LAYER_SOURCE, {
        "families": {"doc": {"add": "a gp|a physio"}},
        "types": {"Place": {"GROIN": {"add": ["front of my hip"]}}}}, "en-GB.yaml")
    assert grammar.expand("see <doc>", layered["families"], []) == ["see a doctor", "see a gp", "see a physio"]
    assert layered["types"]["Place"]["GROIN"] == ["groin", "front of my hip"]
    replaced = grammar.apply_layer(LAYER_SOURCE, {"families": {"doc": {"replace": "(a physician)"}}}, "x.yaml")
    assert replaced["families"]["doc"] == "(a physician)"
    assert LAYER_SOURCE["types"]["Place"]["GROIN"] == ["groin"]  # the shared source is untouched


@pytest.mark.parametrize(("layer", "problem"), [
    ({"intents": {}}, "only families and types"),
    ({"families": {"nurse": {"add": "a nurse"}}}, "not a family of the shared source"),
    ({"types": {"Place": {"KNEE": {"add": ["knee"]}}}}, "not a slot value of the shared source"),
    ({"types": {"Side": {"LEFT": {"add": ["left"]}}}}, "not a slot value of the shared source"),
    ({"families": {"doc": "a gp"}}, "write {add: ...} or {replace: ...}"),
    ({"families": {"doc": {"add": "a gp", "replace": "a gp"}}}, "write {add: ...} or {replace: ...}"),
])
def test_a_layer_cannot_change_the_shape_of_the_model(layer: dict, problem: str) -> None:
    with pytest.raises(grammar.GrammarError, match=re.escape(problem)):
        grammar.apply_layer(LAYER_SOURCE, layer, "en-XX.yaml")


def test_an_unknown_locale_is_refused() -> None:
    with pytest.raises(grammar.GrammarError, match="no such locale layer"):
        grammar.load(locale="en-NZ")
