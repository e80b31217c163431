"""What a listener hears, from a response envelope: SSML reduced to plain text."""
import xml.etree.ElementTree as ET


def ssml_text(ssml: str) -> str:
    return " ".join("".join(ET.fromstring(ssml).itertext()).split())


def heard(reply: dict) -> str:
    speech = reply["response"].get("outputSpeech")
    return ssml_text(speech["ssml"]) if speech else ""


def reprompt(reply: dict) -> str:
    speech = (reply["response"].get("reprompt") or {}).get("outputSpeech")
    return ssml_text(speech["ssml"]) if speech else ""


def session_open(reply: dict) -> bool:
    return reply["response"].get("shouldEndSession") is False
