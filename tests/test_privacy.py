""""Forget me", and what the store may hold: nothing about the user's body."""
import sqlite3

from alexa_requests import AlexaSession
from conftest import SKILL_ID, production_app_with
from speech_text import heard, session_open


def stored_rows(db_path):
    with sqlite3.connect(db_path) as connection:
        tables = [name for (name,) in connection.execute("select name from sqlite_master where type='table'")]
        return [row for table in tables for row in connection.execute(f"select * from {table}")]


def test_forget_me_asks_first_and_then_deletes_everything(signer, tmp_path):
    db = tmp_path / "prefs.sqlite3"
    alexa = AlexaSession(production_app_with(signer, db_path=db).test_client(), signer, SKILL_ID)
    alexa.launch()
    alexa.intent("StartRoutineIntent")
    assert stored_rows(db)
    ask = alexa.intent("ForgetMeIntent")
    assert "Nothing about your pain" in heard(ask) and heard(ask).endswith("delete it all?") and session_open(ask)
    assert stored_rows(db)                                      # nothing deleted before the yes
    done = alexa.intent("AMAZON.YesIntent")
    assert "deleted everything" in heard(done)
    assert stored_rows(db) == []


def test_no_keeps_what_is_remembered(signer, tmp_path):
    db = tmp_path / "prefs.sqlite3"
    alexa = AlexaSession(production_app_with(signer, db_path=db).test_client(), signer, SKILL_ID)
    alexa.launch()
    alexa.intent("ForgetMeIntent")
    assert "haven't deleted anything" in heard(alexa.intent("AMAZON.NoIntent"))
    assert stored_rows(db)


def test_the_long_introduction_is_heard_once(signer, tmp_path):
    alexa = AlexaSession(production_app_with(signer, db_path=tmp_path / "p.sqlite3").test_client(), signer, SKILL_ID)
    assert heard(alexa.launch()).startswith("Welcome to Hip Helper.")
    alexa.intent("AMAZON.StopIntent")
    again = heard(alexa.launch())
    assert again.startswith("Welcome back") and "call 911" in again
