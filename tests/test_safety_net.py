"""The safety net: red-flag words in any slot, matched or not, get the red-flag answer in any state.

The phrasings are written the way people speak (British, Indian and Australian words among
them), independently of content/red_flags.yaml: they test the families of terms, not a list.
On the wire, each is sent in a slot of another intent in each conversation state and must get
exactly what the red-flag intent of its kind gets in that state: speech, reprompt, end of
session, session attributes and directives.
"""
from __future__ import annotations

import copy
import logging

import pytest
import yaml

from skill.domain.content import ContentError
from skill.domain.red_flags import RedFlagTerms, normalise
from skill.settings import PROJECT_ROOT
from speech_text import heard

RED_FLAG_FILE = PROJECT_ROOT / "content" / "red_flags.yaml"

PHRASES = {
    "injury": [
        "I fell over on my run and can't get up", "I had a bad fall and my hip is killing me",
        "I tripped on the kerb and now I can't put weight on my leg", "came off my bike and landed on my hip",
        "I slipped on the ice", "I can't stand up", "can't bear weight on it", "I can barely walk",
        "I can hardly walk at all", "I'm not able to walk", "I can't put my foot down",
        "I can't lift my leg off the bed", "I cannot move my leg", "my leg won't move",
        "my leg gave way and I collapsed", "my leg looks shorter than the other one",
        "my foot is turned out and won't straighten", "my leg is sticking out at a weird angle",
        "my hip looks deformed", "I think my hip is dislocated", "my hip popped out",
        "I heard a crack when I landed", "something snapped in my hip", "there was a loud crack",
        "it's bleeding a lot", "I'm bleeding heavily", "I got knocked over by a cyclist",
        "I was hit by a car", "I stacked it on the trail", "I came a cropper on the stairs",
        "took a tumble down the stairs", "I went down hard on the track", "I twisted my leg",
        "I'm unable to stand", "impossible to put any weight on it", "I don't think I can walk",
        "I can't get up off the floor", "I had a fall yesterday", "my knee buckled and I went flying",
    ],
    "infection": [
        "I have a fever", "I've got a temperature", "I'm running a high temp",
        "I'm having fever since yesterday", "I am having temperature and hip pain", "feeling feverish",
        "I feel shivery", "I've got the chills", "I'm shivering and my hip hurts", "I've got the shakes",
        "I feel really unwell", "I'm feeling poorly", "I feel crook", "I feel rough and my hip is sore",
        "I feel like I have the flu", "flu-like and my hip aches", "my hip is hot and swollen",
        "it's red and swollen", "my hip is swollen and hot", "it's warm and swollen", "it's hot to the touch",
        "my hip is burning hot", "my hip is red hot", "it feels like it's on fire", "I'm burning up",
        "sudden severe pain in my hip", "a sudden terrible pain for no reason",
        "terrible pain out of nowhere", "really bad pain out of the blue", "it suddenly got much worse",
        "all of a sudden it's a lot worse", "it's excruciating", "the pain is unbearable", "I'm in agony",
        "agonising pain in my hip", "worst pain I've ever had", "sudden agonizing pain",
        "my hip is hot and swollen and I feel feverish",
    ],
    "nerve": [
        "I'm numb between my legs", "numbness around my bottom", "I can't feel my bum",
        "I've got saddle numbness", "it's numb down there", "it's gone numb around my back passage",
        "I can't control my bladder", "I've lost control of my bowels", "I wet myself", "I peed myself",
        "I weed myself", "I can't pee", "I can't feel when I need to wee", "I'm leaking urine",
        "I've become incontinent", "bladder problems", "trouble with my bowels", "both my legs are weak",
        "both legs feel numb", "my legs feel like jelly", "weakness in both legs", "my leg has gone weak",
        "my leg's gone dead", "my foot has gone numb", "pins and needles in my foot", "my leg is tingling",
        "my toes are tingly", "my foot is cold and pale", "my foot looks blue", "my foot is ice cold",
        "cold white foot", "my leg went numb after I fell", "I've lost feeling in my leg",
        "no feeling in my foot", "my thigh is numb", "I can't feel my leg",
    ],
}
NEGATED = [
    "no fever", "I don't have a fever", "I haven't got a temperature", "no fever or chills",
    "I'm not feverish", "not numb", "my leg isn't numb", "no numbness or tingling", "I didn't fall",
    "I haven't fallen", "I never fell", "no pins and needles", "without any numbness",
    "no bladder or bowel problems", "I'm not bleeding", "there's no blood", "no tingling at all",
    "I've not had a fall", "I don't feel unwell", "I'm not in agony", "nothing's numb",
    "it isn't hot and swollen",
]
BENIGN = [
    "my hip is a bit sore after my run", "it aches on the outside of my hip", "it hurts when I lie on that side",
    "only when I'm lying in bed", "when I fall asleep on my side", "it clicks when I lift my knee",
    "my hip snaps when I walk", "it's stiff in the morning", "a dull ache after long runs", "in my groin",
    "outer hip", "my buttock", "for about two weeks", "a few days", "at 7 in the morning",
    "it's a bit swollen", "it feels tight", "my hip feels warm after running", "I've been doing shorter runs",
    "it turned out to be nothing", "it hurts when I walk up stairs", "I can walk but it aches",
    "I can't walk far without it aching", "tendinitis", "bursitis", "it's worse in the fall",
    "during my run", "after a run", "I can't run as fast", "my legs are tired after the marathon",
    "it clicks and pops", "the cool-down", "it hurts more when it's hot outside", "my legs were shaking after the hill", "a niggle in my hip flexor", "it's a bit achy today",
]
RED_FLAG_INTENT = {"injury": "RedFlagInjuryIntent", "infection": "RedFlagInfectionIntent",
                   "nerve": "RedFlagNerveIntent"}
CASES = [(kind, phrase) for kind, phrases in PHRASES.items() for phrase in phrases]


@pytest.fixture(scope="module")
def terms() -> RedFlagTerms:
    return RedFlagTerms.load(RED_FLAG_FILE)


def test_each_kind_is_tested_with_at_least_thirty_phrasings():
    assert all(len(set(phrases)) >= 30 for phrases in PHRASES.values())


@pytest.mark.parametrize("kind, phrase", CASES, ids=[phrase for _, phrase in CASES])
def test_a_red_flag_phrase_is_found_with_its_kind(terms, kind, phrase):
    assert terms.kind([phrase]) == kind
    assert terms.kind(["outer hip", phrase.upper() + "!"]) == kind     # any slot; case and marks don't matter


@pytest.mark.parametrize("phrase", NEGATED)
def test_a_negated_red_flag_is_not_a_hit(terms, phrase):
    assert terms.kind([phrase]) is None


@pytest.mark.parametrize("phrase, kind", [
    ("no fever but my hip is hot and swollen", "infection"),    # "but" ends the negation
    ("not numb, just tingling", "nerve"),                      # so does a comma
    ("I don't know, I fell", "injury"),
    ("no fever and I can't walk", "injury"),
    ("I'm not sure but I think I wet myself", "nerve"),
])
def test_a_negation_reaches_no_further_than_its_clause(terms, phrase, kind):
    assert terms.kind([phrase]) == kind


@pytest.mark.parametrize("phrase", BENIGN)
def test_an_ordinary_description_is_not_a_hit(terms, phrase):
    assert terms.kind([phrase]) is None


def test_two_kinds_in_one_sentence_get_the_first_in_precedence(terms):
    assert terms.kind(["I fell and now my leg is numb"]) == "nerve"
    assert terms.kind(["I fell", "I've got a fever"]) == "injury"


def test_normalising_expands_contractions_like_the_matcher():
    assert normalise("I CAN'T walk, it\u2019s  numb & I won't") == "i can not walk it is numb & i will not"


# ---------------------------------------------------------------- on the wire

def _description(alexa, phrase, slot_name="feeling"):
    types = {"feeling": "PainFeeling", "location": "PainLocation", "timing": "PainTiming"}
    return "DescribePainIntent", [alexa.slot(slot_name, phrase, slot_type=types[slot_name], no_match=True)]


# (intent, slots) carrying the phrase: custom slots unmatched, built-in ones raw.
CARRIERS = {
    "feeling": lambda alexa, phrase: _description(alexa, phrase, "feeling"),
    "location": lambda alexa, phrase: _description(alexa, phrase, "location"),
    "timing": lambda alexa, phrase: _description(alexa, phrase, "timing"),
    "duration": lambda alexa, phrase: ("DurationIntent", [
        alexa.slot("duration", phrase, slot_type="PainDuration", no_match=True)]),
    "time": lambda alexa, phrase: ("SetReminderIntent", [alexa.slot("time", phrase)]),
    "condition": lambda alexa, phrase: ("ConditionIntent", [
        alexa.slot("condition", phrase, slot_type="HipCondition", no_match=True)]),
    "routine": lambda alexa, phrase: ("StartRoutineIntent", [
        alexa.slot("routine", phrase, slot_type="StretchRoutine", no_match=True)]),
}


def _triage(alexa):
    alexa.intent("StartTriageIntent")
    alexa.intent("AMAZON.NoIntent")
    alexa.intent("AMAZON.NoIntent")          # now asking where, eliciting DescribePainIntent.location


def _stretching(alexa):
    alexa.intent("StartRoutineIntent", alexa.slot("routine", "cool down", slot_type="StretchRoutine",
                                                  resolved_id="COOL_DOWN"))


STATES = {
    "one-shot": lambda alexa: None,
    "triage": _triage,
    "mid-stretch": _stretching,
    "pending-offer": lambda alexa: alexa.launch(),
    "reminder-question": lambda alexa: alexa.intent("SetReminderIntent"),
}
WIRE_CASES = [(kind, phrase, carrier, state)
              for index, (kind, phrase) in enumerate(CASES)
              for carrier in [list(CARRIERS)[index % len(CARRIERS)]]
              for state in STATES]


def _send(alexa, name, slots, dialog_state="IN_PROGRESS"):
    intent = {"name": name, "confirmationStatus": "NONE", "slots": {s["name"]: s for s in slots}}
    return alexa.send({"type": "IntentRequest", "dialogState": dialog_state, "intent": intent})


def _answer(reply):
    return {"response": reply["response"], "sessionAttributes": reply.get("sessionAttributes")}


def red_flag_answer(alexa, state, kind, name, slots):
    """What the slot-carried phrase gets in `state`, and what the red-flag intent gets there instead."""
    STATES[state](alexa)
    session_id, attributes = alexa.session_id, copy.deepcopy(alexa.attributes)
    carried = _send(alexa, name, slots)
    alexa.session_id, alexa.attributes = session_id, attributes
    return carried, _send(alexa, RED_FLAG_INTENT[kind], [])


@pytest.mark.parametrize("kind, phrase, carrier, state", WIRE_CASES,
                         ids=[f"{state}-{carrier}-{phrase}" for _, phrase, carrier, state in WIRE_CASES])
def test_a_red_flag_in_any_slot_is_answered_exactly_as_its_intent(alexa, kind, phrase, carrier, state):
    name, slots = CARRIERS[carrier](alexa, phrase)
    carried, expected = red_flag_answer(alexa, state, kind, name, slots)
    assert _answer(carried) == _answer(expected)
    assert "911" in heard(carried) and carried["response"]["shouldEndSession"] is True


def test_the_issue_example_is_the_infection_emergency_not_thanks(alexa):
    name, slots = _description(alexa, "my hip is hot and swollen and I feel feverish")
    reply = _send(alexa, name, slots, dialog_state="STARTED")
    assert "joint infection" in heard(reply) and "Thanks for telling me" not in heard(reply)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("phrase", ["no fever or chills", "my hip is a bit sore after my run"])
def test_a_negated_or_ordinary_description_is_not_an_emergency(alexa, state, phrase):
    STATES[state](alexa)
    reply = _send(alexa, *_description(alexa, phrase))
    assert "call 911 now, or" not in heard(reply) and "emergency department" not in heard(reply)


def test_what_was_scanned_reaches_neither_the_log_nor_the_session(alexa, caplog):
    phrase = "I wet myself on the zebra crossing"
    caplog.set_level(logging.DEBUG)
    _triage(alexa)
    reply = _send(alexa, *_description(alexa, phrase, "location"))
    assert "nerves" in heard(reply)
    logged = " ".join(record.getMessage() for record in caplog.records).lower()
    assert "intent" in logged                          # the request was logged, without the words
    for words in ("wet", "myself", "zebra", "crossing"):
        assert words not in logged and words not in str(reply).lower(), words


# ---------------------------------------------------------------- the content file

@pytest.mark.parametrize("mutate, key", [
    (lambda m: m.update(precedence=["nerve", "injury"]), "matching.precedence"),
    (lambda m: m["kinds"].pop("nerve"), "matching.kinds"),
    (lambda m: m["kinds"]["injury"].update(sources=["NHS"]), "matching.kinds.injury.sources"),
    (lambda m: m["kinds"]["infection"]["terms"].insert(0, "(fever"), "matching.kinds.infection.terms.0"),
    (lambda m: m.update(negations=[False, "not"]), "matching.negations"),
])
def test_a_broken_term_file_names_the_key(tmp_path, mutate, key):
    data = yaml.safe_load(RED_FLAG_FILE.read_text(encoding="utf-8"))
    mutate(data["matching"])
    broken = tmp_path / "red_flags.yaml"
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        RedFlagTerms.load(broken)
    assert raised.value.key == key


def test_every_kind_cites_research_sources():
    kinds = yaml.safe_load(RED_FLAG_FILE.read_text(encoding="utf-8"))["matching"]["kinds"]
    research = (PROJECT_ROOT.parent / "shared" / "research" / "triage.md")
    for kind, entry in kinds.items():
        assert entry["sources"], kind
        if research.exists():
            text = research.read_text(encoding="utf-8")
            assert all(f"| {source} |" in text for source in entry["sources"]), kind
