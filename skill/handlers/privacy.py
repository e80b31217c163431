""""Forget me": delete everything remembered about the user, after they confirm by voice."""
from __future__ import annotations

from ask_sdk_model import Response

from skill.handlers.base import Handler
from skill.handlers.turn import Turn

OFFER_FORGET_ME = "forget_me"


class ForgetMe(Handler):
    intents = frozenset({"ForgetMeIntent"})

    def answer(self, turn: Turn) -> Response:
        return turn.say([turn.text("prompts.forget_me_confirm")], question=turn.text("prompts.questions.forget_me"),
                        offer=OFFER_FORGET_ME)


def forget(turn: Turn) -> Response:
    key = "prompts.forget_me_done" if turn.preferences.forget_all() else "prompts.preferences_unavailable"
    return turn.ask_more([turn.text(key)])


def keep(turn: Turn) -> Response:
    return turn.ask_more([turn.text("prompts.forget_me_kept")])
