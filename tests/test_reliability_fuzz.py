"""A mutation fuzzer over signed, real conversations.

The requests are the ones the simulator sends when the conversation tests are spoken; each is
damaged (session state, slots, intent names, request types, locales), re-signed with the test
PKI and posted to the production app, so every mutation reaches the handlers. Every reply must
be a 200 with valid, strict JSON within Alexa's size limits, spoken (except where Alexa forbids
speech), and no error or traceback may be logged.

A fixed seed runs every time, and a new seed each run, shown in the test id so a failure can be
replayed:
    HIP_HELPER_FUZZ_SEED=<seed> make test PYTEST_ARGS="-k fuzz"
"""
from __future__ import annotations

import copy
import json
import logging
import os
import random
import time
from datetime import datetime, timezone

import pytest

from conftest import SKILL_ID
from skill.settings import DEV_SKILL_ID, Settings
from skill.simulator.engine import Simulator
from skill.simulator.transport import InProcessTransport
from test_conversations import CONVERSATIONS, load_conversation, resolver_for

FIXED_SEED = 20261203
REQUESTS_PER_SEED = 5000
SILENT_TYPES = {"SessionEndedRequest", "AlexaSkillEvent.SkillPermissionAccepted",
                "AlexaSkillEvent.SkillPermissionChanged", "AlexaSkillEvent.SkillDisabled",
                "AlexaSkillEvent.SkillAccountLinked", "AlexaSkillEvent.SkillEnabled", "Messaging.MessageReceived"}
MAX_REPLY_BYTES = 120 * 1024
MAX_SSML_CHARS = 8000

JUNK = [None, True, False, 0, -1, 2, 10**12, 1.5, "", "2", "KNEE", "x" * 3000, "<speak>unclosed</speak>",
        "&<>\"'", "\u00e9\u4e2d\U0001f600", [], [1, "a"], {}, {"then": None}, {"step": "2"},
        json.loads('{"a":' * 12 + "1" + "}" * 12)]
REQUEST_TYPES = ["LaunchRequest", "IntentRequest", "SessionEndedRequest", "CanFulfillIntentRequest",
                 "Alexa.Presentation.APL.UserEvent", "Connections.Response", "System.ExceptionEncountered",
                 "Reminders.ReminderCreated", "AlexaSkillEvent.SkillDisabled", "Made.Up"]
LOCALES = ["en-US", "en-GB", "de-DE", "", "xx"]


def recorded_requests(db_path) -> list[dict]:
    """Every request the conversation tests send, as the simulator built them."""
    from skill.app import create_app

    resolver = resolver_for("en-US")
    app = create_app(Settings(skill_id=DEV_SKILL_ID, dev_mode=True, db_path=db_path))
    requests = []
    for path in CONVERSATIONS:
        device, turns = load_conversation(path)
        simulator = Simulator(resolver, InProcessTransport(app), device)
        for expected in turns:
            turn = simulator.say(expected["say"])
            if turn.request is not None:
                requests.append(copy.deepcopy(turn.request))
    return requests


def random_leaf_path(rng: random.Random, value: object) -> list:
    path: list = []
    while isinstance(value, (dict, list)) and value and rng.random() < 0.7:
        key = rng.choice(list(value)) if isinstance(value, dict) else rng.randrange(len(value))
        path.append(key)
        value = value[key]
    return path


def replace_at(root: dict, path: list, new: object) -> None:
    target = root
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new


def mutate(rng: random.Random, envelope: dict, intent_names: list[str]) -> tuple[dict, bool]:
    """A damaged copy, and whether the damage broke Alexa's request schema (a wrong JSON type
    in the request itself), which may be refused with a 400; forged session state may not."""
    envelope = copy.deepcopy(envelope)
    off_schema = False
    request = envelope["request"]
    session = envelope.get("session") or {}
    attributes = session.setdefault("attributes", {})
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.45 and attributes:  # forged session state: the largest family
            path = random_leaf_path(rng, attributes) or [rng.choice(list(attributes))]
            replace_at(attributes, path, copy.deepcopy(rng.choice(JUNK)))
        elif kind < 0.5:
            attributes[rng.choice(["facts", "triage", "routine", "pending_offer", "last_reply", "zz"])] = \
                copy.deepcopy(rng.choice(JUNK))
        elif kind < 0.7 and request.get("type") == "IntentRequest":
            slots = request.get("intent", {}).get("slots") or {}
            if slots and rng.random() < 0.7:
                slot = slots[rng.choice(list(slots))]
                path = random_leaf_path(rng, slot) or ["value"]
                junk = copy.deepcopy(rng.choice(JUNK[:14]))
                original = slot
                for key in path:
                    original = original.get(key) if isinstance(original, dict) else original[key]
                replace_at(slot, path, junk)
                off_schema = off_schema or not (isinstance(junk, str) and isinstance(original, str))
            else:
                request["intent"]["name"] = rng.choice(intent_names + ["MadeUpIntent", ""])
        elif kind < 0.8:
            request["type"] = rng.choice(REQUEST_TYPES)
            if request["type"] == "IntentRequest" and "intent" not in request:
                request["intent"] = {"name": rng.choice(intent_names), "confirmationStatus": "NONE"}
        elif kind < 0.9:
            request["locale"] = rng.choice(LOCALES)
        elif "session" in envelope:
            del envelope["session"]  # a one-shot request with no session at all
    return envelope, off_schema


def fuzz_seeds() -> list[int]:
    """The fixed seed, and a new one each run (CI's included); the test id shows it."""
    return [FIXED_SEED, int(os.environ.get("HIP_HELPER_FUZZ_SEED") or time.time_ns() % 10**9)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[dict]:
    return recorded_requests(tmp_path_factory.mktemp("recording") / "prefs.sqlite3")


def strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("seed", fuzz_seeds())
def test_fuzzed_signed_conversations_always_get_a_valid_spoken_reply(seed, corpus, production_app, signer, caplog):
    print(f"fuzz seed {seed}: replay with HIP_HELPER_FUZZ_SEED={seed}")
    caplog.set_level(logging.INFO)
    rng = random.Random(seed)
    intent_names = sorted({r["request"]["intent"]["name"] for r in corpus if r["request"].get("intent")})
    client = production_app.test_client()
    for number in range(REQUESTS_PER_SEED):
        envelope, off_schema = mutate(rng, rng.choice(corpus), intent_names)
        for system in (envelope["context"]["System"], envelope.get("session") or {}):
            system["application"] = {"applicationId": SKILL_ID}
        envelope["request"]["timestamp"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps(envelope).encode()
        response = client.post("/alexa", data=body, headers=signer.sign(body), content_type="application/json")
        where = f"seed {seed}, request {number}: {body[:300]!r} ... {json.dumps(envelope['request'])[:400]}"
        if off_schema and response.status_code == 400:
            assert response.get_json() == {"error": "request body is not an Alexa request envelope"}, where
            continue
        assert response.status_code == 200, f"{where} -> {response.status_code} {response.get_data()[:200]!r}"
        text = response.get_data(as_text=True)
        assert len(text.encode()) <= MAX_REPLY_BYTES, where
        reply = strict(text)
        speech = (reply["response"].get("outputSpeech") or {}).get("ssml", "")
        assert len(speech) <= MAX_SSML_CHARS, where
        assert speech.count("<speak>") <= 1, where
        if envelope["request"]["type"] not in SILENT_TYPES and "session" in envelope:
            assert speech, where
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert not errors, f"{where} -> {errors[0].getMessage()}"
