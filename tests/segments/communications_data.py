"""Send-ledger rows for segment tests: mailings, their messages in every status, other sources' messages,
people's and machines' opens and clicks, and control groups — written straight into the tables."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from smartcomm.models import Mailing, MailingControlMember, Message

CHANNELS = ("email", "sms", "viber", "push")
SOURCES = ("mailing", "campaign", "transactional", "test", "watcher", "confirmation")
STATUSES = (
    "planned",
    "rendered",
    "queued",
    "sent",
    "delivered",
    "opened",
    "clicked",
    "failed",
    "expired",
    "suppressed",
    "cancelled",
)
HANDED = ("queued", "sent", "delivered", "opened", "clicked", "failed")
_keys = itertools.count(1)


def make_mailing(session: Session, name: str, channel: str = "email", status: str = "sent") -> Mailing:
    mailing = Mailing(name=name, channel=channel, status=status, control_seed=7)
    session.add(mailing)
    session.flush()
    return mailing


def make_message(
    session: Session,
    customer_id: int | None,
    *,
    source_kind: str = "mailing",
    source_id: int | None = None,
    channel: str = "email",
    status: str = "delivered",
    handed_over_at: datetime | None = None,
    **values: object,
) -> Message:
    """A ledger row; a row handed over has a hand-over time (given, or a fixed one)."""
    if handed_over_at is None and status in HANDED:
        handed_over_at = datetime(2027, 1, 1)
    message = Message(
        idempotency_key=f"segment-test-{next(_keys)}",
        source_kind=source_kind,
        source_id=source_id,
        customer_id=customer_id,
        channel=channel,
        status=status,
        handed_over_at=handed_over_at,
        **values,
    )
    session.add(message)
    return message


def draw_control(session: Session, mailing_id: int, customer_ids: Sequence[int]) -> None:
    session.add_all([MailingControlMember(mailing_id=mailing_id, customer_id=c) for c in customer_ids])
    session.flush()


def write_ledger(
    session: Session,
    rng: random.Random,
    customer_ids: Sequence[int],
    moment: Callable[[], datetime],
) -> list[int]:
    """Random mailings and messages for these customers at times `moment()` draws; the mailing ids."""
    mailings = [make_mailing(session, f"Mailing {n}", rng.choice(("email", "sms_viber"))) for n in range(3)]
    for customer_id in customer_ids:
        for _ in range(rng.choice((0, 0, 1, 2, 4))):
            _random_message(session, rng, customer_id, [m.id for m in mailings], moment)
    for mailing in mailings:
        drawn = [c for c in customer_ids if rng.random() < 0.15]
        draw_control(session, mailing.id, drawn)
    # A message without a customer (an API send to a bare address) belongs to nobody.
    make_message(session, None, source_kind="transactional", handed_over_at=moment())
    session.flush()
    return [mailing.id for mailing in mailings]


def _random_message(
    session: Session,
    rng: random.Random,
    customer_id: int,
    mailing_ids: Sequence[int],
    moment: Callable[[], datetime],
) -> None:
    source = rng.choice(("mailing", "mailing", *SOURCES))
    status = rng.choice(STATUSES)
    handed = moment() if status in HANDED or rng.random() < 0.1 else None
    person_opens, machine_opens = rng.choice((0, 0, 1, 3)), rng.choice((0, 0, 2))
    person_clicks, machine_clicks = rng.choice((0, 0, 1)), rng.choice((0, 1))
    make_message(
        session,
        customer_id,
        source_kind=source,
        source_id=rng.choice(mailing_ids) if source == "mailing" else rng.randint(1, 3),
        channel=rng.choice(CHANNELS),
        status=status,
        handed_over_at=handed,
        # A burst found later moves people's hits to the machines: a milestone may remain with 0 opens.
        opened_at=handed + timedelta(hours=1) if handed and (person_opens or rng.random() < 0.2) else None,
        clicked_at=handed + timedelta(hours=2) if handed and (person_clicks or rng.random() < 0.2) else None,
        opens=person_opens,
        machine_opens=machine_opens,
        clicks=person_clicks,
        machine_clicks=machine_clicks,
    )
