"""Random campaign rows for segment tests: two campaigns, journeys of some customers in every status at
random times, and campaign messages of every status — written straight into the tables."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from smartcomm.models import Campaign, CampaignVersion, Journey
from tests.segments.communications_data import CHANNELS, HANDED, STATUSES, make_message

JOURNEY_STATUSES = ("waiting", "done", "exited")


def write_campaigns(
    session: Session, rng: random.Random, customer_ids: Sequence[int], moment: Callable[[], datetime]
) -> list[int]:
    """Campaigns with journeys and messages for these customers at times `moment()` draws; their ids."""
    campaigns = [_campaign(session, f"Campaign {n}") for n in range(2)]
    for customer_id in customer_ids:
        for number in range(rng.choice((0, 0, 1, 2))):
            campaign, version = rng.choice(campaigns)
            session.add(_journey(rng, campaign.id, version.id, customer_id, number, moment()))
        for _ in range(rng.choice((0, 0, 1, 2))):
            _message(session, rng, customer_id, rng.choice(campaigns)[0].id, moment)
    session.flush()
    return [campaign.id for campaign, _ in campaigns]


def _campaign(session: Session, name: str) -> tuple[Campaign, CampaignVersion]:
    campaign = Campaign(name=name, status="active", exit_rules=[], attribution={})
    session.add(campaign)
    session.flush()
    version = CampaignVersion(campaign_id=campaign.id, number=1, graph={"nodes": [], "edges": []})
    session.add(version)
    session.flush()
    return campaign, version


def _journey(
    rng: random.Random, campaign_id: int, version_id: int, customer_id: int, number: int, entered: datetime
) -> Journey:
    status = rng.choice(JOURNEY_STATUSES)
    return Journey(
        campaign_id=campaign_id,
        version_id=version_id,
        customer_id=customer_id,
        occurrence=f"test:{number}",
        node="n1",
        status=status,
        entered_at=entered,
        arrived_at=entered,
        wake_at=entered if status == "waiting" else None,
        finished_at=None if status == "waiting" else entered + timedelta(hours=1),
        context={},
        state={},
    )


def _message(
    session: Session, rng: random.Random, customer_id: int, campaign_id: int, moment: Callable[[], datetime]
) -> None:
    status = rng.choice(STATUSES)
    handed = moment() if status in HANDED else None
    opens, clicks = rng.choice((0, 1, 2)), rng.choice((0, 0, 1))
    make_message(
        session,
        customer_id,
        source_kind="campaign",
        source_id=campaign_id,
        channel=rng.choice(CHANNELS),
        status=status,
        handed_over_at=handed,
        opened_at=handed + timedelta(hours=rng.choice((1, 30))) if handed and rng.random() < 0.6 else None,
        clicked_at=handed + timedelta(hours=rng.choice((2, 50))) if handed and rng.random() < 0.4 else None,
        opens=opens,
        clicks=clicks,
    )
