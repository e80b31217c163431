"""An answered request is freed by reference counting alone.

A reference cycle keeps a request's whole object graph (envelope, handler input, response) alive
until the garbage collector runs; at one cycle per request the collector ran every few requests
and cost more than the signature check. The cycle-free path is checked here, over the wire.
"""
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from alexa_requests import slot

OURS = ("skill", "ask_sdk")


@contextmanager
def cycles_left() -> Iterator[list[str]]:
    """The skill's and the SDK's objects that only the collector could free, made inside the block."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what the collector finds, so it can be named
    found: list[str] = []
    try:
        yield found
        gc.collect()
        found.extend(f"{type(thing).__module__}.{type(thing).__qualname__}" for thing in gc.garbage
                     if type(thing).__module__.startswith(OURS))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_answered_requests_leave_no_cycles_on_the_handler_and_catch_all_paths(alexa):
    alexa.screen = True
    alexa.launch()  # the first request of a process fills caches; those are not garbage
    condition = slot("condition", "trochanteric bursitis", slot_type="HipCondition", resolved_id="TROCHANTERIC_BURSITIS")
    requests = {"a topic question": lambda: alexa.intent("ConditionIntent", condition),
                "an intent no handler takes (the catch-all)": lambda: alexa.intent("NoSuchIntent"),
                "a launch": alexa.launch}
    left = {}
    for name, send in requests.items():
        with cycles_left() as found:
            for _ in range(3):
                assert send()["response"]["outputSpeech"]["ssml"]
        left[name] = sorted(set(found))
    assert left == {name: [] for name in requests}
