"""Handlers for the conversation's frame: start, help, repeat, stop, and the silent requests."""
from __future__ import annotations

from ask_sdk_model import Response

from skill.handlers.base import Handler
from skill.handlers.triage import current_question
from skill.handlers.turn import OFFER_TRIAGE, TRIAGE, Turn


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
    def matches(self, turn: Turn) -> bool:
        return turn.intent_name == "AMAZON.HelpIntent"

    def answer(self, turn: Turn) -> Response:
        question = current_question(turn)
        if question:
            return turn.say([turn.text("prompts.help_in_triage")], question=question.prompt,
                            reprompt=question.reprompt)
        return turn.ask_more([turn.text("prompts.help")])


class Stop(Handler):
    """Stop, cancel and "go home" end the session at once, with the guidance."""

    def matches(self, turn: Turn) -> bool:
        return turn.intent_name in ("AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent")

    def answer(self, turn: Turn) -> Response:
        return goodbye(turn)


def goodbye(turn: Turn) -> Response:
    turn.session.pop(TRIAGE, None)
    return turn.say([turn.text("prompts.goodbye")], question=None)


class Repeat(Handler):
    def matches(self, turn: Turn) -> bool:
        return turn.intent_name == "AMAZON.RepeatIntent"

    def answer(self, turn: Turn) -> Response:
        question = current_question(turn)
        if question:
            return turn.say([], question=question.repeat_slowly or question.prompt, reprompt=question.reprompt)
        return turn.repeat_last() or turn.ask_more([turn.text("prompts.nothing_to_repeat")])


class StartOver(Handler):
    """Outside a triage, "start over" goes back to the beginning; in a triage, TriageStart takes it."""

    def matches(self, turn: Turn) -> bool:
        return turn.intent_name == "AMAZON.StartOverIntent"

    def answer(self, turn: Turn) -> Response:
        return turn.say([turn.text("prompts.welcome_again")], question=turn.text("prompts.questions.offer_triage"),
                        offer=OFFER_TRIAGE)


class Fallback(Handler):
    """What Alexa could not place, and yes/no/next with nothing to answer."""

    CONTEXTLESS = ("AMAZON.FallbackIntent", "AMAZON.YesIntent", "AMAZON.NoIntent", "AMAZON.NextIntent",
                   "AMAZON.PauseIntent", "UnsureIntent", "DurationIntent")

    def matches(self, turn: Turn) -> bool:
        return turn.intent_name in self.CONTEXTLESS

    def answer(self, turn: Turn) -> Response:
        question = current_question(turn)
        if question:
            return turn.say([turn.text("prompts.fallback_in_triage")], question=question.prompt,
                            reprompt=question.reprompt)
        return turn.ask_more([turn.text("prompts.fallback")])


def what_next(turn: Turn) -> Response:
    """A no to an offer that needs nothing undone."""
    return turn.ask_more([])
