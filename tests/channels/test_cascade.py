"""Viber → SMS cascade decisions: which legs a content needs, and what a waiting SMS leg does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.channels.base import Channel
from smartcomm.channels.cascade import CascadeSettings, fallback_due_at, plan, sms_decision
from smartcomm.settings.service import settings_service

SENT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_the_legs_follow_the_texts_that_are_filled() -> None:
    assert plan("SMS text", None).legs == (Channel.SMS,)
    assert plan(None, "Viber text").legs == (Channel.VIBER,)
    both = plan("SMS text", "Viber text")
    assert both.legs == (Channel.VIBER, Channel.SMS) and both.first == Channel.VIBER
    assert plan("  ", "") is None and plan(None, None) is None


def test_the_sms_leg_waits_for_the_timeout_unless_viber_arrived_or_was_lost() -> None:
    settings = CascadeSettings()
    assert settings.timeout == timedelta(hours=3)
    assert fallback_due_at(SENT, settings) == SENT + timedelta(hours=3)
    assert sms_decision("sent", SENT, SENT + timedelta(hours=2, minutes=59), settings) == "wait"
    assert sms_decision("sent", SENT, SENT + timedelta(hours=3), settings) == "send"
    assert sms_decision("delivered", SENT, SENT + timedelta(hours=5), settings) == "cancel"
    assert sms_decision("opened", SENT, SENT + timedelta(minutes=1), settings) == "cancel"
    assert sms_decision("failed", SENT, SENT + timedelta(minutes=1), settings) == "send"
    assert sms_decision("planned", None, SENT + timedelta(days=1), settings) == "wait"


def test_the_timeout_is_a_setting(session: Session) -> None:
    settings_service.update(session, Actor.system("tests"), CascadeSettings, {"viber_timeout_minutes": 30})
    settings = settings_service.read(session, CascadeSettings)
    assert sms_decision("sent", SENT, SENT + timedelta(minutes=30), settings) == "send"
