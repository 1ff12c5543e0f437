"""The demo's trigger campaigns, made from the instant-campaign gallery by the demo's marketing team, with
their past.

- "Welcome series" (registration → e-mail → wait 3 days → no receipt yet → e-mail with a WELCOME code),
  active for two months: every customer who registered since entered it.
- "Birthday with a promo code" (birthday at 10:00 → e-mail with a BIRTHDAY code → wait a day → not read or
  not delivered → SMS), activated yesterday afternoon: its first look is today's 10:00, which the worker
  makes as soon as it starts (or at 10:00) — today's birthdays get their e-mails then, in the Outbox.
- "Abandoned cart" (lost cart → e-mail with the cart → wait a day → not read → SMS; an order or a purchase
  on the site ends it), active for two weeks; its last look was six hours ago, so the worker's first look
  enters the carts abandoned since (`demo.today` leaves a few).
- "Lost view of a product", active for two weeks, then suspended; "Win-back", a draft waiting for its
  promo code group. So the list shows every status.

Each is made as a marketer makes one — the gallery's copy (templates in Russian, the retailer's language),
renamed — and activated and suspended by the senior marketer, each action's history row dated when it
happened. Their past is walked by the journey engine (`journeys`), their messages handed over and
reacted to as the mailings' are, their codes issued and their sales written and attributed
(`campaign_sales`). Running it again adds nothing: a base that holds a campaign of these names keeps
what it has.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.campaigns import nodes, recipes
from smartcomm.campaigns.engine import graph_of
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import ACTIVE, campaign_service
from smartcomm.campaigns.triggers.base import Trigger
from smartcomm.delivery.consent import consent_service
from smartcomm.demo.campaign_repository import CampaignDemoRepository
from smartcomm.demo.communications import ATTRIBUTION_DAYS, campaign_sales
from smartcomm.demo.communications.campaign_plans import CAMPAIGNS, CampaignPlan, Moment, campaign_names
from smartcomm.demo.communications.journeys import JourneyHistory, Running
from smartcomm.demo.communications.staff import Team, dated, marketing_team
from smartcomm.demo.repository import DemoRepository
from smartcomm.demo.today import add_today
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

SEED = "smartcomm-demo-campaigns"
LANGUAGE = "ru"  # the retailer's letters are in Russian
JOINED = Moment(120, "09:30")  # the marketing team's accounts were made
ATTRIBUTION = {"window": "days", "days": ATTRIBUTION_DAYS}


@dataclass(frozen=True)
class Clock:
    now: datetime
    zone: str

    def at(self, moment: Moment) -> datetime:
        """The UTC instant of a wall-clock time some days ago in the project zone."""
        zone = ZoneInfo(self.zone)
        day = self.now.astimezone(zone).date() - timedelta(days=moment.days_ago)
        hours, minutes = (int(part) for part in moment.clock.split(":"))
        return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone).astimezone(UTC)


def add_campaigns(session: Session, actor: Actor) -> int:
    """Make the campaigns with their past unless one of them exists; the number of campaigns."""
    existing = CampaignDemoRepository(session).campaign_names(campaign_names())
    if existing:
        return len(existing)
    if not DemoRepository(session).customer_count():
        return 0
    clock = Clock(utcnow(), settings_service.read(session, GeneralSettings).time_zone)
    team = marketing_team(session, actor, clock.at(JOINED))
    made = {plan.name: _make(session, team, plan, clock) for plan in CAMPAIGNS}
    running = [
        _running(made[plan.name], plan, clock)
        for plan in CAMPAIGNS
        if plan.history and made[plan.name].status == ACTIVE
    ]
    reasons = [reason.code for reason in consent_service.reasons(session)]
    history = JourneyHistory(session, clock.zone, clock.now, reasons)
    history.run(running)
    _sell(session, actor, history, running, clock)
    for plan in CAMPAIGNS:
        _settle(session, team, made[plan.name], plan, clock, running)
    add_today(session, clock.now, clock.now.astimezone(ZoneInfo(clock.zone)).date())
    session.flush()
    return len(CAMPAIGNS)


def _make(session: Session, team: Team, plan: CampaignPlan, clock: Clock) -> Campaign:
    """The gallery's copy, renamed by the marketer; activated by the senior marketer when the plan says."""
    made_at = clock.at(plan.made)
    with dated(session, made_at):
        campaign = recipes.instantiate(session, team.marketer, plan.recipe, LANGUAGE)
        data = CampaignIn.model_validate(
            {
                "name": plan.name,
                "description": plan.description,
                "reentry_minutes": campaign.reentry_minutes,
                "exit_rules": campaign.exit_rules,
                "attribution": ATTRIBUTION,  # a week after the touch, as the mailings
            }
        )
        campaign_service.update(session, team.marketer, campaign.id, data)
    campaign.created_at = campaign.updated_at = made_at
    for version in CampaignRepository(session).versions(campaign.id):
        version.created_at = version.updated_at = made_at
    if plan.activated is not None:
        _activate(session, team, campaign, clock.at(plan.activated), clock)
    session.flush()
    return campaign


def _activate(session: Session, team: Team, campaign: Campaign, at: datetime, clock: Clock) -> None:
    """Publish and activate as of `at`; a campaign whose graph has problems stays a draft (a base made
    without the promo code groups its letters name)."""
    draft = CampaignRepository(session).version(campaign.draft_version_id or 0)
    if draft is None or not campaign_service.check(session, draft.graph).valid:
        return
    with dated(session, at):
        campaign_service.activate(session, team.senior, campaign.id)
    repository = CampaignRepository(session)
    version = repository.version(campaign.published_version_id or 0)
    assert version is not None  # activating publishes the draft
    version.published_at = campaign.activated_at = campaign.updated_at = at
    trigger, settings = _trigger(session, campaign)
    if trigger is not None and trigger.scheduled:  # its window starts at the activation, as the service's
        campaign.checked_until = at
        campaign.next_check_at = trigger.next_check(settings, at, ZoneInfo(clock.zone))


def _trigger(session: Session, campaign: Campaign) -> tuple[Trigger | None, object]:
    """The published version's trigger kind and its settings."""
    version = CampaignRepository(session).version(campaign.published_version_id or 0)
    node = graph_of(version).trigger if version is not None else None
    kind = nodes.kind(node.kind) if node is not None else None
    if version is None or node is None or not isinstance(kind, Trigger):
        return None, None
    return kind, graph_of(version).settings[node.id]


def _running(campaign: Campaign, plan: CampaignPlan, clock: Clock) -> Running:
    """The stretch the campaign's past is walked over: from its activation to its suspension, or to its
    last look before the present."""
    start = clock.at(plan.activated or plan.made)
    stop = clock.at(plan.suspended) if plan.suspended else clock.now - timedelta(hours=plan.quiet_hours)
    return Running(campaign, plan, start, stop, start)


def _sell(
    session: Session, actor: Actor, history: JourneyHistory, running: list[Running], clock: Clock
) -> None:
    """The codes the letters showed, what their readers bought, and the attribution of their receipts."""
    codes: dict[int, tuple[str, str]] = {}
    for each in running:
        for node, group in each.plan.codes.items():
            issued = campaign_sales.issue_codes(session, each.campaign.id, node, group)
            codes |= {message_id: (group, code) for message_id, code in issued.items()}
    rng = random.Random(f"{SEED}:sales")  # noqa: S311 (demo data, not secrets)
    campaign_sales.sell(session, actor, history.buyers, codes, clock.now, clock.zone, rng)
    if running:
        since = min(each.start for each in running)
        campaign_sales.attribute(session, [each.campaign.id for each in running], since)


def _settle(
    session: Session, team: Team, campaign: Campaign, plan: CampaignPlan, clock: Clock, running: list[Running]
) -> None:
    """Where each campaign stands now: suspended when the plan says; a scheduled trigger's next look
    right after its last one (the worker makes it at once)."""
    if plan.suspended is not None and campaign.status == ACTIVE:
        at = clock.at(plan.suspended)
        with dated(session, at):
            campaign_service.suspend(session, team.senior, campaign.id)
        campaign.suspended_at = campaign.updated_at = at
        return
    walked = next((each for each in running if each.campaign.id == campaign.id), None)
    trigger, settings = _trigger(session, campaign)
    if walked is not None and trigger is not None and trigger.scheduled:
        campaign.checked_until = walked.looked
        campaign.next_check_at = trigger.next_check(settings, walked.looked, ZoneInfo(clock.zone))
