"""The benchmark's pure pieces: its statistics, its report and the request it sends (no timing here)."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import IntentRequest

from bench import cold
from bench.body import SKILL_ID, encode, intent_envelope
from bench.cold import ColdStart, Timing
from bench.load import http_request
from bench.report import cold_lines, table
from bench.wrk import lua_script, parse_output
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
    at_bounds = targets(Comparison(skill=run(750, p99_ms=8.0), plain=run(1000, p99_ms=4.0)), cold_ratio=0.75)
    beyond = targets(Comparison(skill=run(649, p99_ms=8.1), plain=run(1000, p99_ms=4.0)), cold_ratio=0.76)
    assert [target.passed for target in at_bounds] == [True, True, True, True]
    assert [target.passed for target in beyond] == [False, False, False, False]
    assert targets(Comparison(skill=run(650), plain=run(1000)), cold_ratio=0.5)[0].passed


COLD = ColdStart(skill=Timing(250.0, 240.0), topic=Timing(200.0, 190.0), hello=Timing(400.0, 300.0),
                 samples=5, leaked=())


def test_table_shows_both_modes_ratios_memory_cold_start_and_verdicts():
    comparisons = {True: Comparison(skill=run(600, p99_ms=9.0), plain=run(1000, p99_ms=4.0)),
                   False: Comparison(skill=run(900), plain=run(1000))}
    memory = {True: ([40.04, 41.0], [40.5, 41.25]), False: ([39.0, 39.0], [])}
    text = table(comparisons, import_ms=180.4, import_samples=7, cold=COLD, memory=memory, load_name="wrk")
    assert text.startswith("load: wrk\n")
    assert "on           ratio      0.60x             2.25x" in text
    assert "off          ratio      0.90x             1.00x" in text
    assert "verification on  after warm-up 40.0, 41.0; after the runs 40.5, 41.2" in text
    assert "verification off after warm-up 39.0, 39.0; after the runs unknown" in text
    assert "  skill, topic      200 ms wall    190 ms CPU" in text
    assert "  skill / hello    0.62 x         0.80 x" in text
    assert "FAIL  verification on: skill throughput >= 0.65 x plain (measured 0.60 x)" in text
    assert "PASS  cold start: skill <= 0.75 x the stock ask-sdk hello world (measured 0.62 x)" in text
    assert "import skill.app: 180 ms" in text


def test_cold_report_names_modules_that_leaked_onto_the_lambda_path():
    leaky = ColdStart(skill=Timing(1, 1), topic=Timing(1, 1), hello=Timing(1, 1), samples=1, leaked=("requests",))
    assert cold_lines(leaky)[-1] == "  the skill's cold start imported requests"
    assert "imported" not in "\n".join(cold_lines(COLD))


def test_the_stock_hello_world_answers_a_cold_start_from_its_dynamodb_table(moto_endpoint: str):
    """One fresh interpreter, as the bench's cold section runs it (the skill's side is in test_lambda.py)."""
    cold.create_table(moto_endpoint)
    result = cold.invoke_cold(cold.apps(moto_endpoint)["hello"])

    assert "Hello World!" in result["reply"]["response"]["outputSpeech"]["ssml"]
    assert result["seconds"] > 0 and result["cpu_seconds"] > 0


WRK_OUTPUT = """Running 4s test @ http://127.0.0.1:40000/alexa
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.90ms  500.00us  12.00ms   90.00%
    Req/Sec     2.10k   100.00     2.30k    70.00%
  Latency Distribution
     50%    1.80ms
     75%    2.10ms
     90%    2.50ms
     99%  850.00us
  8400 requests in 4.00s, 10.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 400
Requests/sec:   2100.00
Transfer/sec:      2.50MB
"""


def test_wrk_output_becomes_a_run_without_the_failed_requests():
    result = parse_output(WRK_OUTPUT)
    assert result.requests_per_second == 2000.0
    assert result.p50_ms == pytest.approx(1.8)
    assert result.p99_ms == pytest.approx(0.85)
    assert result.failures == 403


def test_wrk_output_that_is_not_understood_raises():
    with pytest.raises(RuntimeError, match="not understood"):
        parse_output("unable to connect to 127.0.0.1:1 Connection refused")


def test_wrk_script_sends_the_exact_body_and_headers():
    body = encode(intent_envelope(NOW))
    script = lua_script(body, {"Signature-256": "c2ln+/="})
    assert f"wrk.body = {json.dumps(body.decode())}" in script
    assert 'wrk.headers["Signature-256"] = "c2ln+/="' in script
    assert script.startswith('wrk.method = "POST"')


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
