"""What a new installation shows on its first start: a few example segments, a first RFM calculation,
example templates of every channel, a few sample messages in the Outbox, three months of mailings
(`demo.communications`) and the trigger campaigns with their past (`demo.communications.campaigns`);
then the Summary dashboard is computed from all of it by the worker.

Without them the Segments, RFM, Templates and Outbox pages of a fresh demo would be empty until someone
made something. They belong to the demo retailer, a Russian chain, and are named in Russian like its
other records. Running the starters again adds only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.datasettings.mailing_categories import MailingCategoryRepository
from smartcomm.demo.communications import add_communications
from smartcomm.demo.communications.campaigns import add_campaigns
from smartcomm.demo.example_templates import add_example_templates
from smartcomm.demo.sample_messages import send_sample_messages
from smartcomm.kit.jobs import queue_after_commit
from smartcomm.rfm.service import rfm_service
from smartcomm.segments.repository import SegmentRepository
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


@dataclass(frozen=True)
class Starters:
    """What the starters hold: example segments and templates, sample messages in the ledger, the
    mailings of the history of communication and the trigger campaigns."""

    segments: int
    templates: int
    messages: int
    mailings: int = 0
    campaigns: int = 0


def add_starters(session: Session, actor: Actor) -> Starters:
    """Create what is missing of the example segments (the worker builds them), the first RFM calculation
    and the example templates, send the sample messages (the worker dispatches them after the commit),
    and make the history of communication of the last three months and the trigger campaigns; once that is
    committed, the worker computes the Summary dashboard, the first page users see."""
    segments = add_example_segments(session, actor)
    if rfm_service.last_attempt(session) is None:
        rfm_service.run(session, "demo")
    templates = add_example_templates(session, actor)
    messages = send_sample_messages(session, actor, templates)
    mailings = add_communications(session, actor)
    campaigns = add_campaigns(session, actor)
    queue_after_commit(session, "analytics.dashboard_schedule", True)
    return Starters(
        segments=segments,
        templates=len(templates),
        messages=messages,
        mailings=mailings,
        campaigns=campaigns,
    )


def add_example_segments(session: Session, actor: Actor) -> int:
    """Create the example segments whose names are still free; the number of examples."""
    promotions = MailingCategoryRepository(session).by_code("promotions")
    segments = example_segments(promotions.id if promotions else None)
    repository = SegmentRepository(session)
    for data in segments:
        if repository.named(data.name) is None:
            segment_service.create(session, actor, data)
    return len(segments)
