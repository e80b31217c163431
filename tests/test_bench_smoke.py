"""The benchmark's pure pieces: its statistics, its report and the request it sends (no timing here)."""
from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import IntentRequest

from bench.body import SKILL_ID, encode, intent_envelope
from bench.load import http_request
from bench.report import table
from bench.stats import Comparison, Run, median_run, percentile, targets

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)


def run(requests_per_second: float, p99_ms: float = 5.0) -> Run:
    return Run(requests_per_second=requests_per_second, p50_ms=1.0, p99_ms=p99_ms, failures=0)


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2


@pytest.mark.parametrize("values, percent", [([], 50), ([1.0], 0), ([1.0], 101)])
def test_percentile_rejects_what_it_cannot_answer(values: list, percent: float):
    with pytest.raises(ValueError):
        percentile(values, percent)


def test_run_from_unsorted_latencies():
    latencies = [ms / 1000 for ms in range(1, 101)]
    random.Random(4).shuffle(latencies)
    result = Run.from_latencies(latencies, elapsed_s=4.0, failures=2)
    assert result.requests_per_second == 25.0
    assert result.p50_ms == pytest.approx(50.0)
    assert result.p99_ms == pytest.approx(99.0)
    assert result.failures == 2


def test_median_run_is_the_middle_throughput_round_kept_whole():
    rounds = [run(900, p99_ms=9), run(700, p99_ms=7), run(800, p99_ms=8)]
    assert median_run(rounds) == run(800, p99_ms=8)
    assert median_run([run(2), run(1)]) == run(1)
    with pytest.raises(ValueError):
        median_run([])


def test_ratios_are_skill_over_plain():
    comparison = Comparison(skill=run(750, p99_ms=6.0), plain=run(1000, p99_ms=4.0))
    assert comparison.throughput_ratio == 0.75
    assert comparison.p99_ratio == 1.5


def test_targets_pass_at_their_bounds_and_fail_beyond():
    at_bounds = targets(Comparison(skill=run(750, p99_ms=7.9), plain=run(1000, p99_ms=4.0)), import_ms=249)
    beyond = targets(Comparison(skill=run(749, p99_ms=8.0), plain=run(1000, p99_ms=4.0)), import_ms=250)
    assert [target.passed for target in at_bounds] == [True, True, True]
    assert [target.passed for target in beyond] == [False, False, False]


def test_table_shows_both_modes_ratios_and_verdicts():
    comparisons = {True: Comparison(skill=run(600, p99_ms=9.0), plain=run(1000, p99_ms=4.0)),
                   False: Comparison(skill=run(900), plain=run(1000))}
    text = table(comparisons, import_ms=180.4, import_samples=7)
    assert "on           ratio      0.60x             2.25x" in text
    assert "off          ratio      0.90x             1.00x" in text
    assert "FAIL  verification on: skill throughput >= 0.75 x plain (measured 0.60 x)" in text
    assert "PASS  import skill.app < 250 ms (measured 180 ms)" in text


def test_body_is_a_valid_intent_request_of_about_2_kb():
    body = encode(intent_envelope(NOW))
    envelope = DefaultSerializer().deserialize(body.decode("utf-8"), "ask_sdk_model.request_envelope.RequestEnvelope")

    assert 1800 <= len(body) <= 2300
    assert isinstance(envelope.request, IntentRequest)
    assert envelope.request.timestamp == NOW
    assert envelope.context.system.application.application_id == SKILL_ID
    assert envelope.session.application.application_id == SKILL_ID
    slot = envelope.request.intent.slots["condition"]
    assert slot.resolutions.resolutions_per_authority[0].values[0].value.id == "TROCHANTERIC_BURSITIS"


def test_http_request_is_one_complete_post():
    body = encode(intent_envelope(NOW))
    request = http_request(8080, body, {"Content-Type": "application/json", "Signature-256": "c2ln"})
    head, _, sent_body = request.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")

    assert lines[0] == "POST /alexa HTTP/1.1"
    assert {"Host: 127.0.0.1:8080", f"Content-Length: {len(body)}", "Connection: close",
            "Content-Type: application/json", "Signature-256: c2ln"} == set(lines[1:])
    assert sent_body == body
