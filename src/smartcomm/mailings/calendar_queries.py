"""The messaging calendar: mailings on the day they went (or are to go), and the messages handed to
providers per day and channel — days of the project time zone.

A mailing that started (collecting, sending, sent, paused, cancelled) sits on the day of its start; a
scheduled one on its scheduled moment; a draft with a scheduled moment there too, marked as a draft.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from smartcomm.kit.time import start_of_day, to_zone
from smartcomm.mailings.report_queries import MailingReportQueries
from smartcomm.mailings.schemas import MailingStatus
from smartcomm.models import Mailing

# The calendar's channel filter → the mailing channels it shows and the ledger channels it counts.
MAILING_CHANNELS = {"email": ("email",), "sms": ("sms", "sms_viber"), "push": ("push",)}
LEDGER_CHANNELS = {"email": ("email",), "sms": ("sms", "viber"), "push": ("push",)}
VOLUME_CHANNELS = ("email", "sms", "viber", "push")
PLANNED = (MailingStatus.SCHEDULED, MailingStatus.DRAFT)
MAX_ENTRIES = 2000  # a month of a very busy project; the rest would not fit in the cells anyway


@dataclass(frozen=True)
class CalendarEntry:
    id: int
    name: str
    channel: str
    status: str
    at: datetime  # in the project time zone
    kind: str  # done (grey) | scheduled (orange) | draft (dashed)

    @property
    def day(self) -> date:
        return self.at.date()


def kind_of(status: str) -> str:
    if status == MailingStatus.SCHEDULED:
        return "scheduled"
    return "draft" if status == MailingStatus.DRAFT else "done"


class CalendarQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def entries(self, first: date, last: date, zone: str, channel: str | None) -> list[CalendarEntry]:
        """Mailings placed on the days first..last (both included), in time order."""
        start, end = start_of_day(first, zone), start_of_day(last + timedelta(days=1), zone)
        placed = func.coalesce(Mailing.started_at, Mailing.scheduled_at)
        started = and_(Mailing.status.not_in(PLANNED), placed >= start, placed < end)
        planned = and_(Mailing.status.in_(PLANNED), Mailing.scheduled_at >= start, Mailing.scheduled_at < end)
        statement = (
            select(
                Mailing.id,
                Mailing.name,
                Mailing.channel,
                Mailing.status,
                Mailing.started_at,
                Mailing.scheduled_at,
            )
            .where(or_(started, planned))
            .order_by(placed, Mailing.id)
            .limit(MAX_ENTRIES)
        )
        if channel is not None:
            statement = statement.where(Mailing.channel.in_(MAILING_CHANNELS[channel]))
        return [_entry(row, zone) for row in self.session.execute(statement)]

    def volume(self, first: date, last: date, zone: str, channel: str | None) -> dict[str, dict[date, int]]:
        """Mailing messages handed over per ledger channel and day."""
        start, end = start_of_day(first, zone), start_of_day(last + timedelta(days=1), zone)
        channels = LEDGER_CHANNELS[channel] if channel is not None else None
        days: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for moment, ledger_channel, count in MailingReportQueries(self.session).handed_over_by_quarter(
            start, end, channels
        ):
            days[ledger_channel][to_zone(moment, zone).date()] += count
        return days


def _entry(row: tuple[int, str, str, str, datetime | None, datetime | None], zone: str) -> CalendarEntry:
    mailing_id, name, channel, status, started_at, scheduled_at = row
    kind = kind_of(status)
    moment = scheduled_at if kind != "done" or started_at is None else started_at
    assert moment is not None  # the query placed it by one of the two
    return CalendarEntry(mailing_id, name, channel, status, to_zone(moment, zone), kind)
