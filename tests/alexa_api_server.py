"""The `alexa_api_server` fixture: skill/simulator/alexa_api_stub.py started for one test.

tests/conftest.py registers this module as a plugin, so every test can ask for it.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from skill.simulator.alexa_api_stub import AlexaApiServer


@pytest.fixture(name="alexa_api_server")
def alexa_api_server_fixture(tmp_path: Path) -> Iterator[AlexaApiServer]:
    """A started server with fresh TLS material and state, stopped after the test."""
    with AlexaApiServer(tmp_path) as server:
        yield server
