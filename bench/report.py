"""The benchmark's printed output: one line per run while it goes, then a compact table and the targets."""
from __future__ import annotations

from collections.abc import Mapping

from bench.cold import ColdStart
from bench.stats import Comparison, Run, targets

HEADER = f"{'verification':<13}{'app':<7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}"


def verification_label(verify: bool) -> str:
    return "on" if verify else "off"


def run_line(verify: bool, app: str, round_number: int, run: Run) -> str:
    return (f"  verification {verification_label(verify):<3} round {round_number} {app:<6}"
            f"{run.requests_per_second:8.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms"
            + (f"  ({run.failures} failed)" if run.failures else ""))


def _row(verify: bool, app: str, run: Run) -> str:
    return (f"{verification_label(verify):<13}{app:<7}{run.requests_per_second:9.0f}"
            f"{run.p50_ms:9.2f}{run.p99_ms:9.2f}{run.failures:8d}")


def _ratio_row(verify: bool, comparison: Comparison) -> str:
    return (f"{verification_label(verify):<13}{'ratio':<7}{comparison.throughput_ratio:8.2f}x"
            f"{'':>9}{comparison.p99_ratio:8.2f}x")


def cold_lines(cold: ColdStart) -> list[str]:
    rows = [("skill", cold.skill), ("skill, topic", cold.topic), ("hello world", cold.hello)]
    lines = [f"cold start: import + first IntentRequest, DynamoDB store on moto "
             f"(median of {cold.samples} fresh interpreters each, alternating; the skill's topic "
             f"question reads no preferences)"]
    lines += [f"  {name:<14}{timing.wall_ms:7.0f} ms wall{timing.cpu_ms:7.0f} ms CPU" for name, timing in rows]
    lines.append(f"  {'skill / hello':<14}{cold.ratio:7.2f} x      {cold.skill.cpu_ms / cold.hello.cpu_ms:7.2f} x")
    if cold.leaked:
        lines.append(f"  the skill's cold start imported {', '.join(cold.leaked)}")
    return lines


def memory_lines(memory: Mapping[bool, tuple[list[float], list[float]]]) -> list[str]:
    """`memory` maps verification on/off to the workers' RSS after warm-up and after the timed runs."""
    def megabytes(values: list[float]) -> str:
        return ", ".join(f"{value:.1f}" for value in values) or "unknown"
    return ["skill worker RSS (MB, each worker):"] + [
        f"  verification {verification_label(verify):<4}after warm-up {megabytes(warm)}; after the runs {megabytes(after)}"
        for verify, (warm, after) in memory.items()]


def table(comparisons: Mapping[bool, Comparison], import_ms: float, import_samples: int, cold: ColdStart,
          memory: Mapping[bool, tuple[list[float], list[float]]], load_name: str) -> str:
    """`comparisons` maps verification on/off to the median rounds of skill and plain."""
    lines = [f"load: {load_name}", "", HEADER, "-" * len(HEADER)]
    for verify, comparison in comparisons.items():
        lines += [_row(verify, "skill", comparison.skill), _row(verify, "plain", comparison.plain),
                  _ratio_row(verify, comparison)]
    lines += ["", *memory_lines(memory), "", *cold_lines(cold), "",
              f"import skill.app: {import_ms:.0f} ms (median of {import_samples} fresh interpreters, "
              f"minus `python -c pass`)", ""]
    lines += [target.line() for target in targets(comparisons[True], cold.ratio)]
    return "\n".join(lines)
