"""Guided stretch routines: the real content file, walked step by step, and broken copies of it."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from skill.domain.content import Content, ContentError
from skill.domain.routines import MIN_HOLD_SECONDS, Routines, Step
from skill.domain.speech import Pause, SpeechComposer
from skill.settings import PROJECT_ROOT

CONTENT_DIR = PROJECT_ROOT / "content"
STRETCHES = CONTENT_DIR / "stretches.yaml"
SEED = PROJECT_ROOT.parent / "shared" / "seed" / "hip-bone-pain-after-running.txt"
MAX_STEP_WORDS = 60
SLOT_IDS = {"WARM_UP": "warm_up", "COOL_DOWN": "cool_down", "HIPS": "hips"}
_HOLD_CUE = re.compile(r"^Hold for (\d+) seconds\.$")
_BREAK = re.compile(r'<break time="(\d+)(ms|s)"/>')


@pytest.fixture(scope="module")
def routines() -> Routines:
    return Routines.load(STRETCHES)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The file as written, to check the engine against it independently."""
    return yaml.safe_load(STRETCHES.read_text(encoding="utf-8"))


def all_steps(routines: Routines, *, outer_hip_pain: bool) -> list[Step]:
    return [step for routine in routines.routine_ids
            for step in routines.steps(routine, outer_hip_pain=outer_hip_pain)]


def spoken_words(step: Step) -> int:
    return sum(len(part.split()) for part in step.parts if isinstance(part, str))


def walk(routines: Routines, routine: str, *, outer_hip_pain: bool) -> list[Step]:
    """What a user hears saying "next" until the routine ends."""
    visited = []
    index = 1
    while (step := routines.step(routine, index, outer_hip_pain=outer_hip_pain)) is not None:
        visited.append(step)
        index += 1
    return visited


def test_the_three_slot_routines_exist(routines):
    assert set(routines.routine_ids) == set(SLOT_IDS.values())
    for slot_id, routine in SLOT_IDS.items():
        assert routines.routine_for(slot_id) == routine


@pytest.mark.parametrize("slot_id", [None, "", "YOGA"])
def test_no_or_unknown_slot_gets_the_hip_stretches(routines, slot_id):
    assert routines.routine_for(slot_id) == "hips"


def test_every_routine_begins_with_the_safety_line(routines):
    safety = routines.safety
    assert "isn't painful right now" in safety and "stop" in safety and "hurts" in safety
    for routine in routines.routine_ids:
        assert routines.intro(routine).startswith(safety), routine


def test_every_hold_is_a_pause_of_at_least_20_seconds_announced_with_its_length(routines):
    for step in all_steps(routines, outer_hip_pain=False):
        holds = [(part, following) for part, following in zip(step.parts, step.parts[1:])
                 if isinstance(part, str) and _HOLD_CUE.match(part)]
        assert len(holds) == 2, f"{step.title}: one hold per side"
        for cue, pause in holds:
            assert isinstance(pause, Pause), step.title
            assert pause.seconds == int(_HOLD_CUE.match(cue).group(1)) >= MIN_HOLD_SECONDS, step.title


def test_each_side_switch_comes_between_the_two_holds(routines):
    step = routines.step("warm_up", 1, outer_hip_pain=False)
    spoken = [part for part in step.parts if isinstance(part, str)]
    assert spoken[2] == "Let go. Now the other side."
    assert spoken[-1] == "And relax."


def test_steps_are_short_for_the_ear(routines):
    for step in all_steps(routines, outer_hip_pain=False):
        assert spoken_words(step) <= MAX_STEP_WORDS, f"{step.title}: {spoken_words(step)} words"


@pytest.mark.parametrize("outer_hip_pain", [False, True])
def test_walking_a_routine_visits_every_step_once_in_order(routines, raw, outer_hip_pain):
    for routine in routines.routine_ids:
        expected = [raw["stretches"][key]["title"] for key in raw["routines"][routine]["steps"]
                    if not (outer_hip_pain and raw["stretches"][key]["crosses_midline"])]
        visited = walk(routines, routine, outer_hip_pain=outer_hip_pain)
        assert [step.title for step in visited] == expected, routine
        assert [step.index for step in visited] == list(range(1, len(expected) + 1))
        assert {step.total for step in visited} == {len(expected)}
        assert [step.last for step in visited] == [False] * (len(expected) - 1) + [True]


def test_step_zero_is_a_programming_error(routines):
    with pytest.raises(ValueError):
        routines.step("hips", 0, outer_hip_pain=False)


def test_unknown_routine_is_refused(routines):
    with pytest.raises(KeyError, match="yoga"):
        routines.steps("yoga", outer_hip_pain=False)


def test_outer_hip_pain_leaves_out_the_cross_over_stretch(routines):
    for routine in ("cool_down", "hips"):
        with_pain = [step.title for step in routines.steps(routine, outer_hip_pain=True)]
        without = [step.title for step in routines.steps(routine, outer_hip_pain=False)]
        assert "Seated buttock stretch" in without and "Seated buttock stretch" not in with_pain
        assert len(with_pain) == len(without) - 1
        assert routines.leaves_out_for_outer_hip(routine)
    assert not routines.leaves_out_for_outer_hip("warm_up")


def test_no_remaining_stretch_crosses_the_midline_after_outer_hip_pain(routines, raw):
    crossing_titles = {stretch["title"] for stretch in raw["stretches"].values() if stretch["crosses_midline"]}
    assert crossing_titles, "the file must flag at least one cross-over stretch"
    assert not crossing_titles & {step.title for step in all_steps(routines, outer_hip_pain=True)}


def test_the_end_of_a_routine_is_reported_and_closed(routines):
    total = len(routines.steps("cool_down", outer_hip_pain=False))
    assert routines.step("cool_down", total + 1, outer_hip_pain=False) is None
    assert routines.closing("cool_down").startswith("That's the end of your cool-down.")


def test_frame_items_cite_the_document_and_stretches_cite_supplementary_sources(routines):
    items = {item.key: item for item in routines.items()}
    for routine in routines.routine_ids:
        assert items[f"routines.{routine}.intro"].source["document"]["paragraph"] == 8
    instructions = [item for key, item in items.items() if key.endswith(".instruction")]
    assert len(instructions) == 5
    for item in instructions:
        assert item.supplementary and all(re.fullmatch(r"S\d+", s) for s in item.source["supplementary"]), item.key


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed document is not beside this checkout")
def test_document_quotes_are_in_the_cited_paragraph(routines):
    blocks = [" ".join(block.split()) for block in SEED.read_text(encoding="utf-8").split("\n\n")]
    paragraphs = [block for block in blocks if block]
    for item in routines.items():
        document = item.source.get("document")
        if document:
            assert document["quote"] in paragraphs[document["paragraph"] - 1], item.key


def test_prompts_fill_their_placeholders(routines):
    step = routines.step("cool_down", 3, outer_hip_pain=False)
    assert routines.step_label(step) == "Step 3 of 4."
    with pytest.raises(KeyError, match="total"):
        routines.prompt("step_label", step=1)
    with pytest.raises(KeyError, match="nonsense"):
        routines.prompt("nonsense")


def test_prompts_that_keep_the_session_open_are_questions(routines):
    for key in ("next_question", "paused_question"):
        assert routines.prompt(key, step=1, routine="x").endswith("?"), key
    assert "across your body" in routines.prompt("outer_hip_note")
    assert "stretches" in routines.prompt("not_advised")


def test_a_composed_step_obeys_alexas_speech_limits():
    """Intro plus the longest step through the real composer: breaks of at most 10 s, under 8000 chars."""
    content = Content.load(CONTENT_DIR)
    routines = Routines.load(STRETCHES)
    longest = max(all_steps(routines, outer_hip_pain=False), key=spoken_words)
    reply = SpeechComposer(content).compose(
        [routines.intro(longest.routine), *longest.parts], locale="en-GB", full_guidance=True,
        question=routines.prompt("next_question"), card_title=longest.title)
    breaks_ms = [int(value) * (1 if unit == "ms" else 1000) for value, unit in _BREAK.findall(reply.ssml)]
    assert breaks_ms and max(breaks_ms) <= 10_000
    assert sum(breaks_ms) >= 2 * 30_000, "both holds survive into the speech"
    assert len(reply.ssml) <= 8000 and reply.ssml.endswith("Ready for the next one?</speak>")


def _broken_copy(tmp_path: Path, mutate: Callable[[dict], Any]) -> Path:
    data = yaml.safe_load(STRETCHES.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "stretches.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("mutate, key", [
    (lambda d: d["stretches"]["knee_to_chest"]["instruction"].pop("source"),
     "stretches.knee_to_chest.instruction.source"),
    (lambda d: d["stretches"]["standing_thigh"].update(hold_seconds=10), "stretches.standing_thigh.hold_seconds"),
    (lambda d: d["stretches"]["standing_thigh"].update(hold_seconds="thirty"),
     "stretches.standing_thigh.hold_seconds"),
    (lambda d: d["stretches"]["seated_rotation"].pop("crosses_midline"),
     "stretches.seated_rotation.crosses_midline"),
    (lambda d: d["stretches"]["lying_hamstring"].update(screen_text="x" * 200),
     "stretches.lying_hamstring.screen_text"),
    (lambda d: d["slots"].update(HIPS="yoga"), "slots.HIPS"),
    (lambda d: d["routines"]["hips"]["steps"].insert(1, "splits"), "routines.hips.steps[1]"),
    (lambda d: d["routines"]["hips"].update(steps=["seated_rotation"]), "routines.hips.steps"),
    (lambda d: d.update(default_routine="yoga"), "default_routine"),
    (lambda d: d["routines"]["warm_up"]["intro"].update(say="You have bursitis."), "routines.warm_up.intro.say"),
    (lambda d: d["prompts"]["next_question"].update(say="Say next."), "prompts.next_question"),
    (lambda d: d["prompts"]["step_label"].update(say="Step {step} of {doctor}."), "prompts.step_label.say"),
    (lambda d: d["prompts"].pop("outer_hip_note"), "prompts.outer_hip_note"),
    (lambda d: d["cues"]["hold"].update(say="Hold for {step} seconds."), "cues.hold.say"),
])
def test_broken_content_names_file_and_key(tmp_path, mutate, key):
    with pytest.raises(ContentError) as raised:
        Routines.load(_broken_copy(tmp_path, mutate))
    assert raised.value.key.startswith(key), raised.value
    assert raised.value.file.endswith("stretches.yaml")


def test_missing_file_is_a_content_error(tmp_path):
    with pytest.raises(ContentError, match="missing"):
        Routines.load(tmp_path / "stretches.yaml")
