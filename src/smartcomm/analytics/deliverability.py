"""Bounce and complaint rates of the e-mail sent each day, against the thresholds mailbox providers use.

Each day counts the e-mails sent that day (project time zone) and, of those, the hard bounces and the
spam complaints, whenever they came back — so a day's rates settle as its late complaints arrive. The
thresholds are those of Google's and Yahoo's bulk-sender rules (docs/deliverability.md has the sources):
complaints should stay below 0.1 % and never reach 0.3 %; bounces below 2 %, 5 % is bad.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from smartcomm.analytics.messages import COMPLAINT, quarter_of, quarter_start, rate
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.kit.time import start_of_day, to_zone
from smartcomm.models import Message
from smartcomm.models.consent import UnsubscribeRecord

DAYS = 30
BOUNCE_WARN, BOUNCE_BAD = 0.02, 0.05
COMPLAINT_WARN, COMPLAINT_BAD = 0.001, 0.003


class RateDay(BaseModel):
    day: date
    sent: int
    bounced: int
    complaints: int

    @property
    def bounce_rate(self) -> float | None:
        return rate(self.bounced, self.sent)

    @property
    def complaint_rate(self) -> float | None:
        return rate(self.complaints, self.sent)


def level(value: float | None, warn: float, bad: float) -> str:
    """ "ok", "warn" or "bad" against a pair of thresholds ("ok" when nothing was sent)."""
    if value is None or value < warn:
        return "ok"
    return "warn" if value < bad else "bad"


def rate_days(session: Session, zone: str, today: date, days: int = DAYS) -> list[RateDay]:
    """The last `days` project days up to `today`, oldest first, each with its sent, bounced and
    complained e-mails."""
    first = today - timedelta(days=days - 1)
    since, until = start_of_day(first, zone), start_of_day(today + timedelta(days=1), zone)
    counts: dict[str, Counter[date]] = {"sent": Counter(), "bounced": Counter(), "complaints": Counter()}
    for moment, sent, bounced, complaints in _quarters(session, since, until):
        day = to_zone(moment, zone).date()
        counts["sent"][day] += sent
        counts["bounced"][day] += bounced
        counts["complaints"][day] += complaints
    return [
        RateDay(day=day, **{name: found[day] for name, found in counts.items()})
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]


def _quarters(session: Session, since: datetime, until: datetime) -> list[tuple[datetime, int, int, int]]:
    """Per UTC quarter hour of sending: e-mails sent, hard bounces among them, complaints about them."""
    bucket = quarter_of(session, Message.sent_at)
    complained = select(UnsubscribeRecord.message_id).where(UnsubscribeRecord.source == COMPLAINT)
    hard = and_(Message.status == Status.FAILED, Message.reason == Reason.BOUNCED)
    statement = (
        select(
            bucket,
            func.count(),
            func.coalesce(func.sum(case((hard, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Message.id.in_(complained), 1), else_=0)), 0),
        )
        .where(Message.channel == "email", Message.sent_at >= since, Message.sent_at < until)
        .group_by(bucket)
    )
    return [(quarter_start(int(q)), int(s), int(b), int(c)) for q, s, b, c in session.execute(statement)]
