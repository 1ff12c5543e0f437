"""What a set of ledger messages did: the figures of a report (sent, delivered, opened, clicked, bounced,
unsubscribed …) with their rates, and when people opened the e-mails (weekday × hour of a time zone).

The caller names its messages by conditions on `messages` (a mailing's: its source kind and id; a
campaign node's: the messages it planned), so mailings and campaigns count alike. Rates follow what
marketers read in e-mail tools: delivery and bounces of the messages sent; opens, clicks, unsubscribes
and complaints of the messages delivered; click-to-open of the messages opened. Machine opens and clicks
(privacy proxies, link scanners) are counted apart and never enter a rate.

Times are grouped in UTC quarter hours (every zone's offset is a multiple of 15 minutes), so the caller
can place them in its time zone exactly while the database returns at most a few thousand rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from babel.dates import get_day_names
from pydantic import BaseModel
from sqlalchemy import BigInteger, Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session

from smartcomm.delivery.ledger import Reason, Status
from smartcomm.delivery.tracking import OPENED
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.time import to_zone
from smartcomm.models import Message, MessageEvent
from smartcomm.models.consent import UnsubscribeRecord

QUARTER = 900  # seconds
COMPLAINT = "complaint"  # the unsubscribe source of a spam complaint
# A message the provider took and then could not deliver: a bounce (hard: the address is dead).
BOUNCE_REASONS = (Reason.BOUNCED, Reason.UNDELIVERED)
WEEKDAYS = 7
HOURS = 24
Scope = Sequence[Any]  # conditions on `messages` naming the messages counted


@dataclass(frozen=True)
class MessageFigures:
    """Counts of messages (one message per recipient and channel leg)."""

    recorded: int = 0
    sent: int = 0
    delivered: int = 0
    opened: int = 0  # opened by a person at least once
    clicked: int = 0
    bounced: int = 0
    opens: int = 0  # every person's open
    clicks: int = 0
    machine_opens: int = 0  # privacy proxies, scanners: never counted as people's
    machine_clicks: int = 0
    machine_only_opened: int = 0  # messages opened by machines and never by a person


class Figure(BaseModel):
    """One figure of a report, with its rate and what the rate is a share of."""

    key: str
    value: int
    rate: float | None = None  # 0..1; None when its base is zero or it has no rate
    rate_of: str | None = None  # sent | delivered | opened


class OpensHeatmap(BaseModel):
    """People's e-mail opens: `cells[weekday][hour]`, Monday first, hours of the time zone."""

    time_zone: str
    cells: list[list[int]]
    total: int
    peak: int

    @property
    def by_hour(self) -> list[int]:
        """Opens per hour of the day, whatever the weekday."""
        return [sum(row[hour] for row in self.cells) for hour in range(HOURS)]


# (key, label, the figure whose count is the base of its rate)
FIGURES: tuple[tuple[str, LazyString, str | None], ...] = (
    ("recorded", lazy("Recorded"), None),
    ("sent", lazy("Sent"), None),
    ("delivered", lazy("Delivered"), "sent"),
    ("bounced", lazy("Bounced"), "sent"),
    ("opened", lazy("Opened"), "delivered"),
    ("clicked", lazy("Clicked"), "delivered"),
    ("click_to_open", lazy("Click-to-open"), "opened"),
    ("unsubscribed", lazy("Unsubscribed"), "delivered"),
    ("complaints", lazy("Complaints"), "delivered"),
    ("opens", lazy("Opens (all)"), None),
    ("clicks", lazy("Clicks (all)"), None),
    ("machine_opens", lazy("Machine opens"), None),
    ("machine_clicks", lazy("Machine clicks"), None),
    ("machine_only_opened", lazy("Opened by machines only"), None),
)
FIGURE_LABELS = {key: label for key, label, _ in FIGURES}


def weekday_names(language: str) -> list[str]:
    """The heat map's rows: the weekdays, Monday first, abbreviated in the language."""
    names: Any = get_day_names("abbreviated", locale=language)
    return [str(names[day]) for day in range(WEEKDAYS)]


def rate(value: int, base: int) -> float | None:
    return value / base if base else None


def figures_of(found: MessageFigures, unsubscribed: int, complaints: int) -> list[Figure]:
    """The figures in report order, each with its rate."""
    values = {
        **{each.name: getattr(found, each.name) for each in fields(MessageFigures)},
        "click_to_open": found.clicked,
        "unsubscribed": unsubscribed,
        "complaints": complaints,
    }
    return [
        Figure(
            key=key, value=values[key], rate=rate(values[key], values[base]) if base else None, rate_of=base
        )
        for key, _, base in FIGURES
    ]


def heatmap_of(quarters: Sequence[tuple[datetime, int]], zone: str) -> OpensHeatmap:
    """Opens per UTC quarter hour placed on weekday × hour of the zone."""
    cells = [[0] * HOURS for _ in range(WEEKDAYS)]
    for moment, count in quarters:
        local = to_zone(moment, zone)
        cells[local.weekday()][local.hour] += count
    return OpensHeatmap(
        time_zone=zone, cells=cells, total=sum(map(sum, cells)), peak=max(max(row) for row in cells)
    )


# --- the queries -------------------------------------------------------------------------------------------


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _figure_columns() -> list[Any]:
    """The columns of MessageFigures, in its order."""
    m = Message
    return [
        func.count(),
        _count(m.sent_at.is_not(None)),
        _count(m.delivered_at.is_not(None)),
        _count(m.opened_at.is_not(None)),
        _count(m.clicked_at.is_not(None)),
        _count(and_(m.status == Status.FAILED, m.reason.in_(BOUNCE_REASONS))),
        func.coalesce(func.sum(m.opens), 0),
        func.coalesce(func.sum(m.clicks), 0),
        func.coalesce(func.sum(m.machine_opens), 0),
        func.coalesce(func.sum(m.machine_clicks), 0),
        _count(and_(m.machine_opens > 0, m.opened_at.is_(None))),
    ]


def message_figures(session: Session, scope: Scope) -> MessageFigures:
    """The figures of the messages in scope."""
    row = session.execute(select(*_figure_columns()).where(*scope)).one()
    return MessageFigures(*(int(value or 0) for value in row))


def figures_by_channel(session: Session, scope: Scope) -> dict[str, MessageFigures]:
    """The figures of the messages in scope, per channel."""
    statement = select(Message.channel, *_figure_columns()).where(*scope).group_by(Message.channel)
    return {
        str(channel): MessageFigures(*(int(value or 0) for value in values))
        for channel, *values in session.execute(statement)
    }


def unsubscribes_by_channel(session: Session, scope: Scope) -> dict[str, tuple[int, int]]:
    """Per channel: (messages unsubscribed from, messages complained about), each message counted once."""
    is_complaint = UnsubscribeRecord.source == COMPLAINT
    statement = (
        select(Message.channel, is_complaint, func.count(func.distinct(UnsubscribeRecord.message_id)))
        .join(Message, Message.id == UnsubscribeRecord.message_id)
        .where(*scope)
        .group_by(Message.channel, is_complaint)
    )
    found: dict[str, tuple[int, int]] = {}
    for channel, flag, count in session.execute(statement):
        unsubscribed, complaints = found.get(str(channel), (0, 0))
        found[str(channel)] = (unsubscribed, complaints + int(count)) if flag else (int(count), complaints)
    return found


def unsubscribes(session: Session, scope: Scope) -> tuple[int, int]:
    """(messages unsubscribed from, messages complained about) of the messages in scope."""
    per_channel = unsubscribes_by_channel(session, scope).values()
    return sum(pair[0] for pair in per_channel), sum(pair[1] for pair in per_channel)


def email_opens_by_quarter(session: Session, scope: Scope) -> list[tuple[datetime, int]]:
    """People's opens of the e-mails in scope per UTC quarter hour (its start, the count)."""
    bucket = quarter_of(session, MessageEvent.occurred_at)
    statement = (
        select(bucket, func.count())
        .join(Message, Message.id == MessageEvent.message_id)
        .where(
            *scope,
            Message.channel == "email",
            MessageEvent.kind == OPENED,
            MessageEvent.is_machine.is_(False),
        )
        .group_by(bucket)
    )
    return [(quarter_start(int(q)), int(count)) for q, count in session.execute(statement)]


def quarter_of(session: Session, column: Any) -> Any:
    """The number of the UTC quarter hour a timestamp falls in (seconds since 1970 // 900)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / QUARTER), BigInteger)
    return cast(func.strftime("%s", column), Integer) / QUARTER


def quarter_start(number: int) -> datetime:
    return datetime.fromtimestamp(number * QUARTER, UTC)
