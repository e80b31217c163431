"""The simulated Alexa device: turns what the user says into requests and keeps the session going."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from skill.simulator.envelopes import DeviceProfile, EnvelopeFactory, Session
from skill.simulator.nlu import IntentMatch, Understanding, UnroutableUtterance, UtteranceResolver, builtin_intent_of
from skill.simulator.render import Reply
from skill.simulator.transport import Transport

SILENCE = ".silence"
ASK_FOR = "AskFor"
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
        try:
            understanding = self._resolver.resolve(text)
        except UnroutableUtterance as error:
            return Turn(text, notes=[f"{error}: nothing was sent"], session_open=self.session_open)
        notes = []
        if understanding.invoked or self.session is None:
            if not understanding.invoked:
                notes.append("no open session, so this starts a new one as if the skill had been named")
            self.session = Session()
        if understanding.intent is None:
            envelope = self._envelopes.launch(self.session)
        else:
            envelope = self._envelopes.intent(self.session, understanding.intent)
        return self._exchange(Turn(text, understanding=understanding, notes=notes), envelope)

    def _silence(self, text: str) -> Turn:
        if self.session is None:
            return Turn(text, notes=["silence with no open session: nothing happens"])
        self._silences += 1
        reprompt = self._last_reply.reprompt if self._last_reply else ""
        if self._silences == 1 and reprompt:
            return Turn(text, speech=reprompt, notes=["silence: the device plays the reprompt"], session_open=True)
        envelope = self._envelopes.session_ended(self.session, "EXCEEDED_MAX_REPROMPTS")
        return self._exchange(Turn(text, notes=["silence again: Alexa ends the session"]), envelope, ending=True)

    def _answer_permission(self, text: str) -> Turn:
        assert self.session is not None and self._pending_permission is not None  # kept open for the answer
        directive, self._pending_permission = self._pending_permission, None
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

    def _ends_session(self, reply: Reply) -> bool:
        # Without shouldEndSession a voice-only device closes the session; a screen device keeps it.
        if reply.should_end_session is None:
            return not self.device.screen
        return reply.should_end_session
