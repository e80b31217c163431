"""Word budgets for what the user hears: measured here once, for the budget test and `make test`'s summary.

Words are counted in the plain speech (SSML reduced to text, so hold pauses count nothing).
Stretch steps read a whole stretch aloud and are left out of the budgets.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

LAUNCH_MAX = 45
MEDIAN_MAX = 45
P95_MAX = 75
ANY_MAX = 90
LAUNCH, ANSWER, STRETCH = "launch", "answer", "stretch step"


@dataclass(frozen=True)
class Heard:
    words: int
    kind: str
    where: str          # e.g. "triage-outer-hip.yaml turn 3"


PAUSE = re.compile(r"\[pause [^\]]*\]")   # how the simulator shows a <break>: silence, not words
HEARD: list[Heard] = []     # filled by the budget test, printed by tests/conftest.py


def heard(speech: str, kind: str, where: str) -> Heard:
    return Heard(len(PAUSE.sub(" ", speech).split()), kind, where)


def percentile(words: list[int], share: float) -> int:
    ordered = sorted(words)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def figures(all_heard: list[Heard]) -> dict[str, float]:
    answers = [h.words for h in all_heard if h.kind != STRETCH]
    launches = [h.words for h in all_heard if h.kind == LAUNCH] or [0]
    return {"responses": len(answers), "launch": max(launches), "median": statistics.median(answers),
            "p95": percentile(answers, 0.95), "max": max(answers)}


def response_problems(h: Heard) -> list[str]:
    """The budgets one response keeps on its own."""
    if h.kind == LAUNCH and h.words > LAUNCH_MAX:
        return [f"{h.where}: launch of {h.words} words (at most {LAUNCH_MAX})"]
    if h.kind != STRETCH and h.words > ANY_MAX:
        return [f"{h.where}: {h.words} words (at most {ANY_MAX})"]
    return []


def problems(all_heard: list[Heard]) -> list[str]:
    """Every response's budget, and the distribution's."""
    found = [problem for h in all_heard for problem in response_problems(h)]
    numbers = figures(all_heard)
    if numbers["median"] > MEDIAN_MAX:
        found.append(f"median response {numbers['median']} words (at most {MEDIAN_MAX})")
    if numbers["p95"] > P95_MAX:
        found.append(f"95th percentile {numbers['p95']} words (at most {P95_MAX})")
    return found


def summary() -> str:
    numbers = figures(HEARD)
    return ("words heard per response: {responses} responses, launch {launch}, median {median}, "
            "p95 {p95}, max {max}").format(**numbers) + \
        f" (budgets: launch {LAUNCH_MAX}, median {MEDIAN_MAX}, p95 {P95_MAX}, max {ANY_MAX}; stretch steps excepted)"
