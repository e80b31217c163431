"""The simulator's utterance resolution, against the small fixture model in tests/fixtures/models."""
from __future__ import annotations

import itertools
import time
from datetime import date
from pathlib import Path

import pytest

from skill.simulator.builtin_slots import canonical_duration, number_to_words, words_to_number
from skill.simulator.model import ModelError, load_model, parse_model
from skill.simulator.nlu import (FALLBACK_INTENT, UnroutableUtterance, UtteranceResolver, builtin_intent_of,
                                 normalize, strip_fillers)

MODEL_PATH = Path(__file__).parent / "fixtures" / "models" / "en-US.json"
SKILL_ID = "amzn1.ask.skill.nlu-tests"
WEDNESDAY = date(2024, 5, 1)


@pytest.fixture(scope="module")
def resolver() -> UtteranceResolver:
    return UtteranceResolver(load_model(MODEL_PATH), SKILL_ID, today=WEDNESDAY)


def intent_of(resolver: UtteranceResolver, utterance: str) -> str:
    return resolver.match_intent(utterance).name


def slot_values(resolver: UtteranceResolver, utterance: str) -> dict[str, str | None]:
    return {name: slot.value for name, slot in resolver.match_intent(utterance).slots.items()}


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("typed, normalized", [
    ("Why does my HIP hurt?!", "why does my hip hurt"),
    ("I\u2019m sore", "i am sore"),
    ("I can't run, it's sore", "i can not run it is sore"),
    ("7:30 a.m.", "7 30 am"),
    ("the runners' hips", "the runners hips"),
    ("  lots   of   space ", "lots of space"),
])
def test_normalize_lowercases_strips_punctuation_and_expands_contractions(typed, normalized):
    assert normalize(typed) == normalized


def test_fillers_go_from_both_ends_but_never_the_whole_utterance():
    assert strip_fillers("um so why does it hurt please") == "why does it hurt"
    assert strip_fillers("okay") == "okay"


# ---------------------------------------------------------------- launch and one-shot


@pytest.mark.parametrize("utterance", [
    "open hip helper", "Alexa, open Hip Helper", "talk to hip helper", "start hip helper",
    "ask hip helper", "launch hip helper please",
])
def test_launch_phrases_open_the_skill(resolver, utterance):
    understanding = resolver.resolve(utterance)
    assert understanding.invoked and understanding.is_launch


@pytest.mark.parametrize("utterance, intent", [
    ("ask hip helper why does my hip hurt", "CausesIntent"),
    ("Alexa, tell hip helper that my groin hurts", "DescribePainIntent"),
    ("ask hip helper about what causes hip pain", "CausesIntent"),
    ("what causes hip pain using hip helper", "CausesIntent"),
    ("ask hip helper to tell me a joke", FALLBACK_INTENT),
])
def test_one_shots_name_the_skill_and_carry_an_intent(resolver, utterance, intent):
    understanding = resolver.resolve(utterance)
    assert understanding.invoked
    assert understanding.intent is not None and understanding.intent.name == intent


def test_an_utterance_without_the_invocation_name_stays_in_the_session(resolver):
    understanding = resolver.resolve("why does my hip hurt")
    assert not understanding.invoked
    assert understanding.intent.name == "CausesIntent"


# ---------------------------------------------------------------- samples and slots


def test_a_synonym_resolves_to_its_value_with_the_skills_authority(resolver):
    intent = resolver.match_intent("it hurts on the side of my hip")
    assert intent.to_json() == {
        "name": "DescribePainIntent",
        "confirmationStatus": "NONE",
        "slots": {
            "location": {
                "name": "location", "value": "side of my hip", "confirmationStatus": "NONE",
                "resolutions": {"resolutionsPerAuthority": [{
                    "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.PainLocation",
                    "status": {"code": "ER_SUCCESS_MATCH"},
                    "values": [{"value": {"name": "outer hip", "id": "OUTER_HIP"}}],
                }]},
            },
            "timing": {"name": "timing", "confirmationStatus": "NONE"},
        },
    }


def test_an_unknown_value_is_still_routed_with_no_match(resolver):
    slot = resolver.match_intent("my elbow hurts").slots["location"]
    assert slot.value == "elbow"
    assert slot.to_json()["resolutions"]["resolutionsPerAuthority"][0]["status"] == {"code": "ER_SUCCESS_NO_MATCH"}
    assert "values" not in slot.to_json()["resolutions"]["resolutionsPerAuthority"][0]
    assert slot.resolved_id is None


def test_a_bare_slot_value_outside_an_elicitation_is_not_an_intent(resolver):
    assert intent_of(resolver, "groin") == FALLBACK_INTENT  # "{location}" is only a slot sample
    assert intent_of(resolver, "tell me a joke") == FALLBACK_INTENT


def test_a_built_in_slot_alone_takes_only_what_it_recognises():
    intents = [{"name": "AMAZON.FallbackIntent"},
               {"name": "AtTimeIntent", "slots": [{"name": "time", "type": "AMAZON.TIME"}], "samples": ["{time}"]}]
    model = parse_model({"interactionModel": {"languageModel": {"invocationName": "hip helper",
                                                                         "intents": intents, "types": []}}})
    bare_time = UtteranceResolver(model, SKILL_ID, today=WEDNESDAY)
    assert slot_values(bare_time, "seven thirty pm") == {"time": "19:30"}
    assert intent_of(bare_time, "tell me a joke") == FALLBACK_INTENT


def test_adjacent_slots_split_where_both_values_resolve(resolver):
    slots = resolver.match_intent("my outer hip after running").slots
    assert (slots["location"].resolved_id, slots["timing"].resolved_id) == ("OUTER_HIP", "AFTER_RUN")


def test_the_sample_with_most_literal_words_wins(resolver):
    assert intent_of(resolver, "why does my outer hip hurt") == "CausesIntent"
    assert intent_of(resolver, "why does my groin hurt") == "DescribePainIntent"


def test_a_sample_whose_slots_resolve_beats_one_with_more_words_that_needs_no_match():
    model = parse_model({"interactionModel": {"languageModel": {
        "invocationName": "hip helper",
        "intents": [
            {"name": "GearIntent", "slots": [{"name": "item", "type": "Gear"}], "samples": ["my {item} hurt"]},
            {"name": "PainIntent", "slots": [{"name": "place", "type": "Place"}], "samples": ["my {place} shoes hurt"]},
        ],
        "types": [{"name": "Gear", "values": [{"id": "NEW_SHOES", "name": {"value": "new shoes"}}]},
                  {"name": "Place", "values": [{"id": "HIP", "name": {"value": "hip"}}]}],
    }}})
    intent = UtteranceResolver(model, SKILL_ID).match_intent("my new shoes hurt")
    assert (intent.name, intent.slots["item"].resolved_id) == ("GearIntent", "NEW_SHOES")


def test_a_built_in_slot_alexa_cannot_convert_is_not_a_recognised_match():
    # "at the park" is free text to AMAZON.TIME; the custom value with fewer literal words is the better match.
    model = parse_model({"interactionModel": {"languageModel": {
        "invocationName": "hip helper",
        "intents": [
            {"name": "ReminderIntent", "slots": [{"name": "time", "type": "AMAZON.TIME"}],
             "samples": ["stretch at {time}"]},
            {"name": "PlaceIntent", "slots": [{"name": "place", "type": "Place"}], "samples": ["stretch {place}"]},
        ],
        "types": [{"name": "Place", "values": [{"id": "PARK", "name": {"value": "at the park"}}]}],
    }}})
    resolver = UtteranceResolver(model, SKILL_ID, today=WEDNESDAY)
    assert intent_of(resolver, "stretch at the park") == "PlaceIntent"
    assert slot_values(resolver, "stretch at seven am") == {"time": "07:00"}


def test_contractions_match_either_way(resolver):
    assert slot_values(resolver, "I am sore on the side")["location"] == "side"
    assert slot_values(resolver, "i'm sore on the groin")["location"] == "groin"


def test_filler_words_around_an_utterance_are_ignored(resolver):
    assert intent_of(resolver, "um, so why does my hip hurt please") == "CausesIntent"


def test_digits_are_spelled_out_to_match_a_literal_sample(resolver):
    assert resolver.match_intent("I ran 20 miles today").name == "LogRunIntent"
    assert slot_values(resolver, "I ran 20 miles today")["distance"] is None


def test_shared_synonyms_resolve_to_every_value_that_has_them():
    model = parse_model({"interactionModel": {"languageModel": {
        "invocationName": "hip helper",
        "intents": [{"name": "PickIntent", "slots": [{"name": "side", "type": "Side"}], "samples": ["pick {side}"]}],
        "types": [{"name": "Side", "values": [
            {"id": "LEFT", "name": {"value": "left", "synonyms": ["this one"]}},
            {"id": "RIGHT", "name": {"value": "right", "synonyms": ["this one"]}},
        ]}],
    }}})
    slot = UtteranceResolver(model, SKILL_ID).match_intent("pick this one").slots["side"]
    values = slot.to_json()["resolutions"]["resolutionsPerAuthority"][0]["values"]
    assert [value["value"]["id"] for value in values] == ["LEFT", "RIGHT"]


# ---------------------------------------------------------------- built-in slot types


@pytest.mark.parametrize("spoken, canonical", [
    ("7 am", "07:00"), ("seven am", "07:00"), ("6 pm", "18:00"), ("six thirty pm", "18:30"),
    ("7:30 p.m.", "19:30"), ("seven oh five in the morning", "07:05"), ("noon", "12:00"),
    ("midnight", "00:00"), ("12 am", "00:00"), ("twelve pm", "12:00"), ("eighteen fifteen", "18:15"),
    ("the evening", "the evening"),  # not a form the simulator knows: passed on as free text
])
def test_amazon_time_gets_alexas_canonical_value(resolver, spoken, canonical):
    assert slot_values(resolver, f"remind me to stretch at {spoken}")["time"] == canonical


@pytest.mark.parametrize("spoken, canonical", [
    ("today", "2024-05-01"), ("tomorrow", "2024-05-02"), ("friday", "2024-05-03"),
    ("wednesday", "2024-05-01"), ("on monday", "2024-05-06"), ("next week", "2024-W19"),
    ("this weekend", "2024-W18-WE"),
])
def test_amazon_date_is_relative_to_the_reference_day(resolver, spoken, canonical):
    slots = slot_values(resolver, f"remind me to stretch {spoken} at 7 am")
    assert (slots["day"], slots["time"]) == (canonical, "07:00")


@pytest.mark.parametrize("spoken, canonical", [("five", "5"), ("5", "5"), ("twenty one", "21"),
                                               ("one hundred and five", "105"), ("lots of", "lots of")])
def test_amazon_number_turns_words_into_digits(resolver, spoken, canonical):
    assert slot_values(resolver, f"i ran {spoken} miles")["distance"] == canonical


@pytest.mark.parametrize("spoken, canonical", [
    ("ten minutes", "PT10M"), ("an hour", "PT1H"), ("two hours and thirty minutes", "PT2H30M"),
    ("three days", "P3D"), ("half an hour", "PT30M"), ("two weeks", "P2W"),
])
def test_amazon_duration_is_iso_8601(spoken, canonical):
    assert canonical_duration(spoken) == canonical


def test_numbers_convert_both_ways():
    assert [words_to_number(text) for text in ("zero", "forty two", "two thousand and twenty four")] == [0, 42, 2024]
    assert words_to_number("a few") is None
    assert [number_to_words(number) for number in (7, 40, 115, 2024)] == [
        "seven", "forty", "one hundred fifteen", "two thousand twenty four"]


# ---------------------------------------------------------------- built-in intents and fallback


@pytest.mark.parametrize("utterance, intent", [
    ("yeah", "AMAZON.YesIntent"), ("sure", "AMAZON.YesIntent"), ("okay", "AMAZON.YesIntent"),
    ("sounds good", "AMAZON.YesIntent"),  # the model's own sample on a built-in
    ("no thanks", "AMAZON.NoIntent"), ("nope", "AMAZON.NoIntent"),
    ("what can I say", "AMAZON.HelpIntent"), ("shut up", "AMAZON.StopIntent"),
    ("never mind", "AMAZON.CancelIntent"), ("go home", "AMAZON.NavigateHomeIntent"),
])
def test_common_phrasings_reach_declared_built_ins(resolver, utterance, intent):
    assert intent_of(resolver, utterance) == intent


def test_built_ins_the_model_does_not_declare_fall_back(resolver):
    assert intent_of(resolver, "start over") == FALLBACK_INTENT


def test_builtin_intent_of_knows_yes_and_no_without_a_model():
    assert [builtin_intent_of(text) for text in ("Yes please", "nah", "maybe")] == [
        "AMAZON.YesIntent", "AMAZON.NoIntent", None]


def test_without_a_fallback_intent_unmatched_speech_is_unroutable():
    model = parse_model({"interactionModel": {"languageModel": {
        "invocationName": "hip helper", "intents": [{"name": "CausesIntent", "samples": ["why"]}]}}})
    with pytest.raises(UnroutableUtterance, match="no sample utterance matches"):
        UtteranceResolver(model, SKILL_ID).match_intent("tell me a joke")


def test_a_file_that_is_not_a_model_is_a_one_line_error(tmp_path):
    path = tmp_path / "en-US.json"
    path.write_text('{"interactionModel": {}}')
    with pytest.raises(ModelError, match="not an Alexa interaction model"):
        load_model(path)


# ---------------------------------------------------------------- speed with a grammar-sized model


def _generated_model(sample_count: int) -> dict:
    """Intents with sample_count samples in all, each a distinct phrase, half of them with a slot."""
    openers = ("why does", "what makes", "how come", "tell me why", "can you say why")
    subjects = ("my hip", "my groin", "the side of my hip", "my outer hip", "my thigh")
    verbs = ("hurt", "ache", "feel sore", "throb", "feel tight", "sting", "burn", "click", "get stiff", "feel weak")
    tails = ("", "after running", "at night", "when i walk", "on the stairs", "in the morning", "after a long run",
             "when i sit", "during my run", "for no reason")
    phrases = [" ".join(filter(None, words)) for words in itertools.product(openers, subjects, verbs, tails)]
    intents: list[dict] = [{"name": FALLBACK_INTENT}]
    per_intent = sample_count // 20
    for number in range(20):
        chunk = phrases[number * per_intent // 2:(number + 1) * per_intent // 2]
        intents.append({"name": f"Generated{number}Intent", "slots": [{"name": "place", "type": "Place"}],
                        "samples": chunk + [f"{phrase} in my {{place}}" for phrase in chunk]})
    places = [{"id": f"PLACE_{n}", "name": {"value": f"spot {n}", "synonyms": [f"area {n}"]}} for n in range(50)]
    return {"interactionModel": {"languageModel": {"invocationName": "hip helper", "intents": intents,
                                                   "types": [{"name": "Place", "values": places}]}}}


def test_a_five_thousand_sample_model_resolves_quickly(capsys):
    document = _generated_model(5000)
    assert sum(len(intent.get("samples", ())) for intent in document["interactionModel"]["languageModel"]["intents"]
               ) == 5000
    started = time.perf_counter()
    # The sample matcher's own speed; generalisation's is in tests/test_simulator_generalise.py.
    resolver = UtteranceResolver(parse_model(document), SKILL_ID, generalise=False)
    built = time.perf_counter() - started
    intents = document["interactionModel"]["languageModel"]["intents"]
    cases = {"how come my thigh feels tight when I sit": FALLBACK_INTENT,  # "feels" is in no sample
             intents[8]["samples"][3]: "Generated7Intent",
             intents[20]["samples"][-1].replace("{place}", "area 7"): "Generated19Intent",
             f"um, {intents[1]['samples'][0]} please": "Generated0Intent",
             "tell me a joke": FALLBACK_INTENT}
    timings = []
    for utterance, intent in cases.items():
        started = time.perf_counter()
        for _ in range(5):
            found = resolver.match_intent(utterance)
        timings.append((time.perf_counter() - started) / 5 * 1000)
        assert found.name == intent
    with capsys.disabled():
        print(f"\n[nlu benchmark] 5000 samples: resolver built in {built * 1000:.0f} ms; "
              f"per utterance {', '.join(f'{ms:.1f}' for ms in timings)} ms (target well under 50 ms)")


def test_the_model_keeps_slot_samples_the_dialog_model_and_prompts():
    model = load_model(MODEL_PATH)
    describe = model.intent("DescribePainIntent")
    assert describe.slot("location").samples == ("{location}", "it's in my {location}", "my {location} {timing}")
    assert describe.samples[0] == "my {location} hurts" and "{location}" not in describe.samples
    dialog = model.dialog_intents["DescribePainIntent"]
    assert [(slot.name, slot.type, slot.elicitation_required, dict(slot.prompts)) for slot in dialog.slots] == [
        ("location", "PainLocation", True, {"elicitation": "Elicit.Slot.location"}),
        ("timing", "PainTiming", True, {"elicitation": "Elicit.Slot.timing"})]
    assert [(variation.type, variation.value) for variation in model.prompts["Elicit.Slot.timing"]] == [
        ("SSML", "<speak>When does it hurt?</speak>")]
    assert "CausesIntent" not in model.dialog_intents


# ---------------------------------------------------------------- carriers and one-shots
def test_a_one_shot_keeps_its_connecting_word_when_the_samples_have_it(tmp_path):
    model = parse_model({"interactionModel": {"languageModel": {
        "invocationName": "hip helper",
        "intents": [{"name": "AMAZON.FallbackIntent", "samples": []},
                    {"name": "ConditionIntent", "slots": [{"name": "condition", "type": "HipCondition"}],
                     "samples": ["about {condition}", "tell me about {condition}"]}],
        "types": [{"name": "HipCondition", "values": [{"id": "TENDINITIS", "name": {"value": "tendinitis"}}]}]}}})
    understood = UtteranceResolver(model, SKILL_ID).resolve("ask hip helper about tendinitis")
    assert understood.invoked and understood.intent.name == "ConditionIntent"
    assert understood.intent.slots["condition"].resolved_id == "TENDINITIS"


@pytest.mark.parametrize(("utterance", "intent"), [
    ("my elbow hurts", "DescribePainIntent"),                  # two carrier words, one unknown word
    ("it hurts on the hot swollen bit", "DescribePainIntent"),  # four carrier words carry any value
    ("my team lost the game again hurts", FALLBACK_INTENT),   # two carrier words cannot carry five unknown ones
])
def test_an_unknown_value_needs_enough_carrier_words_around_it(resolver, utterance, intent):
    assert intent_of(resolver, utterance) == intent
