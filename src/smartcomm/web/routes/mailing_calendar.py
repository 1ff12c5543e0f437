"""Mailings → the messaging calendar: a month or a week of mailings on their days (project time zone),
filtered by channel, and the messages handed to providers per day and channel under the grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.http import DbSession
from smartcomm.kit.time import to_zone, utcnow
from smartcomm.mailings.calendar_queries import (
    LEDGER_CHANNELS,
    VOLUME_CHANNELS,
    CalendarEntry,
    CalendarQueries,
)
from smartcomm.web.deps import requires
from smartcomm.web.templating import render

router = APIRouter(prefix="/mailings")
Viewer = Annotated[Principal, Depends(requires(Permission.MAILINGS_VIEW))]
View = Literal["month", "week"]
Channel = Literal["email", "sms", "push"]


@dataclass
class Day:
    day: date
    in_period: bool
    is_today: bool
    entries: list[CalendarEntry] = field(default_factory=list)


@dataclass
class Period:
    view: str
    anchor: date
    first: date  # the first and last day shown (whole weeks, Monday first)
    last: date
    previous: date
    next: date

    @property
    def weeks(self) -> int:
        return ((self.last - self.first).days + 1) // 7


def period_of(view: str, anchor: date) -> Period:
    """The days a month or a week view shows, and where prev and next lead."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return Period(
            view, anchor, first, first + timedelta(days=6), anchor - timedelta(7), anchor + timedelta(7)
        )
    month_start = anchor.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    first = month_start - timedelta(days=month_start.weekday())
    last = month_end + timedelta(days=6 - month_end.weekday())
    previous = (month_start - timedelta(days=1)).replace(day=1)
    return Period(view, month_start, first, last, previous, month_end + timedelta(days=1))


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    session: DbSession,
    _: Viewer,
    view: View = "month",
    anchor: Annotated[date | None, Query(alias="date")] = None,
    channel: Channel | None = None,
) -> Response:
    """Mailings on their days (sent and running grey, scheduled orange, drafts dashed) and the volume
    handed over per day and channel."""
    zone = request.state.general.time_zone
    today = to_zone(utcnow(), zone).date()
    period = period_of(view, anchor or today)
    queries = CalendarQueries(session)
    days = _days(period, today, queries.entries(period.first, period.last, zone, channel))
    volume = queries.volume(period.first, period.last, zone, channel)
    context = {
        "period": period,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "channel": channel,
        "today": today,
        "chart": _chart(period, volume, channel),
        "has_volume": any(volume.values()),
    }
    return render(request, "mailings/calendar.html", context)


def _days(period: Period, today: date, entries: list[CalendarEntry]) -> list[Day]:
    shown = [period.first + timedelta(days=i) for i in range((period.last - period.first).days + 1)]
    by_day = {day: Day(day, _in_period(period, day), day == today) for day in shown}
    for entry in entries:
        if entry.day in by_day:
            by_day[entry.day].entries.append(entry)
    return list(by_day.values())


def _in_period(period: Period, day: date) -> bool:
    return period.view == "week" or day.month == period.anchor.month


def _chart(period: Period, volume: dict[str, dict[date, int]], channel: str | None) -> dict[str, Any]:
    """The chart's data: one series per ledger channel the filter shows, a point per day."""
    days = [period.first + timedelta(days=i) for i in range((period.last - period.first).days + 1)]
    channels = LEDGER_CHANNELS[channel] if channel else VOLUME_CHANNELS
    return {
        "labels": days,
        "series": [
            {"channel": name, "values": [volume.get(name, {}).get(day, 0) for day in days]}
            for name in channels
        ],
    }
