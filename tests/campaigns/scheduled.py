"""Test helpers of scheduled triggers: campaigns activated at a moment, looks at a moment, what entered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy.orm import Session

from smartcomm.campaigns import nodes
from smartcomm.campaigns.tasks import check_scheduled
from smartcomm.campaigns.triggers.base import Trigger, Window
from smartcomm.models import Campaign
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.campaigns.helpers import ACTOR, active_campaign, edge, graph, journeys, node

MOSCOW = "Europe/Moscow"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def use_zone(session: Session, zone: str) -> None:
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": zone})
    session.commit()


def switch_orders(session: Session, on: bool) -> None:
    settings_service.update(session, ACTOR, GeneralSettings, {"orders_enabled": on})
    session.commit()


def campaign_at(
    session: Session, moment: datetime, kind: str, reentry: int | None = 0, **settings: Any
) -> Campaign:
    """An active campaign (trigger → wait a day) activated at `moment`: its first window starts there."""
    body = graph(
        [node("t", kind, **settings), node("w", "action.wait", amount=1, unit="days")], [edge("t", "w")]
    )
    with time_machine.travel(moment, tick=False):
        return active_campaign(session, body, reentry_minutes=reentry)


def look(moment: datetime) -> int:
    """The every-minute look of scheduled triggers, at `moment`; how many customers entered."""
    with time_machine.travel(moment, tick=False):
        return int(check_scheduled.call_local())


def entered(session: Session, campaign: Campaign) -> list[tuple[int, str]]:
    return [(journey.customer_id, journey.occurrence) for journey in journeys(session, campaign)]


def contexts(session: Session, campaign: Campaign) -> dict[int, dict[str, Any]]:
    return {journey.customer_id: journey.context for journey in journeys(session, campaign)}


def selected(
    session: Session, kind: str, start: datetime, end: datetime, zone: str = MOSCOW, **settings: Any
) -> set[tuple[int, str]]:
    """What a scheduled trigger's selection holds for the window (start, end]."""
    trigger = nodes.kind(kind)
    assert isinstance(trigger, Trigger)
    statement = trigger.selection(session, trigger.parse(settings), Window(start, end, ZoneInfo(zone)))
    if statement is None:
        return set()
    return {(row.customer_id, row.occurrence) for row in session.execute(statement)}
