"""Handlers for the conversation's frame: start, help, repeat, stop, and the silent requests."""
from __future__ import annotations

from ask_sdk_model import Response

from skill.handlers import stretching
from skill.handlers.base import Handler
from skill.handlers.triage import ask, current_question, reask
from skill.handlers.turn import OFFER_TRIAGE, Turn
from skill.session_state import ROUTINE, TRIAGE


class SessionEnded(Handler):
    """Alexa accepts no speech here; whatever the reason or error, answer empty and never raise."""

    def matches(self, turn: Turn) -> bool:
        return turn.request_type == "SessionEndedRequest"

    def answer(self, turn: Turn) -> Response:
        return turn.silent()


class SkillEvent(Handler):
    """Out-of-session notifications (skill enabled, permission changed): nothing to say."""

    def matches(self, turn: Turn) -> bool:
        return (turn.request_type or "").startswith("AlexaSkillEvent.")

    def answer(self, turn: Turn) -> Response:
        return turn.silent()


class Launch(Handler):
    def matches(self, turn: Turn) -> bool:
        return turn.request_type == "LaunchRequest"

    def answer(self, turn: Turn) -> Response:
        """The long introduction once per user; a short welcome back after that."""
        if turn.preferences.get("intro_heard"):
            welcome = "prompts.welcome_back"
        else:
            welcome = "prompts.welcome"
            turn.preferences.update(intro_heard=True)
        return turn.say([turn.text(welcome)], question=turn.text("prompts.questions.offer_triage"),
                        offer=OFFER_TRIAGE)


class Help(Handler):
    intents = frozenset({"AMAZON.HelpIntent"})

    def answer(self, turn: Turn) -> Response:
        return say_then_ask_again(turn, "prompts.help_in_triage", "prompts.help")


def say_then_ask_again(turn: Turn, in_triage: str, otherwise: str,
                       question_key: str = "prompts.questions.what_next") -> Response:
    """Say `in_triage`, then the triage question waiting; with none waiting, `otherwise` and what else."""
    question = current_question(turn)
    if question:
        return ask(turn, question, [turn.text(in_triage)])
    return turn.ask_more([turn.text(otherwise)], question_key)


class Stop(Handler):
    """Stop, cancel and "go home" end the session at once, with the guidance."""

    intents = frozenset({"AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent"})

    def answer(self, turn: Turn) -> Response:
        return goodbye(turn)


def goodbye(turn: Turn) -> Response:
    turn.session.pop(TRIAGE, None)
    return turn.say([turn.text("prompts.goodbye")], question=None)


class Repeat(Handler):
    """The last answer again, composed from its keys. A triage question is asked again with its
    elicitation (and slowly, when it has a slow form); a stretch step is shown again too."""

    intents = frozenset({"AMAZON.RepeatIntent"})

    def answer(self, turn: Turn) -> Response:
        question = current_question(turn)
        if question:
            # What led to the question is said again only if the question was the last thing asked.
            asked = turn.last_question_key() in (question.prompt.key, getattr(question.repeat_slowly, "key", None))
            return ask(turn, question, turn.last_body() if asked else [], slowly=True)
        if ROUTINE in turn.session:
            return stretching.repeat_step(turn)
        return turn.repeat_last() or turn.ask_more([turn.text("prompts.nothing_to_repeat")])


class Thanks(Handler):
    """"Thanks": a short reply, and back to the question if one is waiting."""

    intents = frozenset({"ThanksIntent"})

    def answer(self, turn: Turn) -> Response:
        return say_then_ask_again(turn, "prompts.thanks", "prompts.thanks", "prompts.questions.anything_else")


class StartOver(Handler):
    """Outside a triage, "start over" goes back to the beginning; in a triage, TriageStart takes it."""

    intents = frozenset({"AMAZON.StartOverIntent"})

    def answer(self, turn: Turn) -> Response:
        return turn.say([turn.text("prompts.welcome_again")], question=turn.text("prompts.questions.offer_triage"),
                        offer=OFFER_TRIAGE)


class Fallback(Handler):
    """What Alexa could not place, and yes/no/next with nothing to answer."""

    # UnmatchedSpeechIntent carries the words of speech nothing else matched: the red-flag scan
    # reads them first (triage.RedFlag); anything else is answered as the fallback.
    intents = frozenset({"AMAZON.FallbackIntent", "UnmatchedSpeechIntent", "AMAZON.YesIntent", "AMAZON.NoIntent",
                         "AMAZON.NextIntent", "AMAZON.PauseIntent", "UnsureIntent", "DurationIntent"})

    def answer(self, turn: Turn) -> Response:
        question = current_question(turn)
        if question:
            return reask(turn, question)
        return turn.ask_more([turn.text("prompts.fallback")])


def what_next(turn: Turn) -> Response:
    """A no to an offer that needs nothing undone."""
    return turn.ask_more([])
