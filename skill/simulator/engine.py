"""The simulated Alexa device: turns what the user says into requests and keeps the session going."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from skill.simulator.envelopes import DeviceProfile, EnvelopeFactory, Session
from skill.simulator.nlu import (Elicitation, IntentMatch, SlotFill, Understanding, UnroutableUtterance,
                                 UtteranceResolver, builtin_intent_of)
from skill.simulator.render import Reply
from skill.simulator.transport import Transport

SILENCE = ".silence"
ASK_FOR = "AskFor"
ELICIT_SLOT = "Dialog.ElicitSlot"
SIMULATED_CONSENT_TOKEN = "simulated-consent-token"
_PERMISSION_ANSWERS = {"AMAZON.YesIntent": "ACCEPTED", "AMAZON.NoIntent": "DENIED"}


@dataclass
class Turn:
    """One thing the user said (or a silence) and what came of it."""

    said: str
    speech: str = ""  # what the device said: the skill's answer, or the reprompt replayed after a silence
    reply: Reply | None = None  # the skill's answer, when a request was sent
    understanding: Understanding | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # what Alexa itself did, e.g. asked for a permission
    session_open: bool = False

    @property
    def intent(self) -> IntentMatch | None:
        return self.understanding.intent if self.understanding else None

    @property
    def request_name(self) -> str | None:
        """The intent name for an IntentRequest, otherwise the request type (e.g. "LaunchRequest")."""
        if self.request is None:
            return None
        request = self.request["request"]
        return request["intent"]["name"] if request["type"] == "IntentRequest" else request["type"]


class Simulator:
    """Talks to one skill like an Echo would, one utterance at a time."""

    def __init__(self, resolver: UtteranceResolver, transport: Transport,
                 device: DeviceProfile | None = None) -> None:
        self._resolver = resolver
        self._transport = transport
        self.device = device or DeviceProfile()
        self._envelopes = EnvelopeFactory(self.device)
        self.session: Session | None = None
        self._last_reply: Reply | None = None
        self._silences = 0
        # A Connections.SendRequest AskFor directive: Alexa asks the user for a permission next.
        self._pending_permission: Mapping[str, Any] | None = None
        # A Dialog.ElicitSlot directive: the next utterance is tried as that slot's answer first.
        self.eliciting: Elicitation | None = None

    @property
    def session_open(self) -> bool:
        return self.session is not None

    def say(self, text: str) -> Turn:
        """Send one utterance; an empty one (or ".silence") is the user saying nothing."""
        if self._pending_permission is not None:
            return self._answer_permission(text)
        if text.strip() in ("", SILENCE):
            return self._silence(text)
        self._silences = 0
        eliciting, self.eliciting = self.eliciting, None  # an ElicitSlot holds for the next utterance only
        try:
            understanding = self._resolver.resolve(text, eliciting)
        except UnroutableUtterance as error:
            return Turn(text, notes=[f"{error}: nothing was sent"], session_open=self.session_open)
        notes = []
        if understanding.invoked or self.session is None:
            if not understanding.invoked:
                notes.append("no open session, so this starts a new one as if the skill had been named")
            self.session = Session()
        if understanding.intent is not None and understanding.intent.generalised is not None:
            notes.append(f"no sample matches: generalised to {understanding.intent.name} "
                         f"(cosine {understanding.intent.generalised:.2f}), an approximation of Alexa's "
                         "statistical NLU, not Alexa")
        if understanding.dialog_state == "IN_PROGRESS" and eliciting is not None:
            notes.append(f'taken as the answer for the "{eliciting.slot}" slot of {eliciting.intent}')
        if understanding.intent is None:
            envelope = self._envelopes.launch(self.session)
        else:
            envelope = self._envelopes.intent(self.session, understanding.intent, understanding.dialog_state)
        return self._exchange(Turn(text, understanding=understanding, notes=notes), envelope)

    def _silence(self, text: str) -> Turn:
        if self.session is None:
            return Turn(text, notes=["silence with no open session: nothing happens"])
        self._silences += 1
        reprompt = self._last_reply.reprompt if self._last_reply else ""
        if self._silences == 1 and reprompt:
            notes = ["silence: the device plays the reprompt"] + self._eliciting_notes()
            return Turn(text, speech=reprompt, notes=notes, session_open=True)
        self.eliciting = None
        envelope = self._envelopes.session_ended(self.session, "EXCEEDED_MAX_REPROMPTS")
        return self._exchange(Turn(text, notes=["silence again: Alexa ends the session"]), envelope, ending=True)

    def _answer_permission(self, text: str) -> Turn:
        assert self.session is not None and self._pending_permission is not None  # kept open for the answer
        directive, self._pending_permission = self._pending_permission, None
        self.eliciting = None
        status = _PERMISSION_ANSWERS.get(builtin_intent_of(text) or "", "NOT_ANSWERED")
        if status == "ACCEPTED":
            self._envelopes.consent_token = SIMULATED_CONSENT_TOKEN
        payload = {"permissionScope": (directive.get("payload") or {}).get("permissionScope"), "status": status}
        envelope = self._envelopes.connections_response(self.session, ASK_FOR, payload, directive.get("token", ""))
        return self._exchange(Turn(text, notes=[f"permission answer: {status}"]), envelope)

    def _exchange(self, turn: Turn, envelope: dict[str, Any], *, ending: bool = False) -> Turn:
        response = self._transport.send(envelope)
        reply = Reply.from_envelope(response)
        self._absorb(response, reply, ending)
        turn.request, turn.response, turn.reply, turn.speech = envelope, response, reply, reply.speech
        turn.notes.extend(self._take_elicitation(envelope, response, reply))
        if self._pending_permission is not None:
            scope = (self._pending_permission.get("payload") or {}).get("permissionScope")
            turn.notes.append(f'Alexa asks the user to grant "{scope}" (answer yes or no)')
        turn.session_open = self.session_open
        return turn

    def _absorb(self, response: Mapping[str, Any], reply: Reply, ending: bool) -> None:
        assert self.session is not None  # every request belongs to a session
        self.session.new = False
        self.session.attributes = dict(response.get("sessionAttributes") or {})
        self._last_reply = reply
        self._pending_permission = reply.directive("Connections.SendRequest", ASK_FOR)
        # The session waits for the permission answer, whatever shouldEndSession says.
        if ending or (self._pending_permission is None and self._ends_session(reply)):
            self.session = None

    def _take_elicitation(self, envelope: Mapping[str, Any], response: Mapping[str, Any],
                          reply: Reply) -> list[str]:
        """Start eliciting the slot a Dialog.ElicitSlot asks for, or say why Alexa would refuse it."""
        directive = reply.directive(ELICIT_SLOT)
        if directive is None:
            return []
        updated = directive.get("updatedIntent") or {}
        # Without updatedIntent Alexa keeps the intent of the request being answered.
        intent_name = updated.get("name") or (envelope["request"].get("intent") or {}).get("name")
        slot_name = directive.get("slotToElicit")
        problem = self._elicitation_problem(intent_name, slot_name, response)
        if problem:
            return [f"error: Alexa would reject this response: {ELICIT_SLOT} {problem}"]
        kept = {name: SlotFill.from_json(raw) for name, raw in (updated.get("slots") or {}).items()}
        self.eliciting = Elicitation(intent_name, slot_name, kept)
        return self._eliciting_notes()

    def _elicitation_problem(self, intent_name: str | None, slot_name: str | None,
                             response: Mapping[str, Any]) -> str | None:
        intent = self._resolver.model.intent(intent_name or "")
        if intent is None:
            return f"names intent {intent_name!r}, which the interaction model does not have"
        if intent.slot(slot_name or "") is None:
            return f"names slot {slot_name!r}, which {intent_name} does not have"
        if not (response.get("response") or {}).get("outputSpeech"):
            return "needs outputSpeech: the question that asks for the slot"
        if self.session is None:
            return "needs the session to stay open (shouldEndSession is not false)"
        return None

    def _eliciting_notes(self) -> list[str]:
        if self.eliciting is None:
            return []
        return [f'eliciting the "{self.eliciting.slot}" slot of {self.eliciting.intent}: '
                "the next answer is tried against its slot samples first"]

    def _ends_session(self, reply: Reply) -> bool:
        # Without shouldEndSession a voice-only device closes the session; a screen device keeps it.
        if reply.should_end_session is None:
            return not self.device.screen
        return reply.should_end_session
