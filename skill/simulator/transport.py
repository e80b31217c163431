"""Getting a request envelope to the skill: in-process through Flask, or over HTTP to --url."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Protocol

from flask import Flask

from skill.settings import Settings

SKILL_ROUTE = "/alexa"


class TransportError(RuntimeError):
    """The skill endpoint could not be reached or did not answer 200 with JSON; one line for the user."""


class Transport(Protocol):
    def send(self, envelope: dict[str, Any]) -> dict[str, Any]: ...


def _excerpt(body: bytes, limit: int = 500) -> str:
    """The body on one line, cut short: error pages can be long HTML."""
    text = " ".join(body.decode(errors="replace").split())
    return text if len(text) <= limit else text[:limit] + "..."


def _decode(body: bytes, source: str) -> dict[str, Any]:
    try:
        reply = json.loads(body)
    except ValueError:
        raise TransportError(f"{source} answered with something that is not JSON: {_excerpt(body)}") from None
    if not isinstance(reply, dict):
        raise TransportError(f"{source} answered with JSON that is not an object: {_excerpt(body)}")
    return reply


class InProcessTransport:
    """Sends through the Flask test client: the same HTTP layer as production, without a socket."""

    def __init__(self, app: Flask) -> None:
        self._client = app.test_client()

    @classmethod
    def for_settings(cls, settings: Settings) -> "InProcessTransport":
        from skill.app import create_app  # imported late: building the app loads the whole skill

        return cls(create_app(settings))

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        answer = self._client.post(SKILL_ROUTE, data=json.dumps(envelope), content_type="application/json")
        if answer.status_code != 200:
            raise TransportError(f"the skill answered HTTP {answer.status_code}: {_excerpt(answer.get_data())}")
        return _decode(answer.get_data(), "the skill")


class HttpTransport:
    """POSTs JSON to a running skill, e.g. `hip-helper serve --dev` on http://127.0.0.1:5000/alexa."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url
        self._timeout = timeout

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self._url, data=json.dumps(envelope).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TransportError(f"cannot reach {self._url}: {reason} (is the skill running?)") from None
        except ValueError as error:
            raise TransportError(f"{self._url} is not a usable URL: {error}") from None
        if status != 200:
            raise TransportError(f"{self._url} answered HTTP {status}: {_excerpt(body)}")
        return _decode(body, self._url)
