"""One structured log line per request, and nothing a person said about their body in it."""
import json
import logging

from alexa_requests import USER_ID

PRIVATE_WORDS = "my left hip throbs at night"


def log_lines(caplog):
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "hip_helper.requests"]


def test_a_handled_request_logs_one_line_without_slot_values_or_raw_user_ids(alexa, caplog):
    caplog.set_level(logging.INFO, logger="hip_helper.requests")
    alexa.user_id = USER_ID
    envelope = alexa.envelope({"type": "IntentRequest", "intent": {
        "name": "DescribePainIntent", "confirmationStatus": "NONE",
        "slots": {"location": alexa.slot("location", PRIVATE_WORDS, slot_type="PainLocation", no_match=True)}}})
    alexa.post(envelope)
    [line] = log_lines(caplog)
    assert line["request_id"] == envelope["request"]["requestId"]
    assert line["type"] == "IntentRequest" and line["intent"] == "DescribePainIntent"
    assert line["status"] == 200 and line["latency_ms"] >= 0 and line["end_session"] is False
    assert len(line["user"]) == 16 and line["user"] not in USER_ID
    everything = caplog.text + " ".join(record.getMessage() for record in caplog.records)
    assert PRIVATE_WORDS not in everything and USER_ID not in everything


def test_a_rejected_request_logs_its_reason(alexa, caplog):
    caplog.set_level(logging.INFO, logger="hip_helper.requests")
    response = alexa.client.post("/alexa", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    [line] = log_lines(caplog)
    assert line == {"status": 400, "latency_ms": line["latency_ms"], "reason": "malformed JSON"}
