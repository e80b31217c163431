"""Every spoken item: loads, has a source, obeys the wording rules, is short for the ear."""
from pathlib import Path

import pytest
import yaml

from skill.domain.content import Content, ContentError, wording_problems
from skill.settings import PROJECT_ROOT

CONTENT_DIR = PROJECT_ROOT / "content"
SEED = PROJECT_ROOT.parent / "shared" / "seed" / "hip-bone-pain-after-running.txt"
MAX_ANSWER_WORDS = 60


@pytest.fixture(scope="module")
def content() -> Content:
    return Content.load(CONTENT_DIR)


def seed_paragraphs() -> list[str]:
    blocks = [" ".join(block.split()) for block in SEED.read_text(encoding="utf-8").split("\n\n")]
    return [block for block in blocks if block]


def test_every_item_has_a_source(content):
    for item in content.items():
        assert {"document", "supplementary", "interface"} & set(item.source), item.key


def test_answers_are_short_for_the_ear(content):
    for item in content.items():
        assert len(item.say.split()) <= MAX_ANSWER_WORDS, f"{item.key} has {len(item.say.split())} words"


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed document is not beside this checkout")
def test_document_quotes_are_in_the_cited_paragraph(content):
    paragraphs = seed_paragraphs()
    for item in content.items():
        document = item.source.get("document")
        if document:
            paragraph = paragraphs[document["paragraph"] - 1]
            assert document["quote"] in paragraph, f"{item.key}: quote not in paragraph {document['paragraph']}"


def test_bursitis_says_inflamed_never_bursting(content):
    bursitis = content.say("answers.conditions.BURSITIS")
    assert "inflamed" in bursitis
    for item in content.items():
        assert "burst" not in item.say.lower(), item.key


def test_red_flags_are_marked_supplementary(content):
    signs = next(item for item in content.items() if item.key == "answers.emergency_signs")
    assert set(signs.source["supplementary"]) >= {"S3", "S24"}
    assert signs.note and "supplementary" in signs.note


GUIDANCE_KEYS = [key for key in Content.load(PROJECT_ROOT / "content").keys() if key.startswith("guidance.")
                  and key.rsplit(".", 1)[1] in ("full", "short")]


@pytest.mark.parametrize("key", GUIDANCE_KEYS)
def test_every_guidance_form_carries_both_lines_within_its_words(content, key):
    """Full: the first response of a session, at most 30 words, says "not a doctor". Short: at most 12."""
    text = content.say(key).replace("{emergency_number}", "911")
    assert "call 911" in text.lower() and "doctor" in text, key
    if key.endswith(".full"):
        assert "not a doctor" in text and len(text.split()) <= 30, text
    else:
        assert len(text.split()) <= 12, text


def test_every_urgency_has_its_guidance(content):
    from skill.domain.triage import URGENCIES
    assert len(GUIDANCE_KEYS) == 2 * len(URGENCIES)


def test_emergency_numbers_by_locale(content):
    assert content.emergency_number("en-US") == "911"
    assert content.emergency_number("en-GB") == "999"
    assert content.emergency_number("en-NZ") == "111"
    assert content.emergency_number("fr-FR") == "your local emergency number"


@pytest.mark.parametrize("text, problem", [
    ("You have bursitis.", "diagnosis"),
    ("You've got tendinitis from running.", "diagnosis"),
    ("I'll call an ambulance.", "call for help"),
    ("Alexa can contact emergency services for you.", "call for help"),
    ("You don't need a doctor for this.", "replaces a doctor"),
    ("Use this instead of a doctor.", "replaces a doctor"),
])
def test_wording_rules_catch(text, problem):
    assert any(problem in found for found in wording_problems(text)), text


@pytest.mark.parametrize("text", [
    "This can be associated with bursitis.",
    "I can't call for help for you.",
    "This is not a substitute for professional medical advice.",
    "See a doctor if the pain does not ease.",
])
def test_wording_rules_allow(text):
    assert wording_problems(text) == []


def _broken_copy(tmp_path: Path, file: str, mutate) -> Path:
    for path in CONTENT_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    data = yaml.safe_load((tmp_path / file).read_text(encoding="utf-8"))
    mutate(data)
    (tmp_path / file).write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("file, mutate, key", [
    ("answers.yaml", lambda d: d["causes"].pop("source"), "answers.causes.source"),
    ("answers.yaml", lambda d: d["causes"].update(say="You have bursitis."), "answers.causes.say"),
    ("prompts.yaml", lambda d: d["help"].update(say="Call {doctor_number}."), "prompts.help.say"),
    ("answers.yaml", lambda d: d["symptoms"]["source"].update(document={"paragraph": 0, "quote": "x"}),
     "answers.symptoms.source.document"),
    ("guidance.yaml", lambda d: d.pop("short"), "guidance.short"),
    ("prompts.yaml", lambda d: d["card_title"].update(shown="speaker"), "prompts.card_title.shown"),
])
def test_broken_content_stops_start_up_naming_file_and_key(tmp_path, file, mutate, key):
    directory = _broken_copy(tmp_path, file, mutate)
    with pytest.raises((ContentError, KeyError)) as raised:
        Content.load(directory)
    assert key in str(raised.value)
    if isinstance(raised.value, ContentError):
        assert raised.value.file.endswith(file)


def test_unparsable_yaml_names_the_file(tmp_path):
    directory = _broken_copy(tmp_path, "prompts.yaml", lambda d: None)
    (directory / "prompts.yaml").write_text("help: [unclosed", encoding="utf-8")
    with pytest.raises(ContentError, match="prompts.yaml"):
        Content.load(directory)
