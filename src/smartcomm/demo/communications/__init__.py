"""The demo base's history of communication: three months of mass mailings — e-mail (one an A/B test
with an automatic winner), SMS, a Viber → SMS cascade and push — sent to the sandbox through the code
that sends real ones, with what their recipients did and bought; and two mailings ahead, one scheduled
and one draft. So a new installation's mailing lists, calendar and reports are full from the first
minute, and their figures agree with the receipts. With them come three promo code groups, whose codes
one of the letters gave out and receipts brought back (`promos`), and a poll sent by SMS and answered
(`polls`).

Each mailing is created by the mailing service and launched and collected at its past start; its messages
are handed over at that moment (`sending`), their recipients' reactions recorded through the tracking,
receipt and consent paths (`engagement`), their purchases written as receipts and attributed
(`purchases`). The same seed always makes the same history. Running it again adds nothing: a base that
holds a mailing of the history's names keeps what it has.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.datasettings.mailing_categories import MailingCategoryRepository
from smartcomm.delivery.consent import consent_service
from smartcomm.demo.communications import engagement, polls, promos, purchases, sending
from smartcomm.demo.communications.audiences import make_audience
from smartcomm.demo.communications.engagement import Audience, Engaged, Reactions
from smartcomm.demo.communications.links import tracked_links
from smartcomm.demo.communications.plans import (
    AHEAD,
    AUDIENCES,
    MAILINGS,
    AheadPlan,
    MailingPlan,
    history_names,
)
from smartcomm.demo.communications.templates import Template, add_templates
from smartcomm.demo.repository import DemoRepository
from smartcomm.kit.time import utcnow
from smartcomm.mailings.schemas import AbTestIn, AttributionRuleIn, MailingCreate, VariantIn
from smartcomm.mailings.service import mailing_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

SEED = "smartcomm-demo-communications"
ATTRIBUTION_DAYS = 7  # purchases count for a mailing for a week after the touch


@dataclass
class History:
    """What the history is being made with, and what it made so far."""

    session: Session
    actor: Actor
    now: datetime
    zone: str
    templates: dict[str, int]
    categories: dict[str, int]
    audiences: dict[str, int] = field(default_factory=dict)
    buyers: list[tuple[int, Engaged]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def moment(self, days: int, clock: str) -> datetime:
        """The UTC moment of a wall-clock time `days` from today (negative: ago) in the project zone."""
        zone = ZoneInfo(self.zone)
        day = self.now.astimezone(zone).date() + timedelta(days=days)
        hours, minutes = (int(part) for part in clock.split(":"))
        return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone).astimezone(UTC)


def add_communications(session: Session, actor: Actor) -> int:
    """Make the history of communication unless a mailing of it exists; the number of its mailings."""
    names = history_names()
    repository = DemoRepository(session)
    existing = repository.mailing_names(names)
    if existing:
        return len(existing)
    categories = _categories(session)
    if categories is None or not repository.customer_count():
        return 0
    extra = add_loyalty_tools(session, actor)
    history = History(
        session,
        actor,
        utcnow(),
        settings_service.read(session, GeneralSettings).time_zone,
        add_templates(session, actor, extra),
        categories,
        reasons=[reason.code for reason in consent_service.reasons(session)],
    )
    first = history.moment(-MAILINGS[0].days_ago, MAILINGS[0].clock)
    for plan in MAILINGS:
        _send(history, plan)
    for ahead in AHEAD:
        _plan_ahead(history, ahead)
    promos.add_code_history(session, actor, history.now, history.zone)
    polls.add_answers(session, history.now, history.zone)
    rng = random.Random(f"{SEED}:purchases")  # noqa: S311 (demo data, not secrets)
    purchases.add_purchases(session, actor, history.buyers, history.now, history.zone, rng)
    purchases.attribute(session, first, history.now)
    session.flush()
    return len(names)


def add_loyalty_tools(session: Session, actor: Actor) -> dict[str, Template]:
    """The promo code groups and the poll the history's templates name (those that exist are kept);
    the templates that name the poll.

    A caller that commits may make them in a transaction of its own before the history: a template is
    checked by rendering it, and its macros read the groups and polls in a session of their own, which
    sees only what was committed."""
    zone = settings_service.read(session, GeneralSettings).time_zone
    promos.add_groups(session, actor, utcnow(), zone)
    return polls.sms_template(polls.add_poll(session, actor))


def _categories(session: Session) -> dict[str, int] | None:
    repository = MailingCategoryRepository(session)
    codes = {plan.category for plan in (*MAILINGS, *AUDIENCES, *AHEAD)}
    found = {code: repository.by_code(code) for code in codes}
    if any(category is None for category in found.values()):
        return None
    return {code: category.id for code, category in found.items() if category is not None}


# --- one mailing --------------------------------------------------------------------------------------


def _send(history: History, plan: MailingPlan) -> None:
    rng = random.Random(f"{SEED}:{plan.name}")  # noqa: S311 (demo data, not secrets)
    start = history.moment(-plan.days_ago, plan.clock)
    mailing_id = _create(history, plan, start, rng)
    session = history.session
    sending.launch(session, history.actor, mailing_id, start)
    handed = sending.hand_over(session, mailing_id, start, plan.fates, rng)
    audience = Audience(rng, history.zone, history.now, tracked_links(session, handed))
    opened: dict[int | None, float] = {i: variant.opened for i, variant in enumerate(plan.variants)}
    reactions = audience.react(handed, plan.engagement, opened)
    if plan.variants:
        handed, reactions = _choose_winner(history, plan, mailing_id, start, handed, reactions, audience, rng)
    elif plan.channel == "sms_viber":
        legs = sending.send_cascade_legs(session, mailing_id, start, handed, rng)
        texts = Audience(rng, history.zone, history.now, tracked_links(session, legs))
        reactions.extend(texts.react(legs, plan.engagement, {}))
        handed += legs
    engagement.write(session, reactions, history.reasons, rng)
    sending.settle(session, handed, start)
    history.buyers += [(mailing_id, engaged) for engaged in reactions.engaged]


def _choose_winner(
    history: History,
    plan: MailingPlan,
    mailing_id: int,
    start: datetime,
    handed: list[sending.Handed],
    reactions: Reactions,
    audience: Audience,
    rng: random.Random,
) -> tuple[list[sending.Handed], Reactions]:
    """The test share's opens by the end of the wait choose the winner, which goes to the rest."""
    session = history.session
    due = start + timedelta(hours=plan.ab_wait_hours)
    early, late = reactions.split(due)
    engagement.write(session, early, history.reasons, rng)
    mailing_service.choose_due_winners(session, now=due)
    sending.collect(session, mailing_id, due)
    rest = sending.hand_over(session, mailing_id, due, plan.fates, rng)
    winner = mailing_service.get(session, mailing_id).winner_variant
    opened: dict[int | None, float] = {winner: plan.variants[winner].opened} if winner is not None else {}
    late.extend(audience.react(rest, plan.engagement, opened))
    late.engaged = early.engaged + late.engaged
    return handed + rest, late


def _create(history: History, plan: MailingPlan, start: datetime, rng: random.Random) -> int:
    audience_id = _audience(history, plan.audience, start)
    data = MailingCreate(
        channel=plan.channel,
        name=plan.name,
        category_id=history.categories[plan.category],
        template_version_id=history.templates[plan.template],
        sms_template_version_id=history.templates[plan.sms_template] if plan.sms_template else None,
        include_audience_ids=[audience_id],
        control_percent=plan.control_percent,
        control_seed=rng.randrange(2**31),
        control_strata=list(plan.control_strata) or None,
        deliver_immediately=True,
        utm={"utm_campaign": plan.utm_campaign} if plan.utm_campaign else None,
        variants=[
            VariantIn(template_version_id=history.templates[v.template], subject=v.subject)
            for v in plan.variants
        ]
        or None,
        ab_test=AbTestIn(test_percent=20, wait_hours=plan.ab_wait_hours, metric="opens")
        if plan.variants
        else None,
        attribution_rule=AttributionRuleIn(window="days", days=ATTRIBUTION_DAYS),
    )
    mailing = mailing_service.create(history.session, history.actor, data)
    mailing.created_at = mailing.updated_at = start - timedelta(hours=rng.randint(2, 48))
    return mailing.id


def _audience(history: History, key: str, start: datetime) -> int:
    """The target audience, made the day before its first mailing."""
    if key not in history.audiences:
        plan = next(audience for audience in AUDIENCES if audience.key == key)
        rng = random.Random(f"{SEED}:audience:{key}")  # noqa: S311 (demo data, not secrets)
        made, category = start - timedelta(days=1), history.categories[plan.category]
        history.audiences[key] = make_audience(history.session, history.actor, plan, category, made, rng)
    return history.audiences[key]


# --- the mailings ahead -------------------------------------------------------------------------------


def _plan_ahead(history: History, plan: AheadPlan) -> None:
    """A mailing scheduled for its moment, or a draft with the moment pencilled in."""
    rng = random.Random(f"{SEED}:{plan.name}")  # noqa: S311 (demo data, not secrets)
    at = history.moment(plan.days_ahead, plan.clock)
    data = MailingCreate(
        channel=plan.channel,
        name=plan.name,
        category_id=history.categories[plan.category],
        template_version_id=history.templates[plan.template],
        include_audience_ids=[_audience(history, plan.audience, history.now)],
        control_percent=10.0,
        control_seed=rng.randrange(2**31),
        scheduled_at=at,
        attribution_rule=AttributionRuleIn(window="days", days=ATTRIBUTION_DAYS),
    )
    mailing = mailing_service.create(history.session, history.actor, data)
    if plan.launch:
        mailing_service.launch(history.session, history.actor, mailing.id, now=history.now)
