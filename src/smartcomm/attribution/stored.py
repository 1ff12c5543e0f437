"""The attribution rule a communication stores with itself (a mailing's `attribution_rule`, a campaign's
`attribution`), read into a `Rule`: the one parsing every kind of source shares."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from smartcomm.attribution.rules import Criteria, Rule
from smartcomm.attribution.schemas import AttributionRuleIn
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

logger = logging.getLogger(__name__)


def rule_of(stored: Mapping[str, Any], zone: str) -> Rule:
    """The rule a stored setting describes (the shape of `AttributionRuleIn`)."""
    rule = AttributionRuleIn.model_validate(stored)
    criteria = _criteria(rule)
    if rule.window == "days" and rule.days:
        return Rule.days_after(rule.days, criteria)
    if rule.window == "range" and rule.date_from and rule.date_to:
        return Rule.between(rule.date_from, rule.date_to, zone, criteria)
    return Rule.off()


def rules_of(
    session: Session, stored: Iterable[tuple[int, Mapping[str, Any] | None]]
) -> dict[int | None, Rule]:
    """The rules of the communications that store one, by id; an empty or unreadable setting is left out
    (its communication takes the default rule: attributing must never fail on one bad setting)."""
    given = [(source_id, value) for source_id, value in stored if value]
    if not given:
        return {}
    zone = settings_service.read(session, GeneralSettings).time_zone
    rules: dict[int | None, Rule] = {}
    for source_id, value in given:
        try:
            rules[source_id] = rule_of(value, zone)
        except ValidationError:
            logger.warning("the attribution rule of source %s cannot be read: the default applies", source_id)
    return rules


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
