"""Speech no sample matches still reaches the skill with its words (UnmatchedSpeechIntent, a carrier
and AMAZON.SearchQuery), so the red-flag scan can hear danger the grammar never foresaw."""
from __future__ import annotations

import pytest

from skill.domain.content import Content
from skill.settings import DEV_SKILL_ID, Settings
from skill.simulator.engine import Simulator
from skill.simulator.model import load_model
from skill.simulator.nlu import UtteranceResolver
from skill.simulator.transport import InProcessTransport
from test_nlu_evaluation import _emergency_advice

SETTINGS = Settings()
CONTENT = Content.load(SETTINGS.content_dir)


@pytest.fixture(scope="module")
def resolver() -> UtteranceResolver:
    return UtteranceResolver(load_model(SETTINGS.model_dir / "en-US.json"), DEV_SKILL_ID)


@pytest.fixture
def simulator(resolver, tmp_path) -> Simulator:
    from skill.app import create_app

    app = create_app(Settings(skill_id=DEV_SKILL_ID, dev_mode=True, db_path=tmp_path / "preferences.sqlite3"))
    simulator = Simulator(resolver, InProcessTransport(app))
    simulator.say("open hip helper")
    return simulator


# Written for this test, in words no sample or family was built from.
DANGER = [
    "since lunchtime my left foot has gone a funny pale colour and feels icy",
    "my mate reckons i should ring someone because i have been shivering all night and my hip is burning hot",
]


@pytest.mark.parametrize("utterance", DANGER)
def test_danger_no_sample_foresaw_reaches_the_skill_and_gets_the_emergency_advice(resolver, simulator, utterance):
    assert resolver.match_intent(utterance).name == "UnmatchedSpeechIntent"
    heard = " ".join(simulator.say(utterance).speech.split())
    assert any(advice in heard for advice in _emergency_advice()), heard


def test_anything_else_unmatched_is_answered_as_the_fallback(resolver, simulator):
    assert resolver.match_intent("i fancy a cup of tea").name == "UnmatchedSpeechIntent"
    heard = simulator.say("i fancy a cup of tea").speech
    assert CONTENT.say("prompts.fallback") in heard
    assert not any(advice in heard for advice in _emergency_advice())


def test_a_sample_or_a_generalised_match_always_wins_over_the_carrier(resolver):
    assert resolver.match_intent("i can't put any weight on my leg").name == "RedFlagInjuryIntent"
    assert resolver.match_intent("my hip hurts when i run").name == "DescribePainIntent"
