"""The benchmark's printed output: one line per run while it goes, then a compact table and the targets."""
from __future__ import annotations

from collections.abc import Mapping

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


def table(comparisons: Mapping[bool, Comparison], import_ms: float, import_samples: int) -> str:
    """`comparisons` maps verification on/off to the median rounds of skill and plain."""
    lines = [HEADER, "-" * len(HEADER)]
    for verify, comparison in comparisons.items():
        lines += [_row(verify, "skill", comparison.skill), _row(verify, "plain", comparison.plain),
                  _ratio_row(verify, comparison)]
    lines += ["", f"import skill.app: {import_ms:.0f} ms "
                  f"(median of {import_samples} fresh interpreters, minus `python -c pass`)", ""]
    lines += [target.line() for target in targets(comparisons[True], import_ms)]
    return "\n".join(lines)
