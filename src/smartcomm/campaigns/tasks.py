"""Jobs of trigger campaigns: walking due journeys, and the every-minute look of scheduled triggers.

Both are safe to run twice or at once in several workers: walking claims its rows in the transaction that
moves them, and a scheduled trigger's look holds its campaign's row while it enters the window's customers
and moves the window on, in one transaction.
"""

from __future__ import annotations

import logging

from huey import crontab

from smartcomm.campaigns import nodes
from smartcomm.campaigns.engine import advance as advance_journeys
from smartcomm.campaigns.engine import enter_window, graph_of, project_zone
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.campaigns.triggers.base import Trigger, Window
from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey
from smartcomm.kit.time import utcnow

logger = logging.getLogger(__name__)


@huey.task(name="campaigns.advance")
def advance() -> int:
    """Walk the due journeys of every campaign, a batch of each in turn, until none is due."""
    return advance_journeys()


@huey.task(name="campaigns.check_scheduled")
def check_scheduled() -> int:
    """Enter the customers of every scheduled trigger whose look has come; returns how many entered."""
    now = utcnow()
    scheduled = [
        each.name for each in nodes.of_group("trigger") if isinstance(each, Trigger) and each.scheduled
    ]
    with session_scope(read_only=True) as session:
        due = CampaignRepository(session).scheduled_due(scheduled, now)
    entered = 0
    for campaign_id in due:
        try:
            entered += _look(campaign_id)
        except Exception:  # one campaign's broken look must not hold back the others
            logger.exception("the scheduled trigger of campaign %d failed", campaign_id)
    return entered


def _look(campaign_id: int) -> int:
    """One campaign's look: the window since the last look, in one transaction with moving it on."""
    with session_scope() as session:
        repository = CampaignRepository(session)
        campaign = repository.lock(campaign_id)
        now = utcnow()
        if campaign is None or campaign.next_check_at is None or campaign.next_check_at > now:
            return 0
        version = repository.version(campaign.published_version_id or 0)
        node = graph_of(version).trigger if version is not None else None
        trigger = nodes.kind(node.kind) if node is not None else None
        if version is None or node is None or not isinstance(trigger, Trigger):
            repository.set_check(campaign.id, now, None)
            return 0
        settings = graph_of(version).settings[node.id]
        zone = project_zone(session)
        window = Window(campaign.checked_until or now, now, zone)
        entered = enter_window(session, campaign, trigger, settings, window)
        repository.set_check(campaign.id, now, trigger.next_check(settings, now, zone))
        return entered


@huey.periodic_task(crontab(), name="campaigns.every_minute")
def every_minute() -> None:
    # Scheduled triggers whose time came, and the safety net of walking: waits that ended, and a walk
    # lost with a killed worker.
    check_scheduled.call_local()
    advance.call_local()
