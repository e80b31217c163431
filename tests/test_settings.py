"""Settings from HIP_HELPER_* variables; development mode never comes from the environment."""
import subprocess
import sys
from contextlib import ExitStack
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


def test_development_mode_keeps_preferences_in_the_checkout_in_an_ignored_folder():
    from skill.settings import CHECKOUT_DB_PATH, PROJECT_ROOT

    settings = Settings.from_env({}, dev_mode=True)
    assert settings.db_path == CHECKOUT_DB_PATH
    assert settings.db_path.is_relative_to(PROJECT_ROOT)
    ignored = subprocess.run(["git", "check-ignore", "-q", str(settings.db_path)], cwd=PROJECT_ROOT)
    assert ignored.returncode == 0, f"{settings.db_path} is not ignored by git"


def test_a_configured_path_wins_over_the_checkout_in_development_mode():
    assert Settings.from_env({"HIP_HELPER_DB_PATH": "/tmp/mine.sqlite3"}, dev_mode=True).db_path == Path("/tmp/mine.sqlite3")
    assert Settings.from_env({}, dev_mode=True, db_path=Path("/tmp/x.sqlite3")).db_path == Path("/tmp/x.sqlite3")


def test_production_keeps_the_documented_default_outside_the_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Settings.from_env({}).db_path == tmp_path / ".local/state/hip-helper/preferences.sqlite3"


def test_chat_uses_the_checkout_state(monkeypatch):
    from skill.settings import CHECKOUT_DB_PATH
    from skill.simulator import chat

    monkeypatch.delenv("HIP_HELPER_DB_PATH", raising=False)
    built = []
    monkeypatch.setattr(chat, "_in_process_skill", lambda settings, *rest: built.append(settings) or None)
    with ExitStack() as resources:
        chat._build_simulator(chat.ChatOptions(), None, None, resources)
    assert built[0].db_path == CHECKOUT_DB_PATH


def test_make_run_prints_where_the_preferences_file_is(tmp_path):
    from ports import listen_port
    from test_serving import environment

    port = listen_port()
    # No configured path, as after a fresh clone; a given log secret keeps the test from writing to the checkout.
    env = {key: value for key, value in environment(tmp_path, HIP_HELPER_LOG_SECRET="test").items()
           if key != "HIP_HELPER_DB_PATH"}
    process = subprocess.Popen([sys.executable, "-m", "skill", "serve", "--dev", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = process.stdout.readline()
    finally:
        process.terminate()
        process.communicate(timeout=15)
    from skill.settings import CHECKOUT_DB_PATH
    assert f"preferences in {CHECKOUT_DB_PATH}" in banner, banner
