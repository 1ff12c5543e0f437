"""Each campaign's own attribution rule, told to attribution: its messages' touches claim the purchases
N days after them (the mailing's shape and parsing; a campaign offers "N days" and "off"). A campaign
whose rule is empty uses the default of the settings."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.attribution.rules import Rule, register_rule_source
from smartcomm.attribution.stored import rules_of
from smartcomm.delivery.ledger import Source
from smartcomm.models import Campaign


def campaign_rules(session: Session, campaign_ids: Collection[int | None]) -> dict[int | None, Rule]:
    ids = [i for i in campaign_ids if i is not None]
    statement = select(Campaign.id, Campaign.attribution).where(Campaign.id.in_(ids))
    return rules_of(session, ((int(row[0]), row[1]) for row in session.execute(statement)))


register_rule_source(Source.CAMPAIGN, campaign_rules)
