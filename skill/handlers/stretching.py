"""Hands-free stretching: a routine read step by step, with next, pause, resume and start over.

Progress is remembered between sessions as the routine and the step's place in the full
routine; whether the user reported outer-hip pain is a session fact only, never stored.
"""
from __future__ import annotations

from ask_sdk_model import Response

from skill.handlers.base import Handler
from skill.handlers.turn import OFFER_TRIAGE, Turn
from skill.session_state import FACTS, KNOWN_ANSWERS, ROUTINE

OFFER_NEXT_STRETCH = "next_stretch"
OFFER_RESUME_STRETCH = "resume_stretch"
OFFER_START_STRETCHES = "start_stretches"


def outer_hip_reported(turn: Turn) -> bool:
    """Outer-hip pain said this session, in the triage or in a description."""
    session = turn.session
    return bool(session.get(FACTS, {}).get("outer_hip")) or \
        (session.get(KNOWN_ANSWERS) or {}).get("location") == "OUTER_HIP"


def _titles(turn: Turn, routine: str, outer_hip: bool) -> list[str]:
    return [step.title for step in turn.services.routines.steps(routine, outer_hip_pain=outer_hip)]


def say_step(turn: Turn, routine: str, index: int, lead: list[str]) -> Response:
    """Speak step `index` (1-based, of this session's routine) or, past the end, close the routine."""
    routines = turn.services.routines
    outer_hip = outer_hip_reported(turn)
    step = routines.step(routine, index, outer_hip_pain=outer_hip)
    if step is None:
        turn.session.pop(ROUTINE, None)
        turn.preferences.update(routine=None)
        return turn.say(lead + [routines.closing(routine)], question=None)
    turn.session[ROUTINE] = {"id": routine, "step": index}
    # Remember the place in the full routine, so resuming never depends on a session fact.
    place = _titles(turn, routine, outer_hip=False).index(step.title) + 1
    if not turn.preferences.update(routine={"id": routine, "step": place}) and index == 1:
        lead = lead + [turn.text("prompts.preferences_unavailable")]
    return turn.say(lead + list(step.parts), question=routines.prompt("next_question"),
                    offer=OFFER_NEXT_STRETCH, stretch=step)


def repeat_step(turn: Turn) -> Response:
    """The step under way again, with what was said before it (the routine's intro) when it was
    the last answer: the same words, and the step shown again."""
    current = turn.session[ROUTINE]
    step = turn.services.routines.step(current["id"], current["step"], outer_hip_pain=outer_hip_reported(turn))
    body, parts = turn.last_body(), list(step.parts) if step else []
    lead = body[:-len(parts)] if parts and body[-len(parts):] == parts else []
    return say_step(turn, current["id"], current["step"], lead)


def start_routine(turn: Turn, routine: str) -> Response:
    if turn.session.get(FACTS, {}).get("no_stretching"):
        return turn.ask_more([turn.services.routines.prompt("not_advised")])
    routines = turn.services.routines
    lead = [routines.intro(routine)]
    if outer_hip_reported(turn) and routines.leaves_out_for_outer_hip(routine):
        lead.append(routines.prompt("outer_hip_note"))
    return say_step(turn, routine, 1, lead)


def resume_saved(turn: Turn) -> Response:
    """Carry on where the user stopped, in this session or an earlier one."""
    current = turn.session.get(ROUTINE)
    if current:
        return say_step(turn, current["id"], current["step"], [turn.services.routines.prompt("resumed")])
    saved = turn.preferences.get("routine")
    if not turn.preferences.available:
        return turn.say([turn.text("prompts.preferences_unavailable")],
                        question=turn.text("prompts.questions.start_stretches"), offer=OFFER_START_STRETCHES)
    if not saved or saved.get("id") not in turn.services.routines.routine_ids:
        return turn.say([turn.text("prompts.no_saved_routine")],
                        question=turn.text("prompts.questions.start_stretches"), offer=OFFER_START_STRETCHES)
    routine = saved["id"]
    full = _titles(turn, routine, outer_hip=False)
    kept = _titles(turn, routine, outer_hip=outer_hip_reported(turn))
    # The saved step, or the next one this session keeps (a cross-body stretch may be left out).
    later = [title for title in full[max(saved.get("step", 1), 1) - 1:] if title in kept]
    index = kept.index(later[0]) + 1 if later else len(kept) + 1
    return say_step(turn, routine, index, [turn.services.routines.prompt("resumed")])


class StartRoutine(Handler):
    """"Guide me through my warm-up", "start my cool-down", "stretch my hips"."""

    intents = frozenset({"StartRoutineIntent"})

    def answer(self, turn: Turn) -> Response:
        return start_routine(turn, turn.services.routines.routine_for(turn.slot_id("routine")))


class RoutineControl(Handler):
    """Next, pause and start over while a routine runs in this session."""

    intents = frozenset({"AMAZON.NextIntent", "AMAZON.PauseIntent", "AMAZON.StartOverIntent"})

    def matches(self, turn: Turn) -> bool:
        return ROUTINE in turn.session and super().matches(turn)

    def answer(self, turn: Turn) -> Response:
        name, current = turn.intent_name, turn.session[ROUTINE]
        if name == "AMAZON.NextIntent":
            return say_step(turn, current["id"], current["step"] + 1, [])
        if name == "AMAZON.StartOverIntent":
            return say_step(turn, current["id"], 1, [])
        return pause(turn)


class PainDuringStretch(Handler):
    """"Ouch", "stop, it hurts", "that stretch hurts": a routine under way ends at once (no next
    step), then stop what hurts and a yes starts the triage at its red-flag questions."""

    intents = frozenset({"PainDuringStretchIntent"})

    def answer(self, turn: Turn) -> Response:
        stretching = turn.session.pop(ROUTINE, None) is not None
        advice = "red_flags.pain_during_stretch" if stretching else "red_flags.pain_not_stretching"
        return turn.say([turn.text(advice)], question=turn.text("red_flags.questions.safety_check"),
                        offer=OFFER_TRIAGE)


def pause(turn: Turn) -> Response:
    routines = turn.services.routines
    return turn.say([], question=routines.prompt("paused_question"), offer=OFFER_RESUME_STRETCH)


class ResumeRoutine(Handler):
    """"Continue my stretches" or "resume", in this session or a later one."""

    intents = frozenset({"ResumeRoutineIntent", "AMAZON.ResumeIntent"})

    def answer(self, turn: Turn) -> Response:
        return resume_saved(turn)


def accept_next(turn: Turn) -> Response:
    current = turn.session.get(ROUTINE)
    if not current:  # the routine field was dropped as forged: carry on from what was saved
        return resume_saved(turn)
    return say_step(turn, current["id"], current["step"] + 1, [])


def accept_start(turn: Turn) -> Response:
    return start_routine(turn, turn.services.routines.routine_for(None))
