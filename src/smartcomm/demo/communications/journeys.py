"""The past of the demo's trigger campaigns, walked by the journey engine itself.

The engine works at the present moment; here it is handed past moments instead: noon of each day from the
first activation on, and 10:00, 15:00 and 20:00 in the last five days (the project's clock). At each, every
campaign active then enters what its trigger saw since its last look — the customers who registered
(`engine.enter`), the carts abandoned and the products looked at without buying (the triggers' own
selections, `engine.enter_window`) — and the engine's `Walker` moves every due journey on, so the
journeys, the node counters and the ledger rows are the ones the worker would have written. The messages
the walk planned are then handed over at their moment as the dispatcher would
(`sending.hand_over_messages`), and what their recipients did is drawn (`engagement.Audience`): the opens
and clicks are written as their moment passes, so that "check e-mail status" a day later sees only what
happened by then.

What is left for the worker: journeys still waiting, and whatever becomes due between the last moment
walked and the present.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.campaigns import nodes
from smartcomm.campaigns.engine import Walker, enter, enter_window, graph_of
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.campaigns.triggers.base import Entry, Trigger, Window
from smartcomm.delivery.tracking import Hit, HitWriter
from smartcomm.demo.campaign_repository import CampaignDemoRepository
from smartcomm.demo.communications import engagement
from smartcomm.demo.communications.campaign_plans import CampaignPlan
from smartcomm.demo.communications.engagement import Audience, Engaged, Reactions
from smartcomm.demo.communications.links import tracked_links
from smartcomm.demo.communications.plans import EMAIL, PUSH, SMS, Engagement
from smartcomm.demo.communications.sending import Handed, hand_over_messages
from smartcomm.models import Campaign

SEED = "smartcomm-demo-journeys"
CLOCKS = (time(10), time(15), time(20))
NOON = time(12)
CLOSE_DAYS = 5
FATES = {"email": EMAIL, "sms": SMS, "push": PUSH}
BATCH = 500
REGISTRATION = "registration"


@dataclass
class Running:
    """A campaign while its past is walked: between its activation and its stop (suspension, or its last
    look), and the end of the stretch its trigger looked at last."""

    campaign: Campaign
    plan: CampaignPlan
    start: datetime
    stop: datetime
    looked: datetime


@dataclass(frozen=True)
class Buyer:
    """A recipient who will buy: the campaign, node and message that touched them, and when they read it."""

    campaign_id: int
    node: str
    message_id: int
    engaged: Engaged


class JourneyHistory:
    """Walks the campaigns' past, and keeps what their recipients did for the sales that follow."""

    def __init__(self, session: Session, zone: str, now: datetime, reasons: list[str]) -> None:
        self.session, self.zone, self.now, self.reasons = session, zone, now, reasons
        self.rng = random.Random(SEED)  # noqa: S311 (demo data, not secrets)
        self.hits: list[Hit] = []  # drawn, written once their moment has passed
        self.opt_outs = Reactions()
        self.buyers: list[Buyer] = []
        self._links: dict[tuple[int, str], dict[int | None, list[tuple[int, str]]]] = {}

    def run(self, running: list[Running]) -> None:
        """Walk the campaigns' past moment by moment, up to the present."""
        if not running:
            return
        for moment in self._moments(min(each.start for each in running)):
            active = [each for each in running if each.start < moment <= each.stop]
            for each in active:
                self._enter(each, moment)
            self._walk([each.campaign.id for each in active], moment)
            self._hand_over(running, moment)
            self._write_hits(moment)
        self._write_hits(self.now)
        engagement.write(self.session, self.opt_outs, self.reasons, self.rng)

    def _moments(self, start: datetime) -> list[datetime]:
        """Once a day (at noon) until the last five days, then three times a day: the recent past, which
        the reports show in most detail, is walked closely."""
        zone = ZoneInfo(self.zone)
        day = start.astimezone(zone).date()
        close = self.now.astimezone(zone).date() - timedelta(days=CLOSE_DAYS)
        found: list[datetime] = []
        while True:
            for clock in CLOCKS if day >= close else (NOON,):
                moment = datetime.combine(day, clock, zone).astimezone(UTC)
                if moment > self.now:
                    return found
                if moment > start:
                    found.append(moment)
            day += timedelta(days=1)

    # --- entering and walking ------------------------------------------------------------------------

    def _enter(self, running: Running, moment: datetime) -> None:
        """What the trigger saw since its last look: the window of a scheduled trigger, the customers who
        registered for the registration trigger."""
        campaign = running.campaign
        version = CampaignRepository(self.session).version(campaign.published_version_id or 0)
        node = graph_of(version).trigger if version is not None else None
        trigger = nodes.kind(node.kind) if node is not None else None
        if version is None or node is None or not isinstance(trigger, Trigger):
            return
        if trigger.scheduled:
            settings = graph_of(version).settings[node.id]
            window = Window(running.looked, moment, ZoneInfo(self.zone))
            enter_window(self.session, campaign, trigger, settings, window)
            campaign.checked_until = moment
            campaign.next_check_at = trigger.next_check(settings, moment, ZoneInfo(self.zone))
        elif node.kind.startswith("trigger.customer_registered"):
            customers = CampaignDemoRepository(self.session).registrations(running.looked, moment)
            entries = [Entry(customer, REGISTRATION, {"registered_via": "profile"}) for customer in customers]
            enter(self.session, campaign, entries, moment)
        running.looked = moment

    def _walk(self, campaign_ids: list[int], moment: datetime) -> None:
        """Every journey due at the moment, walked in batches by the engine."""
        repository = CampaignDemoRepository(self.session)
        for _ in range(100):  # a chain longer than a walk comes due again at once: walk it on
            journeys = repository.due_journeys(campaign_ids, moment, BATCH) if campaign_ids else []
            if not journeys:
                return
            Walker(self.session, moment).walk(journeys)
            self.session.flush()

    # --- the messages --------------------------------------------------------------------------------

    def _hand_over(self, running: list[Running], moment: datetime) -> None:
        """Hand over the messages whose time has come, each channel's at their moment, and draw what
        their recipients did, node by node."""
        plans = {each.campaign.id: each.plan for each in running}
        due = CampaignDemoRepository(self.session).due_messages(list(plans), moment)
        groups: dict[tuple[str, datetime], list[int]] = defaultdict(list)
        nodes_of: dict[int, tuple[int, str]] = {}
        for message_id, campaign_id, channel, at, node in due:
            groups[(channel, at)].append(message_id)
            nodes_of[message_id] = (campaign_id, node)
        for (channel, at), ids in sorted(groups.items(), key=lambda item: item[0][1]):
            handed = hand_over_messages(self.session, ids, at, FATES[channel], self.rng, by_chance=True)
            by_node: dict[tuple[int, str], list[Handed]] = defaultdict(list)
            for item in handed:
                by_node[nodes_of[item.message_id]].append(item)
            for (campaign_id, node), items in by_node.items():
                self._react(campaign_id, node, items, plans[campaign_id].reactions.get(node, Engagement()))

    def _react(self, campaign_id: int, node: str, handed: list[Handed], reaction: Engagement) -> None:
        """Draw the opens, clicks, opt-outs and buyers of one node's messages."""
        links = self._links.get((campaign_id, node))
        if links is None:
            links = self._links[(campaign_id, node)] = tracked_links(self.session, handed[:1])
        audience = Audience(self.rng, self.zone, self.now, links, by_chance=True)
        reactions = audience.react(handed, reaction, {})
        self.hits += reactions.hits
        self.opt_outs.unsubscribes += reactions.unsubscribes
        self.opt_outs.complaints += reactions.complaints
        messages = {item.customer_id: item.message_id for item in handed}
        self.buyers += [
            Buyer(campaign_id, node, messages[engaged.customer_id], engaged) for engaged in reactions.engaged
        ]

    def _write_hits(self, moment: datetime) -> None:
        """Write the opens and clicks that happened by `moment` through the tracking writer."""
        ready = sorted((hit for hit in self.hits if hit.at <= moment), key=lambda hit: hit.at)
        if not ready:
            return
        self.hits = [hit for hit in self.hits if hit.at > moment]
        HitWriter(self.session).write(ready)
        self.session.flush()
        self.session.expire_all()  # the writer updates the messages past the ORM
