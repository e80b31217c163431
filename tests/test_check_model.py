"""`hip-helper check-model`: each broken fixture breaks one console rule and is reported on one line."""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from skill.settings import PROJECT_ROOT
from skill.simulator import cli
from skill.simulator.check_model import (Problem, SkillFeatures, check_interaction_model, default_files,
                                         run_check_model)

FIXTURES = Path(__file__).parent / "fixtures" / "models"
BROKEN = FIXTURES / "broken"
# The manifest fixtures describe a skill that creates reminders and sends no APL.
FEATURES = SkillFeatures(uses_reminders=True, uses_apl=False)
REAL_MODEL = PROJECT_ROOT / "interaction_model" / "en-US.json"

EXPECTED_PROBLEM = {
    "invocation-uppercase.json": 'invocationName: "Hip Helper": must be lowercase',
    "invocation-one-word.json": 'invocationName: "hiphelper": needs at least two words',
    "invocation-launch-word.json": 'invocationName: "open hip helper": must not contain the launch word "open"',
    "invocation-wake-word.json": 'invocationName: "alexa hip helper": must not contain the wake word "alexa"',
    "missing-stop-intent.json": "AMAZON.StopIntent: is missing: every custom skill must have it",
    "missing-fallback-intent.json":
        "AMAZON.FallbackIntent: is missing: without it Alexa sends unmatched speech to the closest intent",
    "bad-intent-name.json": "Causes-Intent: intent names may only hold letters and underscores, starting with a letter",
    "unknown-slot-type.json":
        'DescribePainIntent: slot "location" has type "PainPlace", which is neither in types nor an AMAZON built-in',
    "utterance-digits.json": 'CausesIntent: "why does my hip hurt after 5 miles": has digits: spell numbers out',
    "utterance-punctuation.json": 'CausesIntent: "why does my hip hurt?": has "?": only letters, spaces, '
                                  "apostrophes, word-internal hyphens and {Slot} are allowed",
    "undeclared-slot.json": "DescribePainIntent: \"it hurts on my {side}\": {side} is not one of this intent's slots",
    "duplicate-across-intents.json": 'DescribePainIntent: "why does my hip hurt": is also a sample of CausesIntent',
    "duplicate-within-intent.json": 'CausesIntent: "why does  my hip hurt": appears twice in this intent',
    "slot-value-too-long.json": 'PainLocation: "' + "side " * 28 + 'x": is 141 characters '
                                "(slot values and synonyms may have 140)",
    "duplicate-value-id.json": 'PainLocation: "groin": has id "OUTER_HIP", which "outer hip" already uses',
    "missing-elicitation-prompt.json":
        'DescribePainIntent: slot "location": elicitationRequired but no elicitation prompt',
    "unknown-prompt-id.json":
        'DescribePainIntent: slot "location": elicitation prompt "Elicit.Slot.location" is not in prompts',
    "slot-only-sample.json": 'DescribePainIntent: "{location} {side}": is only slot references, so it takes any '
                             "speech as this intent: put it on the slot's own samples and elicit the slot",
    "dialog-slot-not-on-intent.json":
        'DescribePainIntent: slot "timing": is in the dialog model but not a slot of this intent',
    "dialog-slot-type-differs.json":
        'DescribePainIntent: slot "location": has type "AMAZON.City" in the dialog model '
        'but "PainLocation" on the intent',
    "elicited-slot-without-samples.json": 'DescribePainIntent: slot "location": is elicited but none of its slot '
                                          "samples contains {location}, so no answer can fill it",
    "bad-prompt-variation.json":
        'prompt Elicit.Slot.location: "Where does it hurt?": variation type "Text" must be PlainText or SSML',
    "manifest-version.json": 'manifestVersion: must be "1.0", not "2.0"',
    "manifest-http-endpoint.json":
        'endpoint.uri: must start with https:// (it is "http://hip-helper.example.com/alexa")',
    "manifest-self-signed.json": "endpoint.sslCertificateType: SelfSigned certificates are for development "
                                 "only: a published skill needs Trusted or Wildcard",
    "manifest-missing-reminders-permission.json":
        "permissions: the skill creates reminders but does not declare alexa::alerts:reminders:skill:readwrite",
    "manifest-unused-apl.json":
        "apis.custom.interfaces: the skill sends no APL but declares ALEXA_PRESENTATION_APL",
    "manifest-locale-without-model.json": "publishingInformation.locales.en-GB: is listed but models/ has no en-GB.json",
    "manifest-missing-country.json": "distributionCountries: en-US is published but US is not a distribution country",
    "manifest-missing-keywords.json": "publishingInformation.locales.en-US: lacks keywords",
    "manifest-missing-privacy-locale.json": "privacyAndCompliance.locales.en-US: has no privacy and terms links",
    "manifest-example-phrase.json": 'examplePhrases (en-US): "Alexa, ask hip helper to tell me a joke": '
                                    "matches no sample utterance of the interaction model",
}


def check(*paths: Path, features: SkillFeatures = FEATURES) -> tuple[int, list[str]]:
    out = io.StringIO()
    status = run_check_model(paths, features, FIXTURES, out)
    return status, out.getvalue().splitlines()


def problems_in(language_model: dict) -> list[str]:
    """Problems of a model built from the valid fixture with `language_model` keys replaced."""
    document = json.loads((FIXTURES / "en-US.json").read_text())
    document["interactionModel"]["languageModel"].update(language_model)
    return [problem.line("model") for problem in check_interaction_model(document["interactionModel"])]


def test_every_broken_fixture_has_an_expected_problem():
    assert sorted(path.name for path in BROKEN.glob("*.json")) == sorted(EXPECTED_PROBLEM)


@pytest.mark.parametrize("name", sorted(EXPECTED_PROBLEM))
def test_a_broken_fixture_is_reported_once_with_what_is_wrong(name):
    shown = os.path.relpath(BROKEN / name)
    status, lines = check(BROKEN / name)
    assert status == 1
    assert lines == [f"{shown}: {EXPECTED_PROBLEM[name]}", "check-model: 1 problem(s) in 1 of 1 file(s)"]


def test_valid_model_and_manifest_are_ok():
    status, lines = check(FIXTURES / "en-US.json", FIXTURES / "skill.json")
    assert status == 0
    assert lines == [f"{os.path.relpath(FIXTURES / 'en-US.json')}: ok",
                     f"{os.path.relpath(FIXTURES / 'skill.json')}: ok",
                     "check-model: 2 file(s) ok"]


def test_problems_are_counted_across_files():
    status, lines = check(BROKEN / "utterance-digits.json", FIXTURES / "en-US.json", BROKEN / "manifest-version.json")
    assert status == 1
    assert lines[-1] == "check-model: 2 problem(s) in 2 of 3 file(s)"


@pytest.mark.parametrize("name, message", [
    ("the helper", "a two-word name may not contain an article or preposition"),
    ("hip helper two", None),
    ("hip helper 2", "has digits: spell numbers out"),
    ("hip & helper", "may only hold lowercase letters, spaces, apostrophes and periods, starting with a letter"),
    ("runner's hip helper", None),
    ("h. h. hip helper", None),
    ("my hip helper app", 'must not contain the word "app"'),
    ("talk to hip helper", 'must not contain the launch word "talk"'),
    ("hip helper " + "x" * 45, "is 56 characters (2 to 50 allowed)"),
])
def test_invocation_name_rules(name, message):
    expected = [] if message is None else [f'model: invocationName: "{name}": {message}']
    assert [line for line in problems_in({"invocationName": name}) if "invocationName" in line][:1] == expected


@pytest.mark.parametrize("utterance, message", [
    ("what's a t-shirt", None),
    ("the runners' hips", None),
    ("spell it n. b. a.", None),
    ("{location}'s pain", "put the possessive 's inside the slot value, not after the slot"),
    ("pain in {location}side", 'a slot reference must be a word of its own, like {Slot}, not "{location}side"'),
    ("Why does it hurt", "must be lowercase"),
    ("hip.pain", 'periods may only follow single letters, as in "a. b. c."'),
    ("a -hip", '"-hip" has a hyphen or apostrophe outside a word'),
    ("", "is empty"),
])
def test_utterance_character_rules(utterance, message):
    intents = [{"name": "AMAZON.CancelIntent"}, {"name": "AMAZON.HelpIntent"}, {"name": "AMAZON.StopIntent"},
               {"name": "AMAZON.NavigateHomeIntent"}, {"name": "AMAZON.FallbackIntent"},
               {"name": "PainIntent", "slots": [{"name": "location", "type": "AMAZON.City"}], "samples": [utterance]}]
    expected = [] if message is None else [f'model: PainIntent: "{utterance}": {message}']
    assert [line for line in problems_in({"intents": intents}) if line.startswith("model: PainIntent:")] == expected


def test_duplicates_ignore_case_and_slot_names():
    intents = json.loads((FIXTURES / "en-US.json").read_text())["interactionModel"]["languageModel"]["intents"]
    intents.append({"name": "OtherIntent", "slots": [{"name": "where", "type": "PainLocation"}],
                    "samples": ["My {where} hurts"]})
    assert 'model: OtherIntent: "My {where} hurts": is also a sample of DescribePainIntent' in problems_in(
        {"intents": intents})


def test_slot_only_samples_of_different_types_are_different_samples():
    intents = [{"name": n} for n in ("AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent",
                                      "AMAZON.NavigateHomeIntent", "AMAZON.FallbackIntent")]
    intents += [{"name": "WhereIntent", "slots": [{"name": "place", "type": "PainLocation"},
                                                   {"name": "when", "type": "PainTiming"}],
                 "samples": ["{place}", "{when}"]},
                {"name": "HowLongIntent", "slots": [{"name": "span", "type": "PainDuration"}], "samples": ["{span}"]}]
    assert [line for line in problems_in({"intents": intents}) if "is also a sample" in line or "twice" in line] == []


@pytest.mark.parametrize("sample, flagged", [
    ("{time}", True), ("{time} {date}", True), (" {date} ", True),
    ("at {time}", False), ("remind me {date} at {time}", False),
])
def test_an_intent_sample_of_only_slots_is_an_error_but_a_slot_sample_may_be(sample, flagged):
    intents = [{"name": n} for n in ("AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent",
                                      "AMAZON.NavigateHomeIntent", "AMAZON.FallbackIntent")]
    intents.append({"name": "SetReminderIntent", "samples": [sample],
                    "slots": [{"name": "time", "type": "AMAZON.TIME", "samples": ["{time}", "{time} {date}"]},
                              {"name": "date", "type": "AMAZON.DATE"}]})
    expected = [f'model: SetReminderIntent: "{sample}": is only slot references, so it takes any speech as this '
                "intent: put it on the slot's own samples and elicit the slot"] if flagged else []
    assert [line for line in problems_in({"intents": intents}) if "SetReminderIntent" in line] == expected


def test_the_valid_fixture_elicits_with_slot_samples_and_both_prompt_types():
    model = json.loads((FIXTURES / "en-US.json").read_text())["interactionModel"]
    assert {variation["type"] for prompt in model["prompts"] for variation in prompt["variations"]} == {
        "PlainText", "SSML"}
    assert all(slot.get("elicitationRequired") for intent in model["dialog"]["intents"] for slot in intent["slots"])
    assert check_interaction_model(model) == []


def test_intent_count_limit(tmp_path):
    document = json.loads((FIXTURES / "en-US.json").read_text())
    intents = document["interactionModel"]["languageModel"]["intents"]
    intents.extend({"name": f"Extra{chr(65 + i // 26)}{chr(65 + i % 26)}Intent"} for i in range(251 - len(intents)))
    (tmp_path / "big.json").write_text(json.dumps(document))
    status, lines = check(tmp_path / "big.json")
    assert status == 1
    assert any(line.endswith("intents: has 251 intents (at most 250)") for line in lines)


def test_file_size_limit(tmp_path):
    padded = (FIXTURES / "en-US.json").read_text() + " " * (1536 * 1024)
    (tmp_path / "padded.json").write_text(padded)
    status, lines = check(tmp_path / "padded.json")
    assert status == 1
    assert lines[0] == f"{os.path.relpath(tmp_path / 'padded.json')}: is {len(padded)} bytes (at most 1572864, 1.5 MB)"


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON"),
    ('{"something": "else"}', 'is neither an interaction model ("interactionModel") nor a skill manifest'),
    ('{"interactionModel": {"languageModel": {"invocationName": "hip helper", "intents": "none"}}}',
     "has an unexpected structure"),
])
def test_unusable_files_are_one_problem_not_a_traceback(tmp_path, content, message):
    (tmp_path / "odd.json").write_text(content)
    status, lines = check(tmp_path / "odd.json")
    assert status == 1
    assert message in lines[0]


def test_skill_features_are_found_in_the_skill_code(tmp_path):
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "screens.py").write_text('DIRECTIVE = "Alexa.Presentation.APL.RenderDocument"\n')
    (tmp_path / "simulator").mkdir()
    (tmp_path / "simulator" / "check.py").write_text('SCOPE = "alexa::alerts:reminders:skill:readwrite"\n')
    assert SkillFeatures.detect(tmp_path) == SkillFeatures(uses_reminders=False, uses_apl=True)


def test_default_files_are_the_model_directory(tmp_path):
    for name in ("fr-FR.json", "en-US.json", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert [path.name for path in default_files(tmp_path)][:2] == ["en-US.json", "fr-FR.json"]


def test_problem_line_leaves_out_parts_that_do_not_apply():
    assert Problem("is not valid JSON").line("m.json") == "m.json: is not valid JSON"
    assert Problem("x", "CausesIntent", "").line("m.json") == 'm.json: CausesIntent: "": x'


def test_the_command_is_registered_and_exits_1_on_a_problem(capsys):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["check-model", str(BROKEN / "missing-stop-intent.json")])
    assert args.run(args) == 1
    assert "AMAZON.StopIntent: is missing" in capsys.readouterr().out


LOCALES = ("en-AU", "en-CA", "en-GB", "en-IN", "en-US")


def check_model_command(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["check-model", *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = args.run(args)
    return status, out.getvalue()


def test_the_real_models_and_manifest_pass_in_every_locale():
    status, out = check_model_command()
    assert status == 0, out
    assert [line.split(": ")[0] for line in out.splitlines()[:-1]] == [
        *(os.path.relpath(REAL_MODEL.parent / f"{locale}.json") for locale in LOCALES),
        os.path.relpath(PROJECT_ROOT / "deploy" / "skill-package" / "skill.json")]
    assert out.splitlines()[-1] == "check-model: 6 file(s) ok"


@pytest.mark.parametrize("locale", LOCALES)
def test_check_model_locale_checks_that_locales_model_and_the_manifest(locale):
    status, out = check_model_command("--locale", locale)
    assert status == 0, out
    assert out.splitlines()[0] == f"{os.path.relpath(REAL_MODEL.parent / f'{locale}.json')}: ok"
    assert out.splitlines()[-1] == "check-model: 2 file(s) ok"


def test_check_model_locale_without_a_model_fails_and_says_so(capsys):
    status, out = check_model_command("--locale", "en-NZ")
    assert status == 1 and "en-NZ.json: cannot be read" in out
    assert check_model_command("--locale", "en-GB", str(REAL_MODEL))[0] == 2
    assert "either FILE... or --locale" in capsys.readouterr().err
