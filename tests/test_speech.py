"""The speech composer: guidance in every answer, escaping, limits, session rules."""
import xml.etree.ElementTree as ET

import pytest

from skill.domain.content import Content
from skill.domain.speech import MAX_SSML_CHARS, Pause, SpeechComposer, breaks
from skill.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def composer() -> SpeechComposer:
    return SpeechComposer(Content.load(PROJECT_ROOT / "content"))


def plain(ssml: str) -> str:
    return " ".join("".join(ET.fromstring(ssml).itertext()).split())


def test_open_response_puts_guidance_before_the_question(composer):
    reply = composer.compose(["Ice helps."], locale="en-US", full_guidance=True,
                             question="What else?", card_title="Hip Helper")
    text = plain(reply.ssml)
    assert text.startswith("Ice helps.")
    assert text.index("call 911") < text.index("What else?")
    assert text.endswith("What else?")
    assert reply.end_session is False
    assert plain(reply.reprompt_ssml) == "What else?"


def test_closing_response_ends_with_a_statement(composer):
    reply = composer.compose(["Goodbye."], locale="en-US", full_guidance=False, question=None, card_title="t")
    assert reply.end_session is True and reply.reprompt_ssml is None
    assert not plain(reply.ssml).endswith("?")
    assert "call 911" in plain(reply.ssml) and "doctor" in plain(reply.ssml)


def test_full_and_short_guidance_both_name_emergency_and_doctor(composer):
    full = plain(composer.compose([], locale="en-GB", full_guidance=True, question=None, card_title="t").ssml)
    short = plain(composer.compose([], locale="en-GB", full_guidance=False, question=None, card_title="t").ssml)
    assert "not medical advice" in full and "not medical advice" not in short
    for text in (full, short):
        assert "call 999" in text and "See a doctor" in text


def test_unknown_locale_uses_the_generic_number(composer):
    reply = composer.compose([], locale="de-DE", full_guidance=False, question=None, card_title="t")
    assert "call your local emergency number" in plain(reply.ssml)


def test_text_is_escaped_for_ssml(composer):
    reply = composer.compose(["Tom & Jerry <b>run</b> > walk"], locale="en-US", full_guidance=False,
                             question="Ready & set?", card_title="t")
    ET.fromstring(reply.ssml)  # parses: one <speak> root, nothing unescaped
    assert "Tom &amp; Jerry &lt;b&gt;run&lt;/b&gt; &gt; walk" in reply.ssml
    assert "<b>" not in reply.ssml
    assert plain(reply.ssml).endswith("Ready & set?")


def test_question_is_required_to_keep_the_session_open(composer):
    with pytest.raises(ValueError, match="question"):
        composer.compose(["x"], locale="en-US", full_guidance=False, question="Tell me more.", card_title="t")


def test_long_pauses_become_breaks_of_at_most_ten_seconds():
    assert breaks(30) == '<break time="10s"/>' * 3
    assert breaks(12.5) == '<break time="10s"/><break time="2500ms"/>'


def test_pauses_render_inside_speech_and_not_on_the_card(composer):
    reply = composer.compose(["Hold it.", Pause(25), "Switch legs."], locale="en-US", full_guidance=False,
                             question=None, card_title="t")
    assert reply.ssml.count("<break time=\"10s\"/>") == 2 and '<break time="5s"/>' in reply.ssml
    assert "break" not in reply.card_text and "Hold it. Switch legs." in reply.card_text


def test_overlong_body_is_trimmed_but_guidance_and_question_stay(composer):
    body = [f"Sentence number {i} is here." for i in range(600)]
    reply = composer.compose(body, locale="en-US", full_guidance=True, question="Anything else?", card_title="t")
    assert len(reply.ssml) <= MAX_SSML_CHARS
    text = plain(reply.ssml)
    assert "call 911" in text and text.endswith("Anything else?")


def test_card_repeats_answer_and_full_guidance(composer):
    reply = composer.compose(["Ice helps."], locale="en-US", full_guidance=False, question=None,
                             card_title="Hip Helper")
    assert reply.card_title == "Hip Helper"
    assert reply.card_text.startswith("Ice helps.")
    assert "call 911" in reply.card_text and "not medical advice" in reply.card_text


def test_guidance_follows_the_answers_urgency_and_never_softens_it(composer):
    routine = composer.guidance("en-US", full=False)
    for urgency in ("emergency_now", "doctor_1_2_days", "doctor_few_days", "doctor_within_week"):
        reply = composer.compose(["Advice."], locale="en-US", full_guidance=False, question=None, card_title="t",
                                 urgency=urgency)
        text = plain(reply.ssml)
        assert composer.guidance("en-US", full=False, urgency=urgency) in text
        assert routine not in text and "not easing" not in text, urgency
