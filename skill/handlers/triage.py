"""The spoken triage: red flags at any moment, starting, answering, and what a yes or no to it means."""
from __future__ import annotations

from ask_sdk_model import IntentRequest, Response

from skill.domain.content import ContentError
from skill.domain.triage import SLOT_IDS, Question, Step, TriageStateError
from skill.grammar import intent_of_slot
from skill.handlers.base import Handler
from skill.handlers.stretching import OFFER_START_STRETCHES
from skill.handlers.turn import Turn
from skill.session_state import FACTS, KNOWN_ANSWERS, PENDING_OFFER, TRIAGE

RED_FLAG_INTENTS = {
    "RedFlagInjuryIntent": "injury",
    "RedFlagInfectionIntent": "infection",
    "RedFlagNerveIntent": "nerve",
}
# Slots that describe pain, as the triage engine names its answers.
DESCRIPTION_SLOTS = ("location", "timing", "feeling")
YES_NO = {"AMAZON.YesIntent": "YES", "AMAZON.NoIntent": "NO", "UnsureIntent": "UNSURE"}
# The intent whose slot a free answer fills, for Dialog.ElicitSlot.


def described_answers(turn: Turn) -> dict[str, str]:
    """The resolved description slots of this request, e.g. {"location": "OUTER_HIP"}.

    Outer-hip pain is also noted as a session fact: stretches that pull the leg across the
    body are left out for the rest of the session.
    """
    answers = {name: turn.slot_id(name) for name in DESCRIPTION_SLOTS + ("duration",)}
    # An id the content doesn't know (a newer interaction model, a forged request) is not understood.
    answers = {name: value for name, value in answers.items() if value in SLOT_IDS[name]}
    if answers.get("location") == "OUTER_HIP":
        turn.session.setdefault(FACTS, {})["outer_hip"] = True
    return answers


def current_question(turn: Turn) -> Question | None:
    """The triage question awaiting an answer, if a triage runs; a state this table can't read is dropped."""
    state = turn.session.get(TRIAGE)
    if not state:
        return None
    try:
        return turn.services.triage.current(state)
    except TriageStateError:
        turn.session.pop(TRIAGE, None)
        return None


def ask(turn: Turn, question: Question, lead: list[str], *, slowly: bool = False) -> Response:
    """Say `lead`, the guidance, then the triage question; its shorter form is the reprompt.

    A free answer (where, when, how long) is elicited as its slot, so Alexa matches the reply
    against that slot's own samples; yes/no questions elicit nothing.
    """
    prompt = (question.repeat_slowly or question.prompt) if slowly else question.prompt
    elicit = (intent_of_slot(question.slot), question.slot) if question.slot else None
    return turn.say(lead, question=prompt, reprompt=question.reprompt, elicit=elicit)


def reask(turn: Turn, question: Question) -> Response:
    """The question again after an answer that wasn't understood: first what to do in an emergency."""
    return ask(turn, question, [turn.text("red_flags.reask")])


def speak_step(turn: Turn, step: Step, lead: list[str]) -> Response:
    """Say where the triage is now: the next question, or the outcome and what next."""
    session = turn.session
    session.pop(TRIAGE, None)
    session.setdefault(FACTS, {}).update(step.facts)
    if step.question is not None:
        session[TRIAGE] = step.state
        if not step.understood:
            return reask(turn, step.question)
        return ask(turn, step.question, lead)
    outcome = step.outcome
    session.pop(KNOWN_ANSWERS, None)
    if outcome.is_emergency:
        return turn.say(lead + [outcome.text], question=None)
    if not outcome.offers_stretching:
        session[FACTS]["no_stretching"] = True
        return turn.ask_more(lead + [outcome.text], "prompts.questions.anything_else")
    return turn.say(lead + [outcome.text], question=turn.text("prompts.questions.start_stretches"),
                    offer=OFFER_START_STRETCHES)


def spoken_slot_values(turn: Turn) -> list[str]:
    """Every slot's raw words in this request, whether the model resolved them or not."""
    request = turn.request
    if not isinstance(request, IntentRequest) or request.intent is None:
        return []
    return [value for value in map(turn.slot_value, request.intent.slots or {}) if value]


def red_flag_said(turn: Turn) -> str | None:
    """The red-flag kind of this request: its intent, or red-flag words in any slot of any intent."""
    kind = RED_FLAG_INTENTS.get(turn.intent_name or "")
    return kind or turn.services.red_flags.kind(spoken_slot_values(turn))


class RedFlag(Handler):
    """A red flag, at any point, even mid-question, mid-stretch or as the opening one-shot.

    Tried before every other handler: red-flag words that Alexa put in a slot of another intent
    ("my hip is hot and swollen and I feel feverish" as a pain description) get the same answer
    as the red-flag intent.
    """

    intents = frozenset(RED_FLAG_INTENTS)

    def matches(self, turn: Turn) -> bool:
        return red_flag_said(turn) is not None

    def answer(self, turn: Turn) -> Response:
        return speak_step(turn, turn.services.triage.red_flag(red_flag_said(turn)), [])


class TriageStart(Handler):
    """"Help me figure out my hip pain", or "start over" during a triage."""

    intents = frozenset({"StartTriageIntent", "AMAZON.StartOverIntent"})

    def matches(self, turn: Turn) -> bool:
        name = turn.intent_name
        return name == "StartTriageIntent" or (name == "AMAZON.StartOverIntent" and TRIAGE in turn.session)

    def answer(self, turn: Turn) -> Response:
        return start_triage(turn)


def start_triage(turn: Turn) -> Response:
    """Safety questions first, then only what the user has not already described this session."""
    step = turn.services.triage.start(known=turn.session.get(KNOWN_ANSWERS) or {})
    return speak_step(turn, step, [turn.text("prompts.triage_intro")])


class TriageAnswer(Handler):
    """An answer to the current triage question. Yes/no wait while an offer is pending."""

    intents = frozenset({"DescribePainIntent", "DurationIntent", *YES_NO})

    def matches(self, turn: Turn) -> bool:
        name = turn.intent_name
        if TRIAGE not in turn.session or not super().matches(turn):
            return False
        return not (name in YES_NO and PENDING_OFFER in turn.session)

    def answer(self, turn: Turn) -> Response:
        name = turn.intent_name
        answers = {"yes_no": YES_NO[name]} if name in YES_NO else described_answers(turn)
        try:
            step = turn.services.triage.answer(turn.session[TRIAGE], answers)
        except (TriageStateError, ContentError):
            # A state from another version of the table, or one it could never make (the loaded
            # table was checked on every path): start the questions again, safety first.
            return start_triage(turn)
        return speak_step(turn, step, [])


def resume_triage(turn: Turn) -> Response:
    question = current_question(turn)
    if question is None:
        return start_triage(turn)
    return ask(turn, question, [])


def stop_triage(turn: Turn) -> Response:
    """No to starting or carrying on with the questions."""
    lead = [turn.text("prompts.triage_stopped")] if turn.session.pop(TRIAGE, None) is not None else []
    return turn.ask_more(lead)
