"""What a new installation shows on its first start: a few example segments and a first RFM calculation.

Without them the Segments and RFM pages of a fresh demo would be empty until the schedule runs. The
segments belong to the demo retailer, a Russian chain, and are named in Russian like its other records.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.datasettings.mailing_categories import MailingCategoryRepository
from smartcomm.rfm.service import rfm_service
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service

LAST_90_DAYS = {"period": {"kind": "last", "n": 90, "unit": "days"}}


def _condition(metric: str, operator: str, value: Any = None, **params: Any) -> dict[str, Any]:
    condition: dict[str, Any] = {"metric": metric, "operator": operator, "params": params}
    if value is not None:
        condition["value"] = value
    return condition


def _all_of(*conditions: dict[str, Any]) -> SegmentRules:
    return SegmentRules.model_validate(
        {"version": 1, "root": {"type": "group", "op": "and", "children": list(conditions)}}
    )


def example_segments(promotions_id: int | None) -> list[SegmentIn]:
    loyal = [_condition("purchases.count", "gte", 5, **LAST_90_DAYS)]
    if promotions_id is not None:
        loyal.append(
            _condition("contacts.subscribed", "is_true", category=str(promotions_id), channel="email")
        )
    return [
        SegmentIn(
            name="Покупали за последние 90 дней",
            description="Хотя бы один чек за последние 90 дней",
            rules=_all_of(_condition("purchases.count", "gte", 1, **LAST_90_DAYS)),
        ),
        SegmentIn(
            name="Спят полгода",
            description="Покупали раньше, но не за последние 180 дней: кандидаты на возврат",
            rules=_all_of(
                _condition("purchases.count", "gte", 1), _condition("purchases.days_since_last", "gte", 180)
            ),
        ),
        SegmentIn(
            name="Частые покупатели, читающие наши акции",
            description="Пять чеков и больше за 90 дней и подписка на акции по e-mail",
            rules=_all_of(*loyal),
        ),
        SegmentIn(
            name="День рождения в ближайшую неделю",
            description="Для поздравления с днём рождения",
            rules=_all_of(_condition("profile.days_to_birthday", "lte", 7)),
        ),
    ]


def add_starters(session: Session, actor: Actor) -> int:
    """Create the example segments (the worker builds them) and run the first RFM calculation."""
    promotions = MailingCategoryRepository(session).by_code("promotions")
    segments = example_segments(promotions.id if promotions else None)
    for data in segments:
        segment_service.create(session, actor, data)
    rfm_service.run(session, "demo")
    return len(segments)
