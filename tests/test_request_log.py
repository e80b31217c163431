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


def test_the_log_pseudonym_is_keyed_and_is_not_the_store_key(alexa, caplog):
    import hashlib
    from skill.request_log import RequestLog

    caplog.set_level(logging.INFO, logger="hip_helper.requests")
    alexa.user_id = USER_ID
    alexa.launch()
    [line] = log_lines(caplog)
    store_key = hashlib.sha256(USER_ID.encode()).hexdigest()
    assert line["user"] not in store_key  # an unsalted hash of the id would be a prefix of it
    assert line["user"] == RequestLog(alexa.client.application.config["HIP_HELPER_SETTINGS"]
                                      .log_pseudonym_key()).pseudonym(USER_ID)
    assert RequestLog(b"another deployment").pseudonym(USER_ID) != line["user"]


def test_an_unset_log_secret_is_generated_once_and_kept(tmp_path):
    from skill.settings import Settings

    settings = Settings(db_path=tmp_path / "state" / "prefs.sqlite3")
    key = settings.log_pseudonym_key()
    assert len(key) == 32 and settings.log_pseudonym_key() == key
    assert (tmp_path / "state" / "log-secret").stat().st_mode & 0o077 == 0
    assert Settings(db_path=tmp_path / "state" / "prefs.sqlite3", log_secret="configured").log_pseudonym_key() == b"configured"


def test_a_failing_handler_logs_its_exception_type_and_place_not_its_message(alexa, caplog, monkeypatch):
    """The failure is injected (no handler fails on purpose); what it logs is the real catch-all's."""
    from skill.handlers import session

    def fail(self, handler_input):
        raise ValueError(PRIVATE_WORDS)

    monkeypatch.setattr(session.Help, "handle", fail)
    caplog.set_level(logging.INFO)
    reply = alexa.intent("AMAZON.HelpIntent")
    assert reply["response"]["outputSpeech"]["ssml"]  # a spoken apology, not a 500
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage().startswith("handler failed with ValueError at test_request_log.py:")
    assert not record.exc_info and PRIVATE_WORDS not in caplog.text
