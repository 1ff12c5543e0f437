"""Each mailing's own attribution rule (N days after the touch, a date range, or off, with receipt
criteria), told to attribution; a mailing without one uses the default of the settings."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.attribution.rules import Criteria, Rule, register_rule_source
from smartcomm.mailings.schemas import AttributionRuleIn
from smartcomm.models import Mailing
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service


def mailing_rules(session: Session, mailing_ids: Collection[int | None]) -> dict[int | None, Rule]:
    ids = [i for i in mailing_ids if i is not None]
    statement = select(Mailing.id, Mailing.attribution_rule).where(
        Mailing.id.in_(ids), Mailing.attribution_rule.is_not(None)
    )
    stored = [(int(row[0]), row[1]) for row in session.execute(statement) if row[1]]
    if not stored:
        return {}
    zone = settings_service.read(session, GeneralSettings).time_zone
    return {mailing_id: rule_of(value, zone) for mailing_id, value in stored}


def rule_of(stored: dict[str, Any], zone: str) -> Rule:
    """The rule a mailing's stored setting describes."""
    rule = AttributionRuleIn.model_validate(stored)
    criteria = _criteria(rule)
    if rule.window == "days" and rule.days:
        return Rule.days_after(rule.days, criteria)
    if rule.window == "range" and rule.date_from and rule.date_to:
        return Rule.between(rule.date_from, rule.date_to, zone, criteria)
    return Rule.off()


def _criteria(rule: AttributionRuleIn) -> Criteria:
    given = rule.criteria
    if given is None:
        return Criteria()
    return Criteria(
        min_amount=Decimal(given.min_amount) if given.min_amount is not None else None,
        min_items=Decimal(given.min_items) if given.min_items is not None else None,
        skus=frozenset(given.skus),
        category_ids=frozenset(given.category_ids),
    )


register_rule_source("mailing", mailing_rules)
