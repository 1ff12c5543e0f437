"""What the recipients of a demo mailing did with it: opens and clicks (people's, and the privacy proxies'
that fetch every image on delivery), Viber messages read, unsubscribes and spam complaints.

Everything goes through the paths real recipients take. Opens and clicks are hits written by the tracking
writer (`HitWriter`: counters, milestones, events and machine flags as for the pixel and the redirect);
Viber reads are provider receipts (`apply_receipts`); unsubscribes and complaints go through the consent
service, so they are real opt-outs with their records. The consent service stamps its records and the
message's "unsubscribed" event with the present moment; they are dated back to the moment of the click.

People open in the morning and in the evening of their own day; shares are exact quotas of the messages
delivered, so a base of any size shows them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.channels.receipts import DeliveryState, DeliveryUpdate
from smartcomm.delivery.consent import Visitor, consent_service
from smartcomm.delivery.service import delivery_service
from smartcomm.delivery.tracking import CLICKED, OPENED, Hit, HitWriter
from smartcomm.demo.communications.plans import Engagement
from smartcomm.demo.communications.sending import Handed
from smartcomm.demo.repository import DemoRepository

# Apple Mail Privacy Protection: Apple's proxy fetches the pixel on delivery, bare "Mozilla/5.0", from 17/8.
PROXY_AGENT, PROXY_NETWORK = "Mozilla/5.0", "17.58"
READERS = (  # mail apps and browsers people open and click with
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)",
)
APP_AGENT = "ru.example.shop/5.12 (Android 14; SM-A546B)"
NETWORKS = ("95.24", "176.59", "178.176", "85.140", "188.162", "46.242")  # Russian home and mobile ISPs
# The local hours people read their mail at: before work, at lunch, and in the evening.
HOURS = {6: 2, 7: 6, 8: 9, 9: 8, 10: 5, 11: 4, 12: 5, 13: 5, 14: 3, 15: 3, 16: 3, 17: 4, 18: 6, 19: 8, 20: 9}
HOURS |= {21: 8, 22: 5, 23: 2, 0: 1}
SOON = 0.4  # the share of people who open within a couple of hours of the delivery
AGAIN = 0.25  # of those who opened, the share who open again later
ONE_CLICK = 0.3  # of the unsubscribes, those made with the mailbox's own button (RFC 8058)
COMPLAINT_WORDS = "abuse report from the recipient's mailbox provider (feedback loop)"


@dataclass(frozen=True)
class Engaged:
    """A customer who opened (read; an SMS: received) a message, and when; and whether they clicked."""

    customer_id: int
    at: datetime
    clicked: bool


@dataclass
class Reactions:
    hits: list[Hit] = field(default_factory=list)
    reads: list[tuple[int, datetime]] = field(default_factory=list)  # Viber "seen" receipts
    unsubscribes: list[tuple[int, datetime, bool]] = field(default_factory=list)  # message, at, one-click
    complaints: list[tuple[int, datetime]] = field(default_factory=list)
    engaged: list[Engaged] = field(default_factory=list)

    def extend(self, other: Reactions) -> None:
        self.hits += other.hits
        self.reads += other.reads
        self.unsubscribes += other.unsubscribes
        self.complaints += other.complaints
        self.engaged += other.engaged

    def split(self, moment: datetime) -> tuple[Reactions, Reactions]:
        """(what happened by `moment`, what happened after): an A/B test's winner sees only the first."""
        early, late = Reactions(engaged=self.engaged), Reactions()
        early.hits = [hit for hit in self.hits if hit.at <= moment]
        late.hits = [hit for hit in self.hits if hit.at > moment]
        late.reads, late.unsubscribes, late.complaints = self.reads, self.unsubscribes, self.complaints
        return early, late


class Audience:
    """Draws what the recipients of one send did: shares as exact quotas of a mass send, or as each
    recipient's chance (`by_chance`: the few messages a trigger campaign sends at a time)."""

    def __init__(
        self,
        rng: random.Random,
        zone: str,
        until: datetime,
        links: dict[int | None, list[tuple[int, str]]],
        by_chance: bool = False,
    ) -> None:
        self.rng, self.zone, self.until, self.links = rng, ZoneInfo(zone), until, links
        self.by_chance = by_chance

    def react(
        self, handed: list[Handed], engagement: Engagement, opened: dict[int | None, float]
    ) -> Reactions:
        """The reactions to these messages; `opened` is each variant's own open share (None: no variant)."""
        delivered = [h for h in handed if h.delivered_at is not None]
        reactions = Reactions()
        if not delivered:
            return reactions
        channel = delivered[0].channel
        if channel == "sms":
            self._sms(delivered, engagement, reactions)
            return reactions
        openers = self._openers(delivered, engagement, opened)
        clickers = self._quota(openers, engagement.clicked * len(delivered) / max(len(openers), 1))
        opens = {h.message_id: self._open_time(h) for h in openers}
        if channel == "viber":
            reactions.reads = [(h.message_id, opens[h.message_id]) for h in openers]
        else:
            reactions.hits += [self._open(h, opens[h.message_id], channel) for h in openers]
            reactions.hits += [
                self._open(h, self._later(opens[h.message_id]), channel) for h in self._quota(openers, AGAIN)
            ]
        reactions.hits += [self._proxy(h) for h in self._quota(delivered, engagement.machine_opened)]
        reactions.hits += [hit for h in clickers for hit in self._click(h, opens[h.message_id])]
        self._opt_outs(delivered, openers, opens, engagement, reactions)
        clicked = {h.message_id for h in clickers}
        buyers = self._buyers(openers, clickers, engagement)
        reactions.engaged = [
            Engaged(h.customer_id, opens[h.message_id], h.message_id in clicked) for h in buyers
        ]
        return reactions

    # --- who ---------------------------------------------------------------------------------------

    def _quota(self, items: list[Handed], share: float) -> list[Handed]:
        """Exactly round(share × n) of the items, drawn at random (in their order); by chance, each item
        with the share as its chance."""
        if self.by_chance:
            return [item for item in items if self.rng.random() < share]
        count = min(len(items), round(len(items) * share))
        chosen = set(self.rng.sample(range(len(items)), count))
        return [item for index, item in enumerate(items) if index in chosen]

    def _buyers(self, engaged: list[Handed], clickers: list[Handed], engagement: Engagement) -> list[Handed]:
        """A share of those engaged buy, and a larger one of those who clicked."""
        chosen = {h.message_id: h for h in self._quota(engaged, engagement.buyers)}
        chosen |= {h.message_id: h for h in self._quota(clickers, engagement.clicked_buyers)}
        return list(chosen.values())

    def _openers(
        self, delivered: list[Handed], engagement: Engagement, opened: dict[int | None, float]
    ) -> list[Handed]:
        found: list[Handed] = []
        for variant in sorted({h.variant for h in delivered}, key=lambda v: -1 if v is None else v):
            group = [h for h in delivered if h.variant == variant]
            found += self._quota(group, opened.get(variant, engagement.opened))
        return found

    def _sms(self, delivered: list[Handed], engagement: Engagement, reactions: Reactions) -> None:
        """An SMS has no open: its link is clicked, and those who received it may buy."""
        clickers = self._quota(delivered, engagement.clicked)
        times = {h.message_id: self._open_time(h) for h in clickers}
        reactions.hits += [hit for h in clickers for hit in self._click(h, times[h.message_id])]
        buyers = self._buyers(delivered, clickers, engagement)
        clicked = {h.message_id for h in clickers}
        reactions.engaged = [
            Engaged(h.customer_id, times.get(h.message_id) or self._open_time(h), h.message_id in clicked)
            for h in buyers
        ]

    def _opt_outs(
        self,
        delivered: list[Handed],
        openers: list[Handed],
        opens: dict[int, datetime],
        engagement: Engagement,
        reactions: Reactions,
    ) -> None:
        """Unsubscribes: mostly people who opened (the link is in the footer), some with the mailbox's
        button; complaints from those who did not open."""
        count = round(len(delivered) * engagement.unsubscribed)
        clicking = self.rng.sample(openers, min(len(openers), round(count * (1 - ONE_CLICK))))
        for h in clicking:
            reactions.unsubscribes.append(
                (h.message_id, self._clamp(opens[h.message_id] + self._minutes(1, 5)), False)
            )
        quiet = [h for h in delivered if h.message_id not in opens]
        for h in self.rng.sample(quiet, min(len(quiet), count - len(clicking))):
            reactions.unsubscribes.append((h.message_id, self._open_time(h), True))
        taken = {message_id for message_id, _, _ in reactions.unsubscribes}
        left = [h for h in quiet if h.message_id not in taken]
        wanted = round(len(delivered) * engagement.complained)
        reactions.complaints = [
            (h.message_id, self._open_time(h)) for h in self.rng.sample(left, min(len(left), wanted))
        ]

    # --- when --------------------------------------------------------------------------------------

    def _open_time(self, handed: Handed) -> datetime:
        """Soon after the delivery, or at a reading hour of one of the next days."""
        delivered = handed.delivered_at or handed.sent_at
        if self.rng.random() < SOON:
            return self._clamp(delivered + self._minutes(1, 150))
        local = delivered.astimezone(self.zone)
        day = local.date() + timedelta(days=self.rng.choices((0, 1, 2, 3), (45, 30, 15, 10))[0])
        hour = self.rng.choices(list(HOURS), list(HOURS.values()))[0]
        moment = datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), self.zone)
        if moment <= delivered:
            moment = delivered + self._minutes(5, 180)
        return self._clamp(moment)

    def _later(self, moment: datetime) -> datetime:
        return self._clamp(moment + self._minutes(30, 2 * 24 * 60))

    def _minutes(self, low: int, high: int) -> timedelta:
        return timedelta(seconds=self.rng.randint(low * 60, high * 60))

    def _clamp(self, moment: datetime) -> datetime:
        """Nothing happens after the history's present: a later moment falls in its last hours."""
        if moment < self.until:
            return moment
        return self.until - timedelta(seconds=self.rng.randint(60, 6 * 3600))

    # --- the hits ----------------------------------------------------------------------------------

    def _open(self, handed: Handed, at: datetime, channel: str) -> Hit:
        agent = APP_AGENT if channel == "push" else self.rng.choice(READERS)
        return Hit(OPENED, handed.message_id, at, ip=self._address(), user_agent=agent)

    def _proxy(self, handed: Handed) -> Hit:
        """The privacy proxy fetching the pixel seconds after the delivery."""
        at = (handed.delivered_at or handed.sent_at) + timedelta(seconds=self.rng.randint(3, 90))
        address = f"{PROXY_NETWORK}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        return Hit(OPENED, handed.message_id, self._clamp(at), ip=address, user_agent=PROXY_AGENT)

    def _click(self, handed: Handed, opened_at: datetime) -> list[Hit]:
        links = self.links.get(handed.variant) or self.links.get(None) or []
        if not links:
            return []
        link_id, url = links[0] if self.rng.random() < 0.8 or len(links) == 1 else self.rng.choice(links[1:])
        at = self._clamp(opened_at + timedelta(seconds=self.rng.randint(15, 600)))
        agent = self.rng.choice(READERS[2:4])  # the browser the link opens in
        return [
            Hit(
                CLICKED, handed.message_id, at, link_id=link_id, url=url, ip=self._address(), user_agent=agent
            )
        ]

    def _address(self) -> str:
        return f"{self.rng.choice(NETWORKS)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"


def write(session: Session, reactions: Reactions, reasons: list[str], rng: random.Random) -> None:
    """Record the reactions through the real paths: Viber's read receipts before the clicks on its button
    (a click on an unread message would count as its open)."""
    _reads(session, reactions.reads)
    session.flush()
    if reactions.hits:
        HitWriter(session).write(reactions.hits)
    session.flush()
    session.expire_all()  # the writer updates the messages past the ORM
    _opt_outs(session, reactions, reasons, rng)


def _reads(session: Session, reads: list[tuple[int, datetime]]) -> None:
    updates = [
        DeliveryUpdate(f"sandbox-demo-{message_id}", DeliveryState.READ, at)
        for message_id, at in sorted(reads, key=lambda r: r[1])
    ]
    delivery_service.apply_receipts(session, updates)


def _opt_outs(session: Session, reactions: Reactions, reasons: list[str], rng: random.Random) -> None:
    dated: list[tuple[int, datetime]] = []
    for message_id, at, one_click in sorted(reactions.unsubscribes, key=lambda u: u[1]):
        subject = consent_service.subject(session, message_id)
        if subject is None or subject.customer is None:
            continue
        visitor = Visitor(f"{rng.choice(NETWORKS)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", READERS[0])
        if one_click:
            consent_service.one_click(session, subject, Visitor())
        else:
            reason = rng.choice([*reasons, None]) if reasons else None
            consent_service.unsubscribe(session, subject, visitor, reason_code=reason)
        dated.append((message_id, at))
    for message_id, at in reactions.complaints:
        subject = consent_service.subject(session, message_id)
        if subject is not None and consent_service.complained(session, subject.message, COMPLAINT_WORDS):
            dated.append((message_id, at))
    session.flush()
    repository = DemoRepository(session)
    repository.date_unsubscribes(dated)
    repository.date_events([(message_id, "unsubscribed", at) for message_id, at in dated])
