"""`hip-helper chat`: talk to the skill like the developer console does, or replay an `ask dialog` file."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from skill.settings import DEV_SKILL_ID, Settings, SettingsError
from skill.simulator.engine import SILENCE, Simulator, Turn
from skill.simulator.envelopes import DeviceProfile
from skill.simulator.model import ModelError, load_model
from skill.simulator.nlu import IntentMatch, UtteranceResolver
from skill.simulator.transport import HttpTransport, InProcessTransport, Transport, TransportError

QUIT = ".quit"
EXIT_OK, EXIT_ENDPOINT_FAILED, EXIT_USAGE = 0, 1, 2


class ReplayError(ValueError):
    """A replay file is not in the `ask dialog` format; one line for the user."""


@dataclass(frozen=True)
class ReplayScript:
    """The ASK CLI `ask dialog --replay` file: {"skillId", "locale", "type": "text", "userInput": [...]}."""

    skill_id: str
    locale: str
    user_input: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> "ReplayScript":
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ReplayError(f"cannot read replay file {path}: {error.strerror}") from None
        except ValueError as error:
            raise ReplayError(f"replay file {path} is not valid JSON: {error}") from None
        return cls.from_json(document, str(path))

    @classmethod
    def from_json(cls, document: Any, source: str) -> "ReplayScript":
        if not isinstance(document, dict):
            raise ReplayError(f"replay file {source} must hold a JSON object")
        for key in ("skillId", "locale"):
            if not isinstance(document.get(key), str) or not document[key].strip():
                raise ReplayError(f'replay file {source} needs a non-empty "{key}"')
        if document.get("type", "text") != "text":
            raise ReplayError(f'replay file {source}: only "type": "text" is supported')
        user_input = document.get("userInput")
        if not isinstance(user_input, list) or not all(isinstance(line, str) for line in user_input):
            raise ReplayError(f'replay file {source} needs "userInput": a list of strings')
        if any(not line.strip() for line in user_input):
            raise ReplayError(f'replay file {source}: "userInput" may not hold empty strings (use "{SILENCE}")')
        return cls(document["skillId"], document["locale"], tuple(user_input))

    def to_json(self) -> dict[str, Any]:
        return {"skillId": self.skill_id, "locale": self.locale, "type": "text", "userInput": list(self.user_input)}


@dataclass(frozen=True)
class ChatOptions:
    url: str | None = None
    locale: str | None = None  # default: the replay file's locale, else en-US
    skill_id: str | None = None  # default: the replay file's skillId, else the development skill id
    user_id: str | None = None
    api_endpoint: str | None = None
    model: Path | None = None  # default: <model dir>/<locale>.json
    replay: Path | None = None
    record: Path | None = None
    verbose: bool = False
    speak: bool = False
    screen: bool = False


class Speaker:
    """Reads answers aloud with espeak-ng when it is installed; otherwise says once how to get it."""

    def __init__(self, enabled: bool, out: TextIO) -> None:
        self._program = shutil.which("espeak-ng") if enabled else None
        if enabled and self._program is None:
            out.write("(--speak needs espeak-ng: sudo apt-get install espeak-ng; continuing without sound)\n")

    def speak(self, text: str) -> None:
        if self._program and text:
            subprocess.run([self._program, text], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def describe_intent(intent: IntentMatch) -> str:
    """ "CausesIntent  location="outside of my hip" -> OUTER_HIP (ER_SUCCESS_MATCH)" for --verbose."""
    slots = []
    for slot in intent.slots.values():
        if slot.value is None:
            continue
        text = f'{slot.name}="{slot.value}"'
        if slot.resolution is not None:
            text += f" -> {slot.resolved_id or '?'} ({slot.resolution.code})"
        slots.append(text)
    # No sample matched: a developer should know the sample set missed this phrasing.
    name = intent.name if intent.generalised is None else f"{intent.name} (generalised, {intent.generalised:.2f})"
    return "  ".join([name, *slots])


def format_turn(turn: Turn, verbose: bool) -> list[str]:
    """The lines the chat prints for one turn."""
    lines = []
    if verbose and turn.request is not None:
        request = turn.request["request"]
        state = f' ({request["dialogState"]})' if request.get("dialogState") else ""
        intent = f"  {describe_intent(turn.intent)}" if turn.intent else ""
        lines.append(f"  request: {request['type']}{state}{intent}")
        lines.append("  -> " + json.dumps(turn.request, indent=2).replace("\n", "\n     "))
        lines.append("  <- " + json.dumps(turn.response, indent=2).replace("\n", "\n     "))
    if turn.speech:
        lines.append(f"Alexa: {turn.speech}")
    if turn.reply is not None:
        if turn.reply.reprompt:
            lines.append(f"  reprompt: {turn.reply.reprompt}")
        if turn.reply.card is not None:
            lines.append(f"  card ({turn.reply.card.type}): {turn.reply.card.describe()}")
        for directive in turn.reply.directives:
            lines.append(f"  directive: {directive.get('type')}")
    lines.extend(f"  ({note})" for note in turn.notes)
    lines.append("  [session open]" if turn.session_open else "  [session closed]")
    return lines


def _read_user_lines(replay: ReplayScript | None, stdin: TextIO) -> Iterator[tuple[str, bool]]:
    """Each line the user typed, with whether to echo it (true unless typed at a terminal)."""
    for line in replay.user_input if replay else ():
        yield line, True
    interactive = stdin.isatty()
    if replay is not None and not interactive:
        return
    while True:
        try:
            line = input("You: ") if interactive else stdin.readline()
        except EOFError:
            return
        if not interactive and not line:
            return
        yield line.rstrip("\n"), not interactive


class ChatSession:
    """The chat loop: reads lines, sends them through the simulator, prints and records the result."""

    def __init__(self, simulator: Simulator, options: ChatOptions, out: TextIO) -> None:
        self._simulator = simulator
        self._options = options
        self._out = out
        self._speaker = Speaker(options.speak, out)
        self.typed: list[str] = []

    def run(self, lines: Iterator[tuple[str, bool]]) -> None:
        for line, echo in lines:
            self.typed.append(line if line.strip() else SILENCE)
            if echo:
                self._out.write(f"You: {line}\n")
            if line.strip() == QUIT:
                return
            turn = self._simulator.say(line)
            self._out.write("\n".join(format_turn(turn, self._options.verbose)) + "\n")
            self._out.flush()
            self._speaker.speak(turn.speech)


def _in_process_skill(settings: Settings, verbose: bool) -> Transport:
    from skill import request_log  # imported late, like the app itself

    if not verbose:
        request_log.log.setLevel(logging.WARNING)  # its one JSON line per request would split the transcript
    return InProcessTransport.for_settings(settings)


def _local_alexa_apis(resources: ExitStack) -> tuple[dict[str, str], dict[str, str]]:
    """Start the Reminders and Settings stand-in for this chat: the settings and device fields that point at it."""
    from skill.simulator.alexa_api_stub import AlexaApiServer  # only in-process chats need it

    stub = resources.enter_context(AlexaApiServer(Path(resources.enter_context(tempfile.TemporaryDirectory()))))
    return {"api_ca_bundle": str(stub.ca_path)}, {"api_endpoint": stub.base_url, "api_access_token": stub.token}


def _build_simulator(options: ChatOptions, replay: ReplayScript | None,
                     transport: Transport | None, resources: ExitStack) -> Simulator:
    skill_id = options.skill_id or (replay.skill_id if replay else DEV_SKILL_ID)
    locale = options.locale or (replay.locale if replay else "en-US")
    settings = Settings.from_env(skill_id=skill_id, dev_mode=True)
    model = load_model(options.model or settings.model_dir / f"{locale}.json")
    device = DeviceProfile(locale=locale, skill_id=skill_id, screen=options.screen)
    if transport is None and not options.url and not options.api_endpoint:
        # In-process, Alexa's APIs are local too: reminders work offline; --api-endpoint reaches real ones.
        settings_fields, device_fields = _local_alexa_apis(resources)
        settings, device = replace(settings, **settings_fields), replace(device, **device_fields)
    if transport is None:
        transport = HttpTransport(options.url) if options.url else _in_process_skill(settings, options.verbose)
    overrides = {"user_id": options.user_id, "api_endpoint": options.api_endpoint}
    device = replace(device, **{name: value for name, value in overrides.items() if value})
    return Simulator(UtteranceResolver(model, skill_id), transport, device)


def _write_recording(path: Path, simulator: Simulator, typed: list[str]) -> None:
    script = ReplayScript(simulator.device.skill_id, simulator.device.locale, tuple(typed))
    path.write_text(json.dumps(script.to_json(), indent=2) + "\n", encoding="utf-8")


def run_chat(options: ChatOptions, *, transport: Transport | None = None, stdin: TextIO | None = None,
             stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the chat; `transport` replaces the in-process app or --url (tests bring a stand-in skill)."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    with ExitStack() as resources:
        return _run_chat(options, transport, resources, stdin, stdout, stderr)


def _run_chat(options: ChatOptions, transport: Transport | None, resources: ExitStack, stdin: TextIO,
              stdout: TextIO, stderr: TextIO) -> int:
    try:
        replay = ReplayScript.load(options.replay) if options.replay else None
        simulator = _build_simulator(options, replay, transport, resources)
    except (ReplayError, ModelError, SettingsError) as error:
        stderr.write(f"error: {error}\n")
        return EXIT_USAGE
    chat = ChatSession(simulator, options, stdout)
    status = EXIT_OK
    try:
        chat.run(_read_user_lines(replay, stdin))
    except TransportError as error:
        stderr.write(f"error: {error}\n")
        status = EXIT_ENDPOINT_FAILED
    if options.record:
        try:
            _write_recording(options.record, simulator, chat.typed)
        except OSError as error:
            stderr.write(f"error: cannot write {options.record}: {error.strerror}\n")
            return EXIT_USAGE
    return status
