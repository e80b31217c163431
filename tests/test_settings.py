"""Settings from HIP_HELPER_* variables; development mode never comes from the environment."""
from pathlib import Path

import pytest

from skill.settings import Settings, SettingsError


def test_settings_come_from_prefixed_variables():
    settings = Settings.from_env({"HIP_HELPER_SKILL_ID": "amzn1.ask.skill.x", "HIP_HELPER_API_TIMEOUT": "1.5",
                                  "HIP_HELPER_DB_PATH": "/tmp/prefs.sqlite3", "OTHER": "ignored"})
    assert settings.skill_id == "amzn1.ask.skill.x"
    assert settings.api_timeout == 1.5 and settings.db_path == Path("/tmp/prefs.sqlite3")


def test_development_mode_cannot_be_switched_on_by_the_environment():
    assert Settings.from_env({"HIP_HELPER_DEV_MODE": "true"}).dev_mode is False
    assert Settings.from_env({}, dev_mode=True).verify_signature is False


def test_a_malformed_value_names_the_variable():
    with pytest.raises(SettingsError, match="HIP_HELPER_API_TIMEOUT"):
        Settings.from_env({"HIP_HELPER_API_TIMEOUT": "soon"})


def test_production_needs_a_skill_id():
    with pytest.raises(SettingsError, match="HIP_HELPER_SKILL_ID"):
        Settings.from_env({}).require_skill_id()
