"""The triage table, walked exhaustively through the engine the way the skill drives it.

Every turn passes the state through JSON (as Alexa session attributes do) and goes to a
different engine instance, so a pass proves the engine needs nothing but the state dict.
"""
from __future__ import annotations

import copy
import json
import re
import pytest
import yaml

from skill.domain.content import ContentError, wording_problems
from skill.domain.triage import (
    MAX_OUTCOME_WORDS, MAX_QUESTIONS, Step, TriageEngine, TriageStateError, slot_of,
)
from skill.settings import PROJECT_ROOT

TABLE = PROJECT_ROOT / "content" / "triage.yaml"
SEED = PROJECT_ROOT.parent / "shared" / "seed" / "hip-bone-pain-after-running.txt"
RED_FLAG_QUESTIONS = ("Q1_INJURY", "Q2_WARNING_SIGNS")
EMERGENCY_FOR = {"injury": "EMERGENCY_INJURY", "infection": "EMERGENCY_INFECTION", "nerve": "EMERGENCY_NERVE"}


@pytest.fixture(scope="module")
def engines() -> tuple[TriageEngine, TriageEngine]:
    return TriageEngine.load(TABLE), TriageEngine.load(TABLE)


@pytest.fixture(scope="module")
def engine(engines) -> TriageEngine:
    return engines[0]


@pytest.fixture(scope="module")
def walked(engines) -> list[tuple[list[tuple[str, str]], list[Step]]]:
    return [(path, walk(engines, path)) for path in engines[0].paths()]


def walk(engines, path: list[tuple[str, str]], first: Step | None = None) -> list[Step]:
    """Answer each question on `path` as a slot answer, as the skill's handlers do."""
    steps = [first or engines[0].start()]
    for turn, (question_id, answer) in enumerate(path, start=1):
        assert steps[-1].question is not None, f"ended early on {path}"
        assert steps[-1].question.id == question_id, path
        steps.append(engines[turn % 2].answer(json_round_trip(steps[-1].state), {slot_of(answer): answer}))
    return steps


def json_round_trip(state: dict) -> dict:
    return json.loads(json.dumps(state))


def answers(*ids: str) -> dict[str, str]:
    return {slot_of(answer): answer for answer in ids}


def outcome_of(path: list[tuple[str, str]], steps: list[Step]):
    assert steps[-1].outcome is not None, path
    return steps[-1].outcome


# --- every path ----------------------------------------------------------------------------

def test_every_path_ends_in_an_outcome_within_five_questions(walked):
    assert len(walked) > 100
    for path, steps in walked:
        assert len(path) <= MAX_QUESTIONS, path
        assert steps[-1].question is None and steps[-1].state is None, path
        outcome_of(path, steps)
        for step in steps[:-1]:
            assert step.question is not None and step.outcome is None and step.understood, path


def test_every_outcome_in_the_table_is_reached(walked):
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    reached = {outcome_of(path, steps).id.split("+")[0] for path, steps in walked}
    assert reached == set(table["outcomes"])


def test_every_question_asked_obeys_the_wording_rules(walked):
    for _, steps in walked:
        for step in steps[:-1]:
            question = step.question
            for text in filter(None, (question.prompt, question.reprompt, question.repeat_slowly)):
                assert wording_problems(text) == [], (question.id, text)
                assert text.endswith("?"), (question.id, text)
            if set(question.accepts) <= {"YES", "NO", "UNSURE"}:
                assert question.prompt.endswith("Yes, no, or not sure?"), question.id


def test_every_outcome_spoken_obeys_the_wording_rules(walked):
    for path, steps in walked:
        outcome = outcome_of(path, steps)
        assert wording_problems(outcome.text) == [], outcome.id
        assert "can be associated with" in outcome.text, outcome.id
        assert not re.search(r"\byou (have|'ve got)\b", outcome.text, re.I), outcome.id
        assert "burst" not in outcome.text.lower(), outcome.id
        assert len(outcome.text.split()) <= MAX_OUTCOME_WORDS, outcome.id
        if outcome.is_emergency:
            assert "{emergency_number}" in outcome.text and "I can't call for help" in outcome.text, outcome.id


def test_no_path_gives_an_outcome_without_a_time_to_act(walked):
    timing = re.compile(r"\b(now|straight away|next day or two|next few days|next week|few days)\b")
    for path, steps in walked:
        outcome = outcome_of(path, steps)
        assert timing.search(outcome.text), (outcome.id, outcome.text)


# --- red flags -----------------------------------------------------------------------------

@pytest.mark.parametrize("red_flag_answer", ["YES", "UNSURE"])
def test_yes_or_not_sure_on_a_red_flag_question_always_leads_to_an_emergency(walked, red_flag_answer):
    flagged = [(path, steps) for path, steps in walked
               if any(question in RED_FLAG_QUESTIONS and answer == red_flag_answer for question, answer in path)]
    assert {question for path, _ in flagged for question, answer in path if answer == red_flag_answer} >= set(RED_FLAG_QUESTIONS)
    for path, steps in flagged:
        outcome = outcome_of(path, steps)
        assert outcome.is_emergency and outcome.urgency == "emergency_now", path
        assert not outcome.offers_stretching, path


def test_red_flag_questions_are_always_asked_first(walked):
    for path, _ in walked:
        assert path[0][0] == "Q1_INJURY"
        if path[0][1] == "NO":
            assert path[1][0] == "Q2_WARNING_SIGNS"


@pytest.mark.parametrize("which, expected", [
    ("YES", "EMERGENCY_NERVE"),      # "both" is a yes: some of it is numbness
    ("UNSURE", "EMERGENCY_NERVE"),
    ("NO", "EMERGENCY_INFECTION"),   # only the fever and hot hip
])
def test_the_clarifier_only_picks_which_emergency_script(engines, which, expected):
    steps = walk(engines, [("Q1_INJURY", "NO"), ("Q2_WARNING_SIGNS", "UNSURE"), ("Q2_WHICH_SIGN", which)])
    assert steps[-1].outcome.id == expected


def test_a_red_flag_phrase_in_any_question_state_jumps_to_its_emergency(engine, walked):
    states = {json.dumps(step.state, sort_keys=True): step for _, steps in walked for step in steps[:-1]}
    assert {step.question.id for step in states.values()} >= {"Q1_INJURY", "LOCATION", "PATTERN", "WALK_PAIN", "DURATION"}
    for step in states.values():
        engine.current(step.state)          # the state is live when the phrase arrives
        for kind, expected in EMERGENCY_FOR.items():
            flagged = engine.red_flag(kind)
            assert flagged.outcome.id == expected and flagged.outcome.is_emergency, (step.question.id, kind)
            assert flagged.question is None and flagged.state is None


def test_an_unknown_red_flag_kind_is_a_programming_error(engine):
    with pytest.raises(ValueError, match="unknown red flag"):
        engine.red_flag("headache")


# --- conservative routing ------------------------------------------------------------------

def test_groin_or_thigh_pain_never_ends_in_stretching(walked):
    """Worsening groin pain can be a bone stress injury: never send it to stretching (triage.md 1.2)."""
    for path, steps in walked:
        if ("LOCATION", "GROIN_FRONT") in path or ("LOCATION", "THIGH") in path:
            assert not outcome_of(path, steps).offers_stretching, path


def test_groin_or_thigh_pain_with_running_gets_the_walking_screen_without_a_hop_test(engine, engines):
    for place in ("GROIN_FRONT", "THIGH"):
        for timing in ("DURING_RUN", "AFTER_RUN"):
            prefix = [("Q1_INJURY", "NO"), ("Q2_WARNING_SIGNS", "NO"), ("LOCATION", place), ("PATTERN", timing)]
            screen = walk(engines, prefix)[-1].question
            assert screen.id == "WALK_PAIN" and "don't test it by hopping" in screen.prompt
            for answer in ("YES", "UNSURE"):
                outcome = walk(engines, [*prefix, ("WALK_PAIN", answer)])[-1].outcome
                assert outcome.id == "DOCTOR_1_2_DAYS_BONE_STRESS" and "stop running" in outcome.text
                assert outcome.urgency == "doctor_1_2_days" and not outcome.offers_stretching


def test_walking_pain_in_the_groin_goes_straight_to_the_bone_stress_advice(walked):
    for path, steps in walked:
        if ("PATTERN", "WALKING") in path and ("LOCATION", "OUTER_HIP") not in path and ("LOCATION", "BUTTOCK_BACK") not in path:
            assert outcome_of(path, steps).id == "DOCTOR_1_2_DAYS_BONE_STRESS", path


def test_a_red_or_swollen_hip_is_never_given_self_care(walked):
    """A warm, red hip must not be labelled bursitis (triage.md 1.2, item 8)."""
    for path, steps in walked:
        if ("PATTERN", "SWELLING") in path or ("PATTERN", "REDNESS") in path:
            outcome = outcome_of(path, steps)
            assert outcome.id == "DOCTOR_1_2_DAYS_SWELLING" and outcome.urgency == "doctor_1_2_days", path


def test_stretching_is_offered_only_after_self_care_outcomes(walked):
    offered = {outcome_of(path, steps).id.split("+")[0] for path, steps in walked
               if outcome_of(path, steps).offers_stretching}
    assert offered == {"OUTER_HIP_SELF_CARE", "BUTTOCK_BACK_INFO"}


@pytest.mark.parametrize("duration, urgency, advice", [
    ("FEW_DAYS", "self_care", "a few days"),
    ("ONE_TO_TWO_WEEKS", "self_care", "a few days"),
    ("MORE_THAN_TWO_WEEKS", "doctor_within_week", "within the next week"),
    ("UNSURE", "doctor_within_week", "within the next week"),
])
def test_duration_appends_when_to_see_a_doctor(engines, duration, urgency, advice):
    path = [("Q1_INJURY", "NO"), ("Q2_WARNING_SIGNS", "NO"), ("LOCATION", "OUTER_HIP"),
            ("PATTERN", "LYING_ON_SIDE"), ("DURATION", duration)]
    outcome = walk(engines, path)[-1].outcome
    assert outcome.id.startswith("OUTER_HIP_SELF_CARE+")
    assert outcome.urgency == urgency and advice in outcome.text and outcome.offers_stretching
    assert "inflamed" in outcome.text


def test_outer_hip_pain_is_kept_as_a_session_fact(walked):
    for path, steps in walked:
        outer_hip = ("LOCATION", "OUTER_HIP") in path
        assert steps[-1].facts == ({"outer_hip": True} if outer_hip else {}), path


# --- several answers at once ---------------------------------------------------------------

def test_one_utterance_answering_two_questions_skips_the_second(engine):
    step = engine.start()
    step = engine.answer(step.state, answers("NO"))
    step = engine.answer(step.state, answers("NO"))
    assert step.question.id == "LOCATION"
    step = engine.answer(step.state, answers("OUTER_HIP", "DURING_RUN"))
    assert step.question.id == "DURATION" and step.facts == {"outer_hip": True}
    assert step.state["asked"] == 4


def test_answers_given_before_the_triage_are_used_but_red_flags_are_still_asked(engine):
    step = engine.start(known={"yes_no": "NO", "location": "GROIN_FRONT", "timing": "DURING_RUN"})
    asked = [step.question.id]
    while step.outcome is None:
        step = engine.answer(step.state, answers("NO"))
        asked.append(step.question.id if step.question else step.outcome.id)
    assert asked == ["Q1_INJURY", "Q2_WARNING_SIGNS", "WALK_PAIN", "DOCTOR_FEW_DAYS_GROIN"]


def test_everything_known_up_front_ends_right_after_the_red_flags(engine):
    step = engine.start(known={"location": "OUTER_HIP", "timing": "DURING_RUN", "duration": "FEW_DAYS"})
    step = engine.answer(step.state, answers("NO"))
    step = engine.answer(step.state, answers("NO"))
    assert step.outcome.id == "OUTER_HIP_SELF_CARE+IF_NOT_BETTER" and step.facts == {"outer_hip": True}


def test_a_timing_and_a_feeling_together_take_the_more_cautious_route(engine):
    step = engine.start(known={"location": "OUTER_HIP"})
    step = engine.answer(step.state, answers("NO"))
    step = engine.answer(step.state, answers("NO"))
    assert step.question.id == "PATTERN"
    step = engine.answer(step.state, answers("DURING_RUN", "REDNESS"))
    assert step.outcome.id == "DOCTOR_1_2_DAYS_SWELLING"


def test_the_first_answer_to_a_question_stands(engine):
    step = engine.start(known={"location": "BUTTOCK_BACK"})
    step = engine.answer(step.state, answers("NO"))
    step = engine.answer(step.state, answers("NO"))
    step = engine.answer(step.state, {"location": "GROIN_FRONT", "timing": "DURING_RUN"})
    assert step.question.id == "DURATION"
    assert "lower back" in engine.answer(step.state, answers("FEW_DAYS")).outcome.text


# --- answers that don't fit ----------------------------------------------------------------

@pytest.mark.parametrize("at_path, misfit", [
    ([("Q1_INJURY", "NO"), ("Q2_WARNING_SIGNS", "NO")], {"duration": "FEW_DAYS"}),
    ([("Q1_INJURY", "NO"), ("Q2_WARNING_SIGNS", "NO")], {"yes_no": "YES"}),
    ([], {"location": "OUTER_HIP"}),
    ([], {}),
    ([], {"location": None}),
    ([], {"location": "KNEE"}),
])
def test_an_answer_that_does_not_fit_repeats_the_same_question(engines, at_path, misfit):
    before = walk(engines, at_path)[-1]
    after = engines[1].answer(json_round_trip(before.state), misfit)
    assert not after.understood and after.outcome is None
    assert after.question == before.question and after.state["asked"] == before.state["asked"]


def test_an_early_answer_that_does_not_fit_is_kept_for_later(engine):
    step = engine.start()
    step = engine.answer(step.state, answers("OUTER_HIP"))
    assert not step.understood and step.question.id == "Q1_INJURY" and step.facts == {"outer_hip": True}
    step = engine.answer(step.state, answers("NO"))
    step = engine.answer(step.state, answers("NO"))
    assert step.question.id == "PATTERN"


def test_answer_never_changes_the_state_it_was_given(engine):
    step = engine.start()
    state = engine.answer(step.state, answers("NO")).state
    kept = copy.deepcopy(state)
    engine.answer(state, answers("NO"))
    engine.answer(state, answers("FEW_DAYS"))
    assert state == kept


def test_current_gives_the_question_to_repeat(engine):
    step = engine.answer(engine.start().state, answers("NO"))
    question = engine.current(json_round_trip(step.state))
    assert question.id == "Q2_WARNING_SIGNS"
    assert question.repeat_slowly and "one at a time" in question.repeat_slowly
    assert len(question.reprompt) < len(question.prompt)
    assert engine.current(engine.start().state).repeat_slowly is None


@pytest.mark.parametrize("state", [None, {}, {"at": "NOWHERE", "asked": 1, "answers": {}, "then": None},
                                   {"at": "LOCATION", "asked": "2", "answers": {}, "then": None},
                                   {"at": "DURATION", "asked": 4, "answers": {}, "then": "NOWHERE"}])
def test_a_state_the_table_did_not_make_is_refused(engine, state):
    with pytest.raises(TriageStateError):
        engine.answer(state, answers("NO"))


# --- the graph -----------------------------------------------------------------------------

def test_mermaid_graph_shows_every_node_with_labelled_edges(engine):
    graph = engine.to_mermaid()
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    assert graph.startswith("flowchart TD\n")
    for section in ("questions", "routers", "outcomes"):
        for node_id in table[section]:
            assert re.search(rf"^    {node_id}(__\w+)?[\[{{]", graph, re.M), node_id
    assert '    Q1_INJURY -->|"YES / UNSURE"| EMERGENCY_INJURY' in graph
    assert '|"MORE_THAN_TWO_WEEKS / UNSURE + SEE_DOCTOR_WITHIN_WEEK"| OUTER_HIP_SELF_CARE' in graph
    emergency_class = re.search(r"^    class (\S+) emergency$", graph, re.M).group(1).split(",")
    assert set(EMERGENCY_FOR.values()) <= set(emergency_class)
    assert "classDef emergency" in graph


# --- a broken table stops start-up -----------------------------------------------------------

def _outcome_say(outcome_id: str, text: str):
    return lambda t: t["outcomes"][outcome_id].update(say=text)


@pytest.mark.parametrize("mutate, key, problem", [
    (lambda t: t["questions"]["Q1_INJURY"]["answers"].update(NO="NOWHERE"),
     "questions.Q1_INJURY.answers.NO", "NOWHERE"),
    (lambda t: t["routers"]["BY_PLACE_AND_PATTERN"]["rules"][0].update(go="NOWHERE"),
     "routers.BY_PLACE_AND_PATTERN.rules.0.go", "NOWHERE"),
    (lambda t: t["questions"]["WALK_PAIN"]["answers"].update(NO="DURATION"),
     "questions.DURATION", "at most 5"),
    (lambda t: t["routers"]["BY_PLACE_AND_PATTERN"]["rules"].pop(),
     "routers.BY_PLACE_AND_PATTERN", "no rule matches"),
    (_outcome_say("OUTER_HIP_SELF_CARE", "You have bursitis. Ease back on running."),
     "outcomes.OUTER_HIP_SELF_CARE.say", "diagnosis"),
    (_outcome_say("EMERGENCY_INJURY", "I'll call {emergency_number} for you now."),
     "outcomes.EMERGENCY_INJURY.say", "call for help"),
    (_outcome_say("EMERGENCY_NERVE", "Please go to an emergency department now."),
     "outcomes.EMERGENCY_NERVE.say", "{emergency_number}"),
    (_outcome_say("SNAPPING_INFO", "It can be associated with many things. " * 6),
     "outcomes.SNAPPING_INFO.say", "words"),
    (_outcome_say("SNAPPING_INFO", "It can be associated with a tendon. Please ask {doctor_name}."),
     "outcomes.SNAPPING_INFO.say", "placeholder"),
    (lambda t: t["outcomes"]["SNAPPING_INFO"].pop("source"), "outcomes.SNAPPING_INFO.source", "missing"),
    (lambda t: t["questions"]["LOCATION"]["source"].clear(), "questions.LOCATION.source", "source"),
    (lambda t: t["questions"]["DURATION"].update(reprompt="Say how long."),
     "questions.DURATION.reprompt", "question mark"),
    (lambda t: t["questions"]["LOCATION"]["values"].append("KNEE"), "questions.LOCATION.values", "KNEE"),
    (lambda t: t["outcomes"]["DOCTOR_FEW_DAYS_GROIN"].update(urgency="soonish"),
     "outcomes.DOCTOR_FEW_DAYS_GROIN.urgency", "emergency_now"),
    (lambda t: t["outcomes"].update(ORPHAN={**t["outcomes"]["SNAPPING_INFO"]}), "outcomes.ORPHAN", "never reached"),
    (lambda t: t["red_flags"].update(nerve="SNAPPING_INFO"), "red_flags.nerve", "emergency"),
    (lambda t: t["questions"]["DURATION"]["answers"]["FEW_DAYS"].update(add="NOPE"),
     "questions.DURATION.answers.FEW_DAYS.add", "NOPE"),
])
def test_a_broken_table_raises_content_error_naming_the_key(tmp_path, mutate, key, problem):
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    mutate(table)
    broken = tmp_path / "triage.yaml"
    broken.write_text(yaml.safe_dump(table, sort_keys=False), encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        TriageEngine.load(broken)
    assert raised.value.key == key and problem in raised.value.problem
    assert str(raised.value).startswith(f"{broken}: {key}: ")


def test_bare_yes_and_no_keys_get_a_helpful_error(tmp_path):
    broken = tmp_path / "triage.yaml"
    broken.write_text(TABLE.read_text(encoding="utf-8").replace('"YES": EMERGENCY_INJURY', "YES: EMERGENCY_INJURY"),
                      encoding="utf-8")
    with pytest.raises(ContentError, match='write "YES" and "NO" in quotes'):
        TriageEngine.load(broken)


def test_free_answer_questions_name_the_slot_they_record_and_yes_no_questions_none(engine):
    slots = {}
    for path in engine.paths():
        step = engine.start()
        for question_id, answer in path:
            slots[question_id] = step.question.slot
            step = engine.answer(step.state, {slot_of(answer): answer})
    assert slots == {"Q1_INJURY": None, "Q2_WARNING_SIGNS": None, "Q2_WHICH_SIGN": None, "WALK_PAIN": None,
                     "LOCATION": "location", "PATTERN": "timing", "DURATION": "duration"}


def test_a_question_elicits_the_slot_of_the_first_answer_it_lists(tmp_path):
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    table["questions"]["PATTERN"]["values"].sort(key=lambda answer: answer != "SNAPPING")
    changed = tmp_path / "triage.yaml"
    changed.write_text(yaml.safe_dump(table, sort_keys=False), encoding="utf-8")
    changed_engine = TriageEngine.load(changed)
    step = changed_engine.start()
    for answer in ("NO", "NO", "THIGH"):
        step = changed_engine.answer(step.state, answers(answer))
    assert step.question.id == "PATTERN" and step.question.slot == "feeling"


def test_a_missing_table_names_the_file(tmp_path):
    with pytest.raises(ContentError, match=r"triage\.yaml"):
        TriageEngine.load(tmp_path / "triage.yaml")


# --- sources -------------------------------------------------------------------------------

def _spoken_items(table: dict) -> list[tuple[str, dict]]:
    return [(f"{section}.{item_id}", item) for section in ("questions", "outcomes", "advice")
            for item_id, item in table[section].items()]


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed document is not beside this checkout")
def test_document_quotes_are_in_the_cited_paragraph():
    paragraphs = [" ".join(block.split()) for block in SEED.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    for key, item in _spoken_items(yaml.safe_load(TABLE.read_text(encoding="utf-8"))):
        document = item["source"].get("document")
        if document:
            assert document["quote"] in paragraphs[document["paragraph"] - 1], key


def test_medical_content_cites_more_than_the_interface():
    for key, item in _spoken_items(yaml.safe_load(TABLE.read_text(encoding="utf-8"))):
        if not key.startswith("questions."):
            assert {"document", "supplementary"} & set(item["source"]), key
