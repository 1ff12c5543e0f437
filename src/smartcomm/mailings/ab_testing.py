"""The automatic winner of an A/B test: after the test share has had its wait, the variant with the best
result by the chosen metric — people's opens or clicks per message sent, or attributed revenue per
message sent — goes to everyone who waited. The reason (every variant's figures) is kept for the report.
Ties go to the earlier variant."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.mailings.draws import label
from smartcomm.mailings.repository import MailingRepository
from smartcomm.models import Mailing

METRIC_FIELDS = {"opens": "opened", "clicks": "clicked", "revenue": "revenue"}


def waits_for_winner(mailing: Mailing) -> bool:
    """An automatic-winner test whose winner is not chosen yet: the mailing is not finished."""
    return bool(mailing.variants) and mailing.ab_test is not None and mailing.winner_variant is None


def winner_due_at(mailing: Mailing) -> datetime | None:
    """When the test share has had its wait (from the end of collecting it)."""
    if not waits_for_winner(mailing) or mailing.collected_at is None or mailing.ab_test is None:
        return None
    return mailing.collected_at + timedelta(hours=int(mailing.ab_test.get("wait_hours", 4)))


def choose(session: Session, mailing: Mailing) -> tuple[int, dict[str, Any]]:
    """The winning variant and why: each variant's messages sent, opens, clicks, revenue and score."""
    assert mailing.ab_test is not None
    metric = str(mailing.ab_test.get("metric", "opens"))
    results = MailingRepository(session).variant_results(mailing.id)
    scores: list[tuple[Decimal, int]] = []
    figures: dict[str, dict[str, Any]] = {}
    for index in range(len(mailing.variants)):
        found = results.get(index, {})
        sent = int(found.get("sent", 0))
        value = Decimal(str(found.get(METRIC_FIELDS[metric], 0) or 0))
        score = value / sent if sent else Decimal(0)
        scores.append((score, -index))
        figures[label(index)] = {
            "sent": sent,
            "opened": int(found.get("opened", 0)),
            "clicked": int(found.get("clicked", 0)),
            "revenue": str(Decimal(str(found.get("revenue", 0) or 0))),
            "score": float(round(score, 6)),
        }
    winner = -max(scores)[1]
    return winner, {"metric": metric, "winner": label(winner), "variants": figures}
