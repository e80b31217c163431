"""Stretch reminders through the Alexa Reminders API.

The user confirms each reminder (time and recurrence said back) before it is created; with
no permission yet, Alexa asks for it by voice, and a refusal gets a card, never a false "done".
API failures get a short apology and the session goes on. All API calls for one request share
its deadline (alexa_api.request_factory), so a slow API costs an apology, never the reply.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from ask_sdk_model import Response

from skill import alexa_api
from skill.domain.reminders import (PlanIssue, ReminderPlan, is_stretch_reminder, plan_reminder, same_reminder,
                                    time_said, to_request_body)
from skill.handlers.base import Handler
from skill.handlers.turn import Turn
from skill.session_state import REMINDER_BODY, REMINDER_DRAFT, REMINDER_UNCONFIRMED

log = logging.getLogger("hip_helper.reminders")

OFFER_CREATE_REMINDER = "create_reminder"
PERMISSION_TOKEN = "stretch-reminder"


def _apology(turn: Turn, error: alexa_api.AlexaApiError) -> Response:
    log.warning("reminders API %s failed: %s %s", error.operation, type(error).__name__, error.status)
    key = "too_slow" if isinstance(error, alexa_api.OutOfTime) else "unavailable"
    return turn.ask_more([turn.text(f"reminders.{key}")])


def _permission_card(turn: Turn, lead: list[str]) -> Response:
    response = turn.ask_more(lead + [turn.text("reminders.permission_needed")])
    response.card = alexa_api.reminder_permission_card()
    return response


class SetReminder(Handler):
    """"Remind me to stretch every day at 7 am": work out the plan, then ask the user to confirm it."""

    intents = frozenset({"SetReminderIntent"})

    def answer(self, turn: Turn) -> Response:
        # What the user said now, filled in from the request that was missing only the time
        # (Alexa carries the other slots in the elicited intent; the draft covers a plain follow-up).
        draft = turn.session.pop(REMINDER_DRAFT, None) or {}
        said = {"time": turn.slot_value("time"), "date": turn.slot_value("date") or draft.get("date"),
                "frequency": turn.slot_id("frequency") or draft.get("frequency"),
                "frequency_words": turn.slot_value("frequency") or draft.get("frequency_words"),
                "part_of_day": turn.slot_id("part_of_day") or draft.get("part_of_day")}
        if not time_said(said["time"], said["frequency_words"], turn.services.reminder_words, said["part_of_day"]):
            return _ask_for_time(turn, said)
        factory = alexa_api.request_factory(turn.handler_input)
        device_id = turn.handler_input.request_envelope.context.system.device.device_id
        time_zone = alexa_api.device_time_zone(factory, device_id) or turn.services.reminder_words.time_zone
        if time_zone is None:
            return turn.ask_more([turn.text("reminders.no_time_zone")])
        now = datetime.now(timezone.utc)
        plan = plan_reminder(time_slot=said["time"], date_slot=said["date"], frequency_slot=said["frequency"],
                             frequency_words=said["frequency_words"], part_slot=said["part_of_day"],
                             words=turn.services.reminder_words,
                             time_zone=time_zone, now=now)
        if isinstance(plan, PlanIssue):
            return turn.ask_more([turn.text(f"reminders.{plan.value}")])
        body = to_request_body(plan, turn.text("reminders.text"), turn.locale or "en-US", now)
        turn.session[REMINDER_BODY] = {"body": body, "when": plan.spoken_when, "time": plan.spoken_time}
        return turn.say(_plan_notes(turn, plan),
                        question=turn.text("prompts.questions.confirm_reminder", when=plan.spoken_when,
                                           time=plan.spoken_time),
                        offer=OFFER_CREATE_REMINDER)


def _ask_for_time(turn: Turn, said: dict[str, str | None]) -> Response:
    """Ask for the time as Alexa's time slot; keep what was said for the answer."""
    turn.session[REMINDER_DRAFT] = {key: value for key, value in said.items() if value and key != "time"}
    return turn.say([], question=turn.text("prompts.questions.reminder_time"), elicit=("SetReminderIntent", "time"))


def _plan_notes(turn: Turn, plan: ReminderPlan) -> list[str]:
    notes = []
    if plan.part_of_day:
        notes.append(turn.text("reminders.part_of_day", part_of_day=plan.part_of_day, time=plan.spoken_time))
    if plan.spoken_start:
        notes.append(turn.text("reminders.starting", start=plan.spoken_start))
    return notes


def create_confirmed(turn: Turn) -> Response:
    """The user said yes to the reminder: create it, or ask for the permission first."""
    pending = turn.session.get(REMINDER_BODY)
    factory = alexa_api.request_factory(turn.handler_input)
    try:
        alexa_api.require_consent_token(turn.handler_input.request_envelope)
        if turn.session.pop(REMINDER_UNCONFIRMED, None) and _already_set(factory, pending["body"]):
            turn.session.pop(REMINDER_BODY, None)
            turn.preferences.update(reminders=True)
            return turn.ask_more([turn.text("reminders.already_set", when=pending["when"],
                                            time=pending["time"])])
        alexa_api.create_reminder(factory, pending["body"])
    except alexa_api.PermissionRequired:
        # Keep the confirmed reminder for when Alexa comes back with the user's answer.
        builder = turn.handler_input.response_builder
        builder.add_directive(alexa_api.reminder_permission_directive(PERMISSION_TOKEN))
        return builder.response
    except alexa_api.OutOfTime as error:
        # It may have been created: the user's retry looks before creating another.
        turn.session.pop(REMINDER_BODY, None)
        turn.session[REMINDER_UNCONFIRMED] = True
        log.warning("reminders API %s ran out of time", error.operation)
        return turn.ask_more([turn.text("reminders.create_unconfirmed")])
    except alexa_api.AlexaApiError as error:
        turn.session.pop(REMINDER_BODY, None)
        return _apology(turn, error)
    turn.session.pop(REMINDER_BODY, None)
    turn.preferences.update(reminders=True)
    return turn.ask_more([turn.text("reminders.created", when=pending["when"], time=pending["time"])])


def _already_set(factory: object, body: dict) -> bool:
    return any(same_reminder(alert, body) for alert in alexa_api.list_reminders(factory))


def decline_reminder(turn: Turn) -> Response:
    turn.session.pop(REMINDER_BODY, None)
    return turn.ask_more([turn.text("reminders.not_set")])


class PermissionAnswer(Handler):
    """Alexa's Connections.Response to the voice permission request."""

    def matches(self, turn: Turn) -> bool:
        return turn.request_type == "Connections.Response"

    def answer(self, turn: Turn) -> Response:
        answer = alexa_api.parse_permission_answer(turn.request)
        if answer.accepted and REMINDER_BODY in turn.session:
            return create_confirmed(turn)
        turn.session.pop(REMINDER_BODY, None)
        return _permission_card(turn, [turn.text("reminders.not_set")])


class ListReminders(Handler):
    intents = frozenset({"ListRemindersIntent"})

    def answer(self, turn: Turn) -> Response:
        try:
            alerts = alexa_api.list_reminders(alexa_api.request_factory(turn.handler_input))
        except alexa_api.PermissionRequired:
            return _permission_card(turn, [])
        except alexa_api.AlexaApiError as error:
            return _apology(turn, error)
        count = sum(is_stretch_reminder(alert, turn.text("reminders.text")) for alert in alerts)
        key = {0: "count_none", 1: "count_one"}.get(count, "count_many")
        return turn.ask_more([turn.text(f"reminders.{key}", count=count)])


class CancelReminders(Handler):
    """"Cancel my stretch reminders": deletes only this skill's stretch reminders."""

    intents = frozenset({"CancelRemindersIntent"})

    def answer(self, turn: Turn) -> Response:
        factory = alexa_api.request_factory(turn.handler_input)
        deadline = alexa_api.request_deadline(turn.handler_input)
        text = turn.text("reminders.text")
        try:
            ours = [alert for alert in alexa_api.list_reminders(factory) if is_stretch_reminder(alert, text)]
        except alexa_api.PermissionRequired:
            return _permission_card(turn, [])
        except alexa_api.AlexaApiError as error:
            return _apology(turn, error)
        done, slowest = 0, 0.0
        for alert in ours:
            # A delete cut off by the deadline may still happen: don't start one unlikely to finish.
            if deadline.remaining() < slowest:
                break
            started = deadline.remaining()
            try:
                alexa_api.delete_reminder(factory, alert["alertToken"])
            except alexa_api.PermissionRequired:
                if not done:
                    return _permission_card(turn, [])
                break
            except alexa_api.AlexaApiError as error:
                if not done:
                    return _apology(turn, error)
                log.warning("reminders API %s failed: %s", error.operation, type(error).__name__)
                break
            done += 1
            slowest = max(slowest, started - deadline.remaining())
        if done < len(ours):
            turn.preferences.update(reminders=True)
            return turn.ask_more([turn.text("reminders.cancelled_some", count=done),
                                  turn.text("reminders.cancelled_left", count=len(ours) - done)])
        turn.preferences.update(reminders=False)
        key = "reminders.cancelled" if ours else "reminders.cancelled_none"
        return turn.ask_more([turn.text(key, count=len(ours))])
