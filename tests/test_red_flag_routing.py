"""Safety: the ways people blurt out an emergency reach a red-flag intent, not a description.

The phrasings are the examples of research/triage.md section 2.1 (E1-E7) and a few more, in
our own words; each goes through the simulator against the real interaction model.
"""
import pytest

from skill.settings import DEV_SKILL_ID, PROJECT_ROOT
from skill.simulator.model import load_model
from skill.simulator.nlu import UtteranceResolver

RED_FLAGS = {
    "RedFlagInjuryIntent": [
        "I fell and can't stand up", "I can't put any weight on my leg", "I can't walk on it",
        "my hip gave way on my run and I can't walk", "I heard a crack and now I can't walk",
        "my hip looks deformed", "my leg looks shorter", "my leg is turned out", "I can't move my leg",
        "I can't lift my leg", "my leg is bleeding badly",
    ],
    "RedFlagInfectionIntent": [
        "I have a fever and my hip is hot", "my hip is hot and I have a fever", "my hip is red and swollen",
        "my hip is hot and I feel shivery", "I have chills and my hip really hurts",
        "sudden terrible pain in my hip for no reason",
        "my hip pain suddenly got much worse and I can hardly move",
    ],
    "RedFlagNerveIntent": [
        "I'm numb between my legs", "I can't feel my groin", "I can't control my bladder",
        "I can't feel when I need to pee", "I wet myself and my back hurts", "both my legs feel weak",
        "my leg has gone numb", "my leg went numb after I fell", "my foot is numb and cold",
        "my foot is cold and tingly",
    ],
}
CASES = [(intent, phrase) for intent, phrases in RED_FLAGS.items() for phrase in phrases]


@pytest.fixture(scope="module", params=("en-US", "en-CA", "en-GB", "en-AU", "en-IN"))
def resolver(request) -> UtteranceResolver:
    """Every locale's model: a layer adds words but must never lose a red flag."""
    return UtteranceResolver(load_model(PROJECT_ROOT / "interaction_model" / f"{request.param}.json"), DEV_SKILL_ID)


@pytest.mark.parametrize("intent, phrase", CASES, ids=[phrase for _, phrase in CASES])
def test_red_flag_phrase_reaches_its_intent(resolver, intent, phrase):
    for said in (phrase, f"ask hip helper {phrase}"):
        understood = resolver.resolve(said)
        assert understood.intent is not None and understood.intent.name == intent, said
