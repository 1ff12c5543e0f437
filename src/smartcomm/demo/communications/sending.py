"""A demo mailing sent in the past through the code that sends real ones.

Launching and collecting are the mailing service's own, called with the past moment (`launch(now=…)`,
`collect_batch(now=…)`). Handing over is the dispatcher's part: it claims a message, renders it, gives it to
the provider and records the outcome. The dispatcher always works at the present moment and sends what is
due now, so here the messages of one mailing are taken over at their past moment (queued, as a claim
leaves them) and their outcomes are written with the dispatcher's own `write_outcomes` — the values
`Outcomes.accepted` writes for the sandbox, without the rendered content, which the Outbox renders again
from the template (as for any mass mailing). Bounces and failed deliveries arrive afterwards the way a
provider's receipt brings them (`fail_after_sending`, which takes their moment), and a Viber message still
undelivered at the cascade timeout releases its SMS through the cascade's own `settle`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from smartcomm.audit.actor import Actor
from smartcomm.channels.cascade import CascadeSettings
from smartcomm.delivery import cascade
from smartcomm.delivery.dispatch import Outcome, write_outcomes
from smartcomm.delivery.ledger import Status
from smartcomm.delivery.repository import LedgerRepository
from smartcomm.delivery.service import delivery_service, event_row
from smartcomm.demo.communications.plans import SMS, Fates
from smartcomm.demo.repository import DemoRepository
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Message
from smartcomm.settings.service import settings_service

OWNER = "demo-history"  # the claim's owner while the outcomes are written
PER_MINUTE = {"email": 1500, "sms": 600, "viber": 800, "push": 3000}  # the sandbox's pace
FAILURE_WORDS = {
    "email": "550 5.1.1 The email account that you tried to reach does not exist",
    "sms": "Subscriber absent: the phone was off for the message's lifetime",
    "push": "UNREGISTERED: the app was removed from the device",
}


@dataclass(frozen=True)
class Handed:
    """A message handed over: when it was sent and delivered (None: never), and its variant."""

    message_id: int
    customer_id: int
    channel: str
    sent_at: datetime
    delivered_at: datetime | None
    variant: int | None


def launch(session: Session, actor: Actor, mailing_id: int, at: datetime) -> None:
    """Launch the draft as of `at` and collect its audience into the ledger at that moment."""
    mailing_service.launch(session, actor, mailing_id, now=at)
    collect(session, mailing_id, at)


def collect(session: Session, mailing_id: int, at: datetime) -> None:
    while mailing_service.collect_batch(session, mailing_id, now=at):
        pass


def hand_over(
    session: Session, mailing_id: int, at: datetime, fates: Fates, rng: random.Random, legs: bool = False
) -> list[Handed]:
    """Send the mailing's waiting messages (or the SMS legs of its cascade) from `at` on, and record what
    became of each."""
    ids = DemoRepository(session).planned_messages(mailing_id, legs)
    return hand_over_messages(session, ids, at, fates, rng)


def hand_over_messages(
    session: Session,
    ids: list[int],
    at: datetime,
    fates: Fates,
    rng: random.Random,
    by_chance: bool = False,
) -> list[Handed]:
    """Send these waiting messages (of one channel, in this order) from `at` on, and record what became of
    each. Fates are exact quotas of the batch, or drawn for each message `by_chance` (the few messages a
    trigger campaign sends at a time, whose quotas would round to nothing)."""
    if not ids:
        return []
    ledger = LedgerRepository(session)
    messages = ledger.by_ids(ids)
    times = _pace(ids, at, PER_MINUTE[messages[ids[0]].channel])
    plan = _chances(ids, fates, rng) if by_chance else _fates(ids, fates, rng)
    delivered = {id_: times[id_] + timedelta(seconds=rng.randint(2, 40)) for id_ in ids if plan[id_] == "ok"}
    handed = [_handed(messages[id_], times[id_], delivered.get(id_)) for id_ in ids]
    DemoRepository(session).take_over(ids, OWNER, at)
    outcomes = [_accepted(messages[id_], times[id_], delivered.get(id_)) for id_ in ids]
    write_outcomes(session, outcomes, OWNER)
    _fresh(session)
    _fail(session, [id_ for id_ in ids if plan[id_] in ("bounced", "undelivered")], plan, times, rng)
    return handed


def send_cascade_legs(
    session: Session, mailing_id: int, start: datetime, vibers: list[Handed], rng: random.Random
) -> list[Handed]:
    """The SMS legs of a Viber → SMS mailing: those released at once (no Viber) go right after the start;
    the others wait for the cascade timeout, where an undelivered Viber message releases its SMS and a
    delivered one has cancelled it (its cancellation dated at the delivery)."""
    sent = hand_over(session, mailing_id, start + timedelta(minutes=1), SMS, rng, legs=True)
    timeout = settings_service.read(session, CascadeSettings).timeout
    moment = max((h.sent_at for h in vibers), default=start) + timeout + timedelta(minutes=1)
    ledger = LedgerRepository(session)
    legs = ledger.cascade_legs([h.message_id for h in vibers])
    found = ledger.by_ids([leg.cascade_of for leg in legs if leg.cascade_of is not None])
    cascade.settle(session, [(leg, found[leg.cascade_of]) for leg in legs if leg.cascade_of in found], moment)
    session.flush()
    sent += hand_over(session, mailing_id, moment, SMS, rng, legs=True)
    _date_cancellations(session, vibers)
    return sent


def settle(session: Session, handed: list[Handed], start: datetime) -> datetime:
    """The mailing is sent once the last of its messages went; returns that moment."""
    finished = max((h.delivered_at or h.sent_at for h in handed), default=start) + timedelta(minutes=1)
    mailing_service.settle_sending(session, now=finished)
    return finished


# --- the steps ----------------------------------------------------------------------------------------


def _pace(ids: list[int], at: datetime, per_minute: int) -> dict[int, datetime]:
    """When each message went: in id order, at the sandbox's pace from a few seconds after `at`."""
    return {id_: at + timedelta(seconds=5 + index * 60 / per_minute) for index, id_ in enumerate(ids)}


def _handed(message: Message, sent_at: datetime, delivered_at: datetime | None) -> Handed:
    variant = (message.options or {}).get("variant")
    return Handed(message.id, message.customer_id or 0, message.channel, sent_at, delivered_at, variant)


def _fates(ids: list[int], fates: Fates, rng: random.Random) -> dict[int, str]:
    """Each message's fate, by exact shares: ok (delivered), bounced, undelivered, or sent (no receipt)."""
    order = list(ids)
    rng.shuffle(order)
    counts = [("bounced", fates.bounced), ("undelivered", fates.undelivered), ("ok", fates.delivered)]
    plan: dict[int, str] = {}
    start = 0
    for fate, share in counts:
        end = start + round(len(order) * share)
        plan.update(dict.fromkeys(order[start:end], fate))
        start = end
    plan.update(dict.fromkeys(order[start:], "sent"))
    return plan


def _chances(ids: list[int], fates: Fates, rng: random.Random) -> dict[int, str]:
    """Each message's fate drawn on its own, with the shares as chances."""
    plan: dict[int, str] = {}
    for id_ in ids:
        roll = rng.random()
        if roll < fates.bounced:
            plan[id_] = "bounced"
        elif roll < fates.bounced + fates.undelivered:
            plan[id_] = "undelivered"
        else:
            plan[id_] = "ok" if roll < fates.bounced + fates.undelivered + fates.delivered else "sent"
    return plan


def _accepted(message: Message, sent_at: datetime, delivered_at: datetime | None) -> Outcome:
    """What `Outcomes.accepted` records of a message the sandbox took (delivered or not yet)."""
    values = {
        "status": Status.DELIVERED if delivered_at else Status.SENT,
        "reason": None,
        "detail": None,
        "provider_id": None,  # the sandbox has no provider row
        "provider_message_id": f"sandbox-demo-{message.id}",
        "is_sandbox": True,
        "sent_at": sent_at,
        "delivered_at": delivered_at,
        "owner": None,
    }
    events = [event_row(message.id, "sent", sent_at, provider_message_id=values["provider_message_id"])]
    if delivered_at is not None:
        events.append(event_row(message.id, "delivered", delivered_at))
        # The row will say "delivered" once the outcome is written; the ORM's copy is told so now, so the
        # dispatcher's follow-up (which sets it for its own batches) costs no second UPDATE per message.
        set_committed_value(message, "status", Status.DELIVERED)
    return Outcome(message, values, events, delivered=delivered_at is not None)


def _fail(
    session: Session, ids: list[int], plan: dict[int, str], times: dict[int, datetime], rng: random.Random
) -> None:
    """The provider's later word on messages it took: a dead address (bounced), or gave up."""
    for message in LedgerRepository(session).by_ids(ids).values():
        dead = plan[message.id] == "bounced"
        words = FAILURE_WORDS.get(message.channel, FAILURE_WORDS["sms"])
        when = times[message.id] + timedelta(seconds=rng.randint(20, 600))
        delivery_service.fail_after_sending(session, message, words, dead, when)
    session.flush()


def _date_cancellations(session: Session, vibers: list[Handed]) -> None:
    """A delivered Viber message cancels its SMS leg when the delivery arrives (the ledger stamps the
    cancellation with the present moment, which would put it after today's history)."""
    delivered = {h.message_id: h.delivered_at for h in vibers if h.delivered_at is not None}
    legs = DemoRepository(session).cascade_legs_of(list(delivered))
    rows = [
        (leg, "cancelled", delivered[viber]) for leg, viber in legs.items() if delivered[viber] is not None
    ]
    DemoRepository(session).date_events([(leg, kind, at) for leg, kind, at in rows if at is not None])


def _fresh(session: Session) -> None:
    """The outcomes were written past the ORM: what it holds of the messages is read again."""
    session.flush()
    session.expire_all()
