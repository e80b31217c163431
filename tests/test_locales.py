"""Hip Helper in five English locales: content layered by locale, each locale's own emergency
number and urgent-care line with their sources, dates and times said the local way."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

import locales
from skill.domain.content import Content, ContentError, local_source_ids, read_yaml
from skill.domain.layers import ContentLayers, layer_chain
from skill.domain.reminders import ReminderWords, plan_reminder
from skill.settings import PROJECT_ROOT
from speech_text import heard
from test_reminder_handlers import ask_for_daily_reminder, device  # noqa: F401 (a fixture)

CONTENT_DIR = PROJECT_ROOT / "content"
LAYERS = ContentLayers(CONTENT_DIR)
CONTENT_FILES = sorted(path.stem for path in CONTENT_DIR.glob("*.yaml"))
GUIDANCE_FORMS = ("full", "short") + tuple(f"urgency.{u}.{form}" for u in
                                           ("emergency_now", "doctor_1_2_days", "doctor_few_days", "doctor_within_week")
                                           for form in ("full", "short"))

# Everything a locale says differently from the default layer, file by file. A reviewer reads the
# differences here; a new override fails this test until it is listed.
OVERRIDES = {
    "en-US": {},
    "en-CA": {"guidance": ["full", "short"]},
    "en-GB": {
        "guidance": list(GUIDANCE_FORMS),
        "triage": ["outcomes.EMERGENCY_INJURY", "outcomes.EMERGENCY_INFECTION", "outcomes.EMERGENCY_NERVE",
                   "outcomes.DOCTOR_1_2_DAYS_BONE_STRESS", "outcomes.DOCTOR_1_2_DAYS_SWELLING",
                   "outcomes.DOCTOR_FEW_DAYS_REST_PAIN", "outcomes.DOCTOR_FEW_DAYS_GROIN",
                   "outcomes.DOCTOR_WITHIN_WEEK_UNCLEAR", "advice.IF_NOT_BETTER", "advice.SEE_DOCTOR_WITHIN_WEEK"],
        "answers": ["see_doctor"],
        "reminders": ["words.day", "words.day_in_year", "words.clock", "words.clock_minutes", "words.time_zone"],
    },
    "en-AU": {
        "guidance": ["full", "short", "urgency.emergency_now.short"]
                    + [form for form in GUIDANCE_FORMS if form.startswith("urgency.doctor")],
        "triage": ["outcomes.DOCTOR_1_2_DAYS_BONE_STRESS", "outcomes.DOCTOR_1_2_DAYS_SWELLING",
                   "outcomes.DOCTOR_FEW_DAYS_REST_PAIN", "outcomes.DOCTOR_FEW_DAYS_GROIN",
                   "outcomes.DOCTOR_WITHIN_WEEK_UNCLEAR", "advice.IF_NOT_BETTER", "advice.SEE_DOCTOR_WITHIN_WEEK"],
        "answers": ["see_doctor"],
        "reminders": ["words.day", "words.day_in_year"],
    },
    "en-IN": {"reminders": ["words.day", "words.day_in_year", "words.time_zone"]},
}
# The numbers and lines each served locale hears, each confirmed by the sources content records.
EMERGENCY = {"en-US": "911", "en-CA": "911", "en-GB": "999", "en-AU": "000", "en-IN": "112"}
URGENT_CARE = {"en-GB": "NHS 111", "en-CA": "811", "en-AU": "healthdirect"}


def test_the_five_locales_are_served():
    assert set(locales.SERVED) == set(OVERRIDES) == set(EMERGENCY)


@pytest.mark.parametrize("locale", sorted(OVERRIDES))
def test_every_override_per_locale_is_listed(locale):
    found = {name: list(LAYERS.read(name, locale).overrides) for name in CONTENT_FILES}
    assert {name: keys for name, keys in found.items() if keys} == OVERRIDES[locale]


def test_layers_follow_the_sdk_lookup_order():
    assert layer_chain("en-GB") == ("en", "en-GB")
    assert layer_chain("en") == ("en",)
    assert layer_chain(None) == ()


def _content_copy(tmp_path: Path, layers: dict[str, dict[str, object]]) -> Path:
    """content/ without its locale layers, plus `layers`."""
    tmp_path = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, tmp_path, ignore=shutil.ignore_patterns("locales"))
    for layer, files in layers.items():
        for name, data in files.items():
            (tmp_path / "locales" / layer).mkdir(parents=True, exist_ok=True)
            (tmp_path / "locales" / layer / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def test_a_locale_layer_wins_over_the_language_layer_which_wins_over_the_default(tmp_path):
    item = lambda text: {"say": text, "source": {"interface": True}}   # noqa: E731
    directory = _content_copy(tmp_path, {"en": {"prompts": {"thanks": item("Cheers, en."), "goodbye": item("Bye, en.")}},
                                         "en-GB": {"prompts": {"thanks": item("Cheers, en-GB.")}}})
    gb, nz, default = (Content.load(directory, locale) for locale in ("en-GB", "en-NZ", None))
    assert (gb.say("prompts.thanks"), gb.say("prompts.goodbye")) == ("Cheers, en-GB.", "Bye, en.")
    assert nz.say("prompts.thanks") == "Cheers, en."                # a locale with no layer of its own
    assert default.say("prompts.thanks") == Content.load(CONTENT_DIR).say("prompts.thanks")


@pytest.mark.parametrize("layer, problem", [
    ({"prompts": {"no_such_prompt": {"say": "Hi.", "source": {"interface": True}}}}, "changes nothing"),
    ({"triage": {"outcomes": {"OUTER_HIP_SELF_CARE": {"say": "Rest.", "source": {"interface": True},
                                                       "urgency": "emergency_now"}}}}, "not ['urgency']"),
    ({"answers": {"see_doctor": "See your GP."}}, "give its new 'say'"),
    ({"guidance": {"full": {"say": "Call {emergency_number}.", "source": {"supplementary": ["L99"]}}}},
     "does not record"),
    ({"guidance": {"emergency_numbers": {"en-GB": {"sources": []}}}}, "needs a number and its sources"),
])
def test_a_layer_changes_only_words_that_exist(tmp_path, layer, problem):
    from skill.runtime import load_services
    from skill.settings import Settings

    directory = _content_copy(tmp_path, {"en-GB": layer})
    with pytest.raises(ContentError, match=re.escape(problem)) as raised:
        load_services(Settings(content_dir=directory, dev_mode=True))
    assert "locales/en-GB" in raised.value.file


@pytest.mark.parametrize("locale", sorted(EMERGENCY))
def test_each_locale_has_its_emergency_number_and_urgent_line_with_sources(locale):
    places = locales.services(locale).content.places
    assert places.emergency(locale).number == EMERGENCY[locale]
    assert places.urgent_care.get(locale) == URGENT_CARE.get(locale)
    guidance = yaml.safe_load((CONTENT_DIR / "guidance.yaml").read_text(encoding="utf-8"))
    cited = guidance["emergency_numbers"][locale]["sources"] + guidance["urgent_care"].get(locale, {}).get("sources", [])
    assert cited and set(cited) - {s for s in cited if s.startswith("S")} <= local_source_ids(CONTENT_DIR / "sources.yaml", read_yaml(CONTENT_DIR / "sources.yaml"))
    # The first response of a session names the urgent service where there is one, else a doctor.
    first = locales.guidance_heard(locale, full=True, urgency="self_care")
    assert URGENT_CARE.get(locale, "doctor") in first


@pytest.mark.parametrize("locale", sorted(EMERGENCY))
@pytest.mark.parametrize("form", GUIDANCE_FORMS)
def test_every_guidance_form_in_every_locale_carries_both_lines_within_its_words(locale, form):
    text = locales.guidance_heard(locale, **_form(form))
    assert f"call {locales.number_heard(locale)}" in text.lower(), text
    assert any(words in text for words in ("doctor", "GP", URGENT_CARE.get(locale, "doctor"))), text
    if form.endswith("full"):
        assert "not a doctor" in text and len(text.split()) <= 30, text
    else:
        assert len(text.split()) <= 12, text


def _form(form: str) -> dict[str, object]:
    parts = form.split(".")
    return {"full": parts[-1] == "full", "urgency": parts[1] if len(parts) == 3 else "self_care"}


def test_every_local_source_cited_anywhere_in_content_is_recorded():
    known = local_source_ids(CONTENT_DIR / "sources.yaml", read_yaml(CONTENT_DIR / "sources.yaml"))
    cited = {match for path in CONTENT_DIR.rglob("*.yaml") if path.name != "sources.yaml"
             for match in re.findall(r"\bL\d+\b", path.read_text(encoding="utf-8"))}
    assert cited and cited <= known


@pytest.mark.parametrize("locale, number", [("en-IE", "112"), ("en-NZ", "111"), ("fr-FR", "your local emergency number"),
                                            ("xx-YY", "your local emergency number")])
def test_a_locale_outside_the_five_gets_a_sourced_number_or_the_fallback(alexa, locale, number):
    alexa.locale = locale
    reply = alexa.intent("CausesIntent")
    text = heard(reply)
    assert f"call {number}" in text and "see a doctor" in text.lower()
    assert not any(service in text for service in URGENT_CARE.values())


def test_the_number_is_said_digit_by_digit_or_by_its_name_and_shown_as_digits(alexa):
    alexa.locale = "en-GB"
    reply = alexa.intent("CausesIntent")
    assert '<say-as interpret-as="digits">999</say-as>' in reply["response"]["outputSpeech"]["ssml"]
    alexa.new_session()
    alexa.locale = "en-AU"
    reply = alexa.intent("CausesIntent")
    assert "call triple zero" in heard(reply) and "000" not in heard(reply)
    assert "call 000" in reply["response"]["card"]["text"]


# ---------------------------------------------------------------- dates and times

FRIDAY = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone.utc)   # a Friday


def words(locale: str) -> ReminderWords:
    layered = LAYERS.read("reminders", locale)
    return ReminderWords.parse(layered.path, layered.data)


@pytest.mark.parametrize("locale, when, time", [
    ("en-US", "on Friday, November 27", "7:30 pm"),
    ("en-CA", "on Friday, November 27", "7:30 pm"),
    ("en-GB", "on Friday 27 November", "19:30"),
    ("en-AU", "on Friday 27 November", "7:30 pm"),
    ("en-IN", "on Friday 27 November", "7:30 pm"),
])
def test_a_reminder_is_said_the_way_the_locale_says_dates_and_times(locale, when, time):
    monday = FRIDAY - dt.timedelta(days=4)
    plan = plan_reminder(time_slot="19:30", date_slot="2026-11-27", frequency_slot=None, words=words(locale),
                         time_zone="UTC", now=monday)
    assert (plan.spoken_when, plan.spoken_time) == (when, time)


def test_the_24_hour_clock_pads_the_hour():
    plan = plan_reminder(time_slot="07:05", date_slot=None, frequency_slot="DAILY", words=words("en-GB"),
                         time_zone="UTC", now=FRIDAY - dt.timedelta(hours=5))
    assert plan.spoken_time == "07:05"


@pytest.mark.parametrize("locale, zone", [("en-GB", "Europe/London"), ("en-IN", "Asia/Kolkata"), ("en-US", None),
                                          ("en-CA", None), ("en-AU", None)])
def test_only_a_one_zone_country_has_a_default_time_zone(locale, zone):
    assert words(locale).time_zone == zone


def test_a_uk_reminder_is_confirmed_and_created_on_the_24_hour_clock(device, alexa_api_server):
    device.locale = "en-GB"
    reply = ask_for_daily_reminder(device, time="19:30")
    assert heard(reply).endswith("Shall I remind you to stretch every day at 19:30?")
    done = device.intent("AMAZON.YesIntent")
    assert "I'll remind you to stretch every day at 19:30." in heard(done)
    [create] = [r for r in alexa_api_server.requests if r.method == "POST"]
    assert create.body["alertInfo"]["spokenInfo"]["content"][0]["locale"] == "en-GB"


@pytest.mark.parametrize("locale, created", [("en-IN", "Asia/Kolkata"), ("en-GB", "Europe/London"), ("en-US", None),
                                             ("en-AU", None)])
def test_without_the_device_time_zone_only_a_one_zone_country_still_gets_its_reminder(
        device, alexa_api_server, locale, created):
    alexa_api_server.time_zone = None
    device.locale = locale
    reply = ask_for_daily_reminder(device)
    if created is None:
        assert "couldn't get your device's time zone" in heard(reply)
        return
    device.intent("AMAZON.YesIntent")
    [create] = [r for r in alexa_api_server.requests if r.method == "POST"]
    assert create.body["trigger"]["timeZoneId"] == created
