"""The numbers the benchmark reports: percentiles, runs, the median round, and skill/plain ratios."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


def percentile(sorted_values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `percent`% of values at or below it."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], not {percent}")
    rank = math.ceil(percent / 100 * len(sorted_values))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Run:
    """One timed run against one app: successful requests and their latencies."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int

    @classmethod
    def from_latencies(cls, latencies_s: Sequence[float], elapsed_s: float, failures: int) -> "Run":
        """`latencies_s` of the successful requests (any order), measured over `elapsed_s` of wall time."""
        ordered = sorted(latencies_s)
        return cls(requests_per_second=len(ordered) / elapsed_s,
                   p50_ms=percentile(ordered, 50) * 1000,
                   p99_ms=percentile(ordered, 99) * 1000,
                   failures=failures)


def median_run(runs: Sequence[Run]) -> Run:
    """The round with the median throughput (the lower middle one for an even count), reported whole."""
    if not runs:
        raise ValueError("no runs")
    ordered = sorted(runs, key=lambda run: run.requests_per_second)
    return ordered[(len(ordered) - 1) // 2]


@dataclass(frozen=True)
class Comparison:
    skill: Run
    plain: Run

    @property
    def throughput_ratio(self) -> float:
        """Skill requests/s as a fraction of plain Flask's: 1.0 means the skill costs nothing extra."""
        return self.skill.requests_per_second / self.plain.requests_per_second

    @property
    def p99_ratio(self) -> float:
        """Skill p99 latency as a multiple of plain Flask's."""
        return self.skill.p99_ms / self.plain.p99_ms


@dataclass(frozen=True)
class Target:
    description: str
    measured: str
    passed: bool

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.description} (measured {self.measured})"


def targets(verified: Comparison, cold_ratio: float) -> list[Target]:
    """Issue 11's targets: throughput and p99 with signature verification on, and the cold start."""
    return [
        Target("verification on: skill throughput >= 0.65 x plain",
               f"{verified.throughput_ratio:.2f} x", verified.throughput_ratio >= 0.65),
        Target("verification on: skill p99 <= 2 x plain", f"{verified.p99_ratio:.2f} x", verified.p99_ratio <= 2),
        Target("cold start: skill <= 0.75 x the stock ask-sdk hello world", f"{cold_ratio:.2f} x", cold_ratio <= 0.75),
        Target("long-run goal: verification on, skill throughput >= 0.75 x plain",
               f"{verified.throughput_ratio:.2f} x", verified.throughput_ratio >= 0.75),
    ]
