"""The offline NLU evaluation: the committed annotation set, scored against the real model and spoken
to the real skill.

tests/nlu/*.csv is written by hand, the way runners speak, independently of the grammar (nothing
generates it). The figures are printed at the end of the run so `make test` shows them.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

import locales

from skill.cli import main as hip_helper
from skill.settings import DEV_SKILL_ID, PROJECT_ROOT, Settings
from skill.simulator.engine import Simulator
from skill.simulator.envelopes import DeviceProfile
from skill.simulator.evaluate import LAUNCH, ExactMatcher, annotations_from, evaluate, summary_line
from skill.simulator.model import load_model
from skill.simulator.nlu import UtteranceResolver, normalize
from skill.simulator.transport import InProcessTransport

ANNOTATION_FILES = sorted((Path(__file__).parent / "nlu").glob("*.csv"))
LOCALE_SETS = Path(__file__).parent / "nlu" / "locales"
REAL_MODEL = PROJECT_ROOT / "interaction_model" / "en-US.json"
FIXTURE_MODEL = Path(__file__).parent / "fixtures" / "models" / "en-US.json"
RED_FLAG_INTENTS = {"RedFlagInjuryIntent", "RedFlagInfectionIntent", "RedFlagNerveIntent"}
MIN_EXACT_ACCURACY = 0.90


class _Figures:
    """Lines added to pytest's terminal summary, so the figures show even when every test passes."""

    name = "hip-helper-nlu-figures"

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        terminalreporter.section("NLU evaluation (tests/nlu)")
        for line in self.lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def figures(pytestconfig) -> _Figures:
    plugin = pytestconfig.pluginmanager.get_plugin(_Figures.name)
    if plugin is None:
        plugin = _Figures()
        pytestconfig.pluginmanager.register(plugin, _Figures.name)
    return plugin


@pytest.fixture(scope="module")
def model():
    return load_model(REAL_MODEL)


@pytest.fixture(scope="module")
def annotations():
    return annotations_from(ANNOTATION_FILES)


def _red_flags(annotations):
    return [annotation for annotation in annotations if annotation.intent in RED_FLAG_INTENTS]


# ---------------------------------------------------------------- the annotation set itself


def test_the_set_is_large_enough_and_has_no_duplicates(annotations):
    assert len(annotations) >= 400
    assert len(_red_flags(annotations)) >= 150
    by_kind = Counter(annotation.intent for annotation in _red_flags(annotations))
    assert min(by_kind.values()) >= 40, by_kind  # every kind of red flag is well covered
    spoken = Counter(normalize(annotation.utterance) for annotation in annotations)
    assert [utterance for utterance, count in spoken.items() if count > 1] == []


def test_every_annotation_names_an_intent_slot_and_value_the_model_has(annotations, model):
    intents = {intent.name: intent for intent in model.intents}
    matcher = ExactMatcher(model, DEV_SKILL_ID)
    problems = []
    for annotation in annotations:
        if annotation.intent == LAUNCH:
            continue
        intent = intents.get(annotation.intent)
        if intent is None:
            problems.append(f"{annotation.utterance!r}: the model has no {annotation.intent}")
            continue
        slot_types = {slot.name: slot.type for slot in intent.slots}
        for name, value_id in matcher.expected_slots(annotation).items():
            slot_type = model.slot_types.get(slot_types.get(name, ""))
            if name not in slot_types:
                problems.append(f"{annotation.utterance!r}: {annotation.intent} has no slot {name}")
            elif slot_type is not None and value_id not in {value.id for value in slot_type.values}:
                problems.append(f"{annotation.utterance!r}: {slot_type.name} has no value {value_id}")
    assert problems == []


# ---------------------------------------------------------------- accuracy


def test_the_exact_matcher_understands_at_least_90_percent(annotations, model, figures):
    evaluation = evaluate(annotations, ExactMatcher(model, DEV_SKILL_ID))
    figures.lines.append(summary_line(evaluation))
    weak = [f"{name} {passed}/{total}" for name, (passed, total) in evaluation.per_intent().items()
            if passed < MIN_EXACT_ACCURACY * total]
    if weak:
        figures.lines.append("  below 90%: " + ", ".join(weak))
    misses = "\n".join(f"{m.annotation.utterance!r}: expected {m.annotation.intent}, got {m.heard.intent} "
                       f"{'; '.join(m.slot_differences)}" for m in evaluation.misses())
    assert evaluation.accuracy >= MIN_EXACT_ACCURACY, f"{summary_line(evaluation)}\n{misses}"


def test_the_statistical_second_opinion_runs_and_reports(annotations, model, figures):
    pytest.importorskip("sklearn", reason="the `nlu` extra (scikit-learn) is part of `make test`")
    from skill.simulator.statistical import StatisticalMatcher

    evaluation = evaluate(annotations, StatisticalMatcher(model))
    figures.lines.append(summary_line(evaluation))
    pairs = ", ".join(f"{expected} -> {got} ({count})" for (expected, got), count in evaluation.confused_pairs()[:5])
    figures.lines.append(f"  most confused: {pairs}")
    assert evaluation.accuracy > 0.5
    assert evaluation.per_intent().keys() == {annotation.intent for annotation in annotations}


# ---------------------------------------------------------------- red flags, spoken to the real skill


def _emergency_advice(locale: str = "en-US") -> list[str]:
    """The emergency outcomes' words as the user hears them in `locale`, read from its content layers."""
    engine = locales.services(locale).triage
    return [locales.spoken(engine.red_flag(kind).outcome.text, locale) for kind in ("injury", "infection", "nerve")]


@pytest.fixture(scope="module")
def skill_transport(tmp_path_factory) -> InProcessTransport:
    from skill.app import create_app

    db = tmp_path_factory.mktemp("nlu") / "preferences.sqlite3"
    return InProcessTransport(create_app(Settings(skill_id=DEV_SKILL_ID, dev_mode=True, db_path=db)))


@pytest.mark.parametrize("opening", ["open hip helper", None], ids=["after-launch", "first-thing-said"])
def test_every_red_flag_utterance_gets_the_emergency_advice(opening, annotations, model, skill_transport, figures):
    advice = _emergency_advice()
    resolver = UtteranceResolver(model, DEV_SKILL_ID)
    unanswered = []
    red_flags = _red_flags(annotations)
    for annotation in red_flags:
        simulator = Simulator(resolver, skill_transport)
        if opening:
            simulator.say(opening)
        heard = " ".join(simulator.say(annotation.utterance).speech.split())
        if not any(text in heard for text in advice):
            unanswered.append(f"{annotation.utterance!r} -> {heard[:100]!r}")
    answered = len(red_flags) - len(unanswered)
    figures.lines.append(f"red flags answered with emergency advice ({opening or 'as the first thing said'}): "
                         f"{answered} of {len(red_flags)}")
    assert unanswered == [], f"{len(unanswered)} red flags without emergency advice:\n" + "\n".join(unanswered)


# ---------------------------------------------------------------- each locale's own words

# Exact-matcher accuracy on tests/nlu/locales/<locale>.csv, a little under what was measured on the
# commit that added the sets (en-US 22/22, en-CA 20/20, en-GB 24/24, en-AU 18/20, en-IN 19/22).
LOCALE_MINIMUM = {"en-US": 0.95, "en-CA": 0.95, "en-GB": 0.95, "en-AU": 0.85, "en-IN": 0.82}


def test_every_locale_has_its_own_set_of_20_to_30_phrasings():
    assert sorted(path.stem for path in LOCALE_SETS.glob("*.csv")) == sorted(LOCALE_MINIMUM)
    for path in LOCALE_SETS.glob("*.csv"):
        annotations = annotations_from([path])
        assert 20 <= len(annotations) <= 30 and _red_flags(annotations), path.name


@pytest.mark.parametrize("locale", sorted(LOCALE_MINIMUM))
def test_each_locale_understands_its_own_words(locale, figures):
    model = load_model(PROJECT_ROOT / "interaction_model" / f"{locale}.json")
    evaluation = evaluate(annotations_from([LOCALE_SETS / f"{locale}.csv"]), ExactMatcher(model, DEV_SKILL_ID))
    figures.lines.append(f"{locale} (tests/nlu/locales/{locale}.csv) {summary_line(evaluation)}")
    misses = "\n".join(f"{m.annotation.utterance!r}: expected {m.annotation.intent}, got {m.heard.intent}"
                       for m in evaluation.misses())
    assert evaluation.accuracy >= LOCALE_MINIMUM[locale], f"{summary_line(evaluation)}\n{misses}"


@pytest.mark.parametrize("locale", sorted(LOCALE_MINIMUM))
def test_a_locales_red_flags_in_its_own_words_get_the_emergency_advice(locale, skill_transport):
    """Spoken as `hip-helper chat --locale X` speaks them: that locale's model and request locale."""
    advice = _emergency_advice(locale)
    resolver = UtteranceResolver(load_model(PROJECT_ROOT / "interaction_model" / f"{locale}.json"), DEV_SKILL_ID)
    unanswered = []
    for annotation in _red_flags(annotations_from([LOCALE_SETS / f"{locale}.csv"])):
        heard = " ".join(Simulator(resolver, skill_transport, DeviceProfile(locale=locale))
                         .say(annotation.utterance).speech.split())
        if not any(text in heard for text in advice):
            unanswered.append(f"{annotation.utterance!r} -> {heard[:100]!r}")
    assert unanswered == []


def test_evaluate_nlu_scores_against_the_locales_model(capsys):
    """--locale picks interaction_model/<locale>.json: a UK phrasing only the en-GB layer adds."""
    uk = LOCALE_SETS / "en-GB.csv"
    assert hip_helper(["evaluate-nlu", str(uk), "--locale", "en-GB", "--min-accuracy", "0.95"]) == 0
    assert hip_helper(["evaluate-nlu", str(uk), "--locale", "en-US", "--min-accuracy", "0.95"]) == 1
    capsys.readouterr()


# ---------------------------------------------------------------- the evaluate-nlu command


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [["utterance", "referenceTimestamp", "intent", "slot[location]", "slot[day]", "slot[time]"], *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@pytest.fixture
def small_set(tmp_path) -> Path:
    """Three hits (one launch, one one-shot, one relative date) and two misses against the fixture model."""
    return _write_csv(tmp_path / "set.csv", [
        ["open hip helper", "", "LaunchRequest", "", "", ""],
        ["ask hip helper what causes hip pain", "", "CausesIntent", "", "", ""],
        ["remind me to stretch tomorrow at seven am", "2026-12-03T08:00:00Z", "ReminderIntent", "", "2026-12-04",
         "07:00"],
        ["my groin hurts", "", "DescribePainIntent", "OUTER_HIP", "", ""],
        ["what's the score in the game", "", "CausesIntent", "", "", ""],
    ])


def test_evaluate_nlu_prints_per_intent_overall_and_every_miss(small_set, capsys):
    assert hip_helper(["evaluate-nlu", str(small_set), "--model", str(FIXTURE_MODEL)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  CausesIntent +1/2 +50\.0%$", out, re.MULTILINE)
    assert re.search(r"^  LaunchRequest +1/1 +100\.0%$", out, re.MULTILINE)
    assert re.search(r"^  ReminderIntent +1/1 +100\.0%$", out, re.MULTILINE)
    assert "Overall: 3/5 = 60.0%" in out
    assert "CausesIntent -> AMAZON.FallbackIntent: 1" in out
    misses = out.split("Misses (2):\n", 1)[1]
    assert misses == (
        '  "my groin hurts": expected DescribePainIntent, got DescribePainIntent\n'
        "      location: expected OUTER_HIP, got GROIN\n"
        '''  "what's the score in the game": expected CausesIntent, got AMAZON.FallbackIntent\n'''
    )


def test_evaluate_nlu_exits_1_below_the_minimum_accuracy(small_set, capsys):
    assert hip_helper(["evaluate-nlu", str(small_set), "--model", str(FIXTURE_MODEL), "--min-accuracy", "0.6"]) == 0
    assert hip_helper(["evaluate-nlu", str(small_set), "--model", str(FIXTURE_MODEL), "--min-accuracy", "0.61"]) == 1
    assert "FAIL: overall accuracy 60.0% is below 61.0%" in capsys.readouterr().out


def test_custom_slots_compare_by_id_whichever_spoken_form_the_annotation_gives(tmp_path, capsys):
    spoken = _write_csv(tmp_path / "spoken.csv", [["my groin hurts", "", "DescribePainIntent", "front of my hip", "", ""]])
    assert hip_helper(["evaluate-nlu", str(spoken), "--model", str(FIXTURE_MODEL), "--min-accuracy", "1"]) == 0
    assert "Overall: 1/1 = 100.0%" in capsys.readouterr().out


def test_evaluate_nlu_reads_the_json_body_of_amazons_annotation_api(tmp_path, capsys):
    body = {"data": [
        {"inputs": {"utterance": "remind me to stretch tomorrow at seven am", "referenceTimestamp": "2026-12-03T08:00:00Z"},
         "expected": [{"intent": {"name": "ReminderIntent",
                                  "slots": {"time": {"value": "07:00"}, "day": {"value": "2026-12-04"}}}}]},
        {"inputs": {"utterance": "my groin hurts"},
         "expected": [{"intent": {"name": "DescribePainIntent", "slots": {"location": {"value": "GROIN"}}}}]},
    ]}
    path = tmp_path / "set.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert hip_helper(["evaluate-nlu", str(path), "--model", str(FIXTURE_MODEL), "--min-accuracy", "1"]) == 0
    assert "Overall: 2/2 = 100.0%" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ("utterance,intent\n,CausesIntent\n", "needs an utterance and an intent"),
    ("text,label\nhi,CausesIntent\n", "the header needs at least the columns utterance and intent"),
    ("utterance,referenceTimestamp,intent\nhi,yesterday-ish,CausesIntent\n", "is not an ISO 8601 timestamp"),
])
def test_a_broken_annotation_file_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "broken.csv"
    path.write_text(content, encoding="utf-8")
    assert hip_helper(["evaluate-nlu", str(path), "--model", str(FIXTURE_MODEL)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_evaluate_nlu_statistical_reports_confusions(small_set, capsys):
    pytest.importorskip("sklearn", reason="the `nlu` extra (scikit-learn) is part of `make test`")
    assert hip_helper(["evaluate-nlu", str(small_set), "--model", str(FIXTURE_MODEL), "--matcher", "statistical"]) == 0
    out = capsys.readouterr().out
    assert "matcher: statistical (TF-IDF classifier on the samples: an approximation of Alexa, not Alexa)" in out
    assert re.search(r"^Overall: \d/5 = ", out, re.MULTILINE)
