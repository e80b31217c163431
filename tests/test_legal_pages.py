"""GET /privacy and GET /terms: well-formed plain HTML from content/legal.yaml that says exactly what is stored."""
from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from conftest import SKILL_ID, production_app_with
from skill.domain.content import Content, ContentError, read_yaml
from skill.legal import LegalPages, link_manifest
from skill.persistence import ALLOWED_ATTRIBUTES, user_key
from skill.settings import PROJECT_ROOT, SettingsError
# offline: a fixture (preferences in the test's own file, loopback only), so it is imported by name.
from test_chat_reminders import chat, offline  # noqa: F401

LEGAL = PROJECT_ROOT / "content" / "legal.yaml"
MANIFEST = PROJECT_ROOT / "deploy" / "skill-package" / "skill.json"
CONTACT = "privacy@hip-helper.test"


@pytest.fixture(scope="module")
def client(signer, tmp_path_factory):
    app = production_app_with(signer, db_path=tmp_path_factory.mktemp("db") / "prefs.sqlite3", contact_email=CONTACT)
    return app.test_client()


@pytest.fixture(scope="module", params=["/privacy", "/terms"])
def page(request, client):
    response = client.get(request.param)
    assert response.status_code == 200
    return response


def parsed(response) -> ET.Element:
    """The page as XML: fails unless it is well formed."""
    return ET.fromstring(response.get_data())


def text_of(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


class TagCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)


def test_the_pages_are_well_formed_plain_accessible_html(page):
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.get_data(as_text=True).startswith("<!DOCTYPE html>\n")
    root = parsed(page)
    assert root.tag == "html" and root.get("lang") == "en"
    title = root.find("head/title")
    assert title is not None and text_of(title)
    headings = root.findall(".//h1")
    assert len(headings) == 1 and text_of(headings[0]) == text_of(title)
    assert root.findall(".//section/h2"), "every section has a heading"
    counter = TagCounter()
    counter.feed(page.get_data(as_text=True))
    assert not {"script", "style", "iframe", "img", "form", "link"} & set(counter.tags)
    assert "on" not in {name[:2] for element in root.iter() for name in element.attrib}, "no event handlers"
    assert page.headers["Content-Security-Policy"] == "default-src 'none'"


def test_the_pages_need_no_signature_and_are_cacheable(page, client):
    # The client sends no Signature headers; production mode still serves the page.
    assert page.cache_control.public and page.cache_control.max_age >= 3600
    path = "/privacy" if "privacy" in text_of(parsed(page).find("head/title")) else "/terms"
    again = client.get(path, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304


def test_every_stored_attribute_has_exactly_one_plain_sentence(client):
    root = parsed(client.get("/privacy"))
    listed = {item.get("data-attribute"): text_of(item) for item in root.iter("li")}
    assert set(listed) == ALLOWED_ATTRIBUTES
    assert all(sentence.endswith(".") and "_" not in sentence for sentence in listed.values()), listed


def test_a_new_stored_attribute_without_a_sentence_stops_the_pages_loading():
    with pytest.raises(ContentError, match="missing \\['last_pain_score'\\]"):
        LegalPages.load(LEGAL, CONTACT, allowed=ALLOWED_ATTRIBUTES | {"last_pain_score"})
    with pytest.raises(ContentError, match="not stored \\['routine'\\]"):
        LegalPages.load(LEGAL, CONTACT, allowed=ALLOWED_ATTRIBUTES - {"routine"})


def test_the_privacy_page_states_the_hashed_key_no_symptoms_deletion_and_contact(client):
    text = text_of(parsed(client.get("/privacy")))
    assert "SHA-256 hash" in text and "never stores your symptoms" in text
    assert f"write to {CONTACT}." in text
    digest = user_key(_envelope("amzn1.ask.account.PAGE-CLAIM"))
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and "PAGE-CLAIM" not in digest  # what "a SHA-256 hash" claims


def test_the_deletion_phrase_on_the_page_really_deletes(client, offline):
    phrase = re.search(r'Say "Alexa, (ask hip helper to forget me)"', text_of(parsed(client.get("/privacy")))).group(1)
    done = Content.load(PROJECT_ROOT / "content").say("prompts.forget_me_done")
    assert f"Alexa: {done}" in chat([phrase, "yes"])


def test_without_a_configured_contact_the_pages_say_where_to_write(signer, tmp_path):
    app = production_app_with(signer, db_path=tmp_path / "prefs.sqlite3")
    text = text_of(parsed(app.test_client().get("/terms")))
    assert "write to the developer, through this skill's page in the Alexa app." in text


def test_every_sentence_has_a_source():
    def items(node):
        if isinstance(node, dict) and "say" in node:
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from items(value)
        elif isinstance(node, list):
            for value in node:
                yield from items(value)

    found = list(items(read_yaml(LEGAL)))
    assert len(found) > 20
    assert all({"interface", "document", "supplementary"} & set(item.get("source", {})) for item in found)


def test_a_locale_layer_overrides_only_what_it_names(tmp_path):
    data = read_yaml(LEGAL)
    data["en-GB"] = {"privacy": {"title": {"say": "Hip Helper privacy notice", "source": {"interface": True}}}}
    path = tmp_path / "legal.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML
    pages = LegalPages.load(path, CONTACT)
    british = ET.fromstring(pages.render("privacy", "en-GB"))
    assert british.get("lang") == "en-GB" and text_of(british.find("head/title")) == "Hip Helper privacy notice"
    default = ET.fromstring(pages.render("privacy", "en-US"))
    assert text_of(british.find("body")).replace("notice", "policy") == text_of(default.find("body"))


def test_the_manifest_links_both_pages_for_every_locale_under_the_public_base_url(tmp_path):
    manifest = json.loads(MANIFEST.read_text())
    linked = link_manifest(manifest, "https://skill.example.org/")
    for locale, urls in linked["manifest"]["privacyAndCompliance"]["locales"].items():
        assert urls == {"privacyPolicyUrl": f"https://skill.example.org/privacy?locale={locale}",
                        "termsOfUseUrl": f"https://skill.example.org/terms?locale={locale}"}
    with pytest.raises(SettingsError, match="https"):
        link_manifest(manifest, "http://skill.example.org")

    sys.path.insert(0, str(PROJECT_ROOT / "deploy"))
    import skill_package  # deploy/skill_package.py: what `make skill-package` runs
    out = skill_package.build(out=tmp_path / "pkg", public_base_url="https://skill.example.org/")
    assert json.loads((out / "skill.json").read_text())["manifest"]["privacyAndCompliance"] == \
        linked["manifest"]["privacyAndCompliance"]


def test_the_checked_in_manifest_already_uses_the_served_paths():
    manifest = json.loads(MANIFEST.read_text())
    assert link_manifest(manifest, "https://hip-helper.example.com") == manifest


def test_a_locale_query_for_an_unknown_locale_gets_the_default_words(client):
    assert client.get("/privacy?locale=xx-XX").get_data() == client.get("/privacy").get_data()


def _envelope(user_id: str):
    from ask_sdk_model import RequestEnvelope
    from ask_sdk_core.serialize import DefaultSerializer

    envelope = {"version": "1.0", "context": {"System": {"user": {"userId": user_id},
                                                         "application": {"applicationId": SKILL_ID}}},
                "request": {"type": "LaunchRequest", "requestId": "r", "timestamp": "2024-01-01T00:00:00Z"}}
    return DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope)
