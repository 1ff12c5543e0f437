"""Attribution: which communications a paid receipt followed, and the one that gets the credit.

A touch is a message of the send ledger a person engaged with: an e-mail or push opened by a person (at
the first open not judged a machine's) or a delivered SMS or Viber message (at its delivery). Test,
watcher and confirmation messages are never touches. A paid receipt is paired with every touch of its
customer before its purchase whose communication's rule covers it (`rules.Rule`), and the most recent
of them — the later message on a tie — is credited. Returned and cancelled receipts have no pairs.

One function does the work for any set of receipts: it forgets their pairs and computes them again from
the ledger. The incremental path (`subscribers`) and the rebuild of a period both call it, so they
cannot disagree, and running it twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from smartcomm.attribution.repository import AttributionRepository, chunks
from smartcomm.attribution.rules import Criteria, Rule, SourceKey, resolve
from smartcomm.attribution.schemas import AttributionDay, AttributionSummary
from smartcomm.kit.time import to_zone
from smartcomm.models.receipts import PURCHASE_STATUSES
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service

# Receipts attributed per round: their customers' touches are read in one go.
BATCH = 2000


@dataclass(frozen=True)
class _Lines:
    """The skus and categories bought on each receipt (read only when some rule asks)."""

    skus: dict[int, set[str]]
    categories: dict[int, set[int]]

    def has(self, receipt_id: int, criteria: Criteria) -> bool:
        if criteria.skus and not criteria.skus & self.skus.get(receipt_id, set()):
            return False
        return not (
            criteria.category_ids and not criteria.category_ids & self.categories.get(receipt_id, set())
        )


def qualifies(receipt: Any, criteria: Criteria) -> bool:
    """The receipt criteria that need no lines: minimum amount and number of items."""
    if criteria.min_amount is not None and receipt.total < criteria.min_amount:
        return False
    return criteria.min_items is None or receipt.item_count >= criteria.min_items


class AttributionService:
    def default_rule(self, session: Session) -> Rule:
        """N days after the touch, N from the settings (transactional messages, and sources without a
        rule of their own)."""
        return Rule.days_after(settings_service.read(session, DeliverySettings).attribution_days)

    # --- the work ------------------------------------------------------------------------------------

    def attribute(self, session: Session, receipt_ids: Collection[int]) -> int:
        """Compute the pairs of these receipts again (any status; unknown ids are skipped); returns how
        many pairs they have now."""
        total = 0
        for part in chunks(sorted(set(receipt_ids)), BATCH):
            total += self._attribute_batch(session, part)
        return total

    def _attribute_batch(self, session: Session, receipt_ids: list[int]) -> int:
        repository = AttributionRepository(session)
        repository.forget(receipt_ids)
        receipts = [r for r in repository.receipts(receipt_ids) if r.status in PURCHASE_STATUSES]
        if not receipts:
            return 0
        latest = max(receipt.purchased_at for receipt in receipts)
        touches = repository.touches({receipt.customer_id for receipt in receipts}, latest)
        rules = resolve(session, {(t.source_kind, t.source_id) for t in touches}, self.default_rule(session))
        lines = self._lines(repository, receipts, rules.values())
        by_customer: dict[int, list[Row[Any]]] = defaultdict(list)
        for touch in touches:
            by_customer[touch.customer_id].append(touch)
        rows = [row for r in receipts for row in _pairs(r, by_customer[r.customer_id], rules, lines)]
        repository.write(rows)
        return len(rows)

    def _lines(
        self, repository: AttributionRepository, receipts: list[Row[Any]], rules: Collection[Rule]
    ) -> _Lines:
        lines = _Lines(defaultdict(set), defaultdict(set))
        if any(rule.criteria.reads_lines for rule in rules):
            for receipt_id, sku, category_id in repository.purchase_lines([r.id for r in receipts]):
                lines.skus[receipt_id].add(sku)
                if category_id is not None:
                    lines.categories[receipt_id].add(category_id)
        return lines

    # --- the incremental path ------------------------------------------------------------------------

    def receipts_written(self, session: Session, receipt_ids: Collection[int]) -> int:
        """New or replaced receipts (a replaced one may be returned now: its pairs go)."""
        return self.attribute(session, receipt_ids)

    def touched(self, session: Session, message_ids: Collection[int]) -> int:
        """Messages delivered or opened: the receipts their customers made since the messages were made
        are attributed again (a touch recorded late still claims the purchases after it)."""
        repository = AttributionRepository(session)
        since = repository.message_customers(message_ids)
        return self.attribute(session, repository.receipt_ids_since(since)) if since else 0

    def customers_changed(self, session: Session, customer_ids: Collection[int]) -> int:
        """Every receipt of these customers (a receipts import names its customers only)."""
        return self.attribute(session, AttributionRepository(session).receipt_ids_of_customers(customer_ids))

    # --- rebuilding ----------------------------------------------------------------------------------

    def rebuild(
        self,
        session: Session,
        start: datetime,
        end: datetime,
        after_batch: Callable[[int], None] | None = None,
    ) -> int:
        """Attribute again every receipt purchased in [start, end), a batch at a time in id order;
        `after_batch(receipts done)` may commit (a rebuild restarted simply runs again)."""
        return self._in_batches(
            lambda after: AttributionRepository(session).receipt_ids_purchased(start, end, after, BATCH),
            session,
            after_batch,
        )

    def rebuild_updated(
        self, session: Session, since: datetime, after_batch: Callable[[int], None] | None = None
    ) -> int:
        """Attribute again every receipt written since a moment (a bulk import too large to list)."""
        return self._in_batches(
            lambda after: AttributionRepository(session).receipt_ids_updated(since, after, BATCH),
            session,
            after_batch,
        )

    def _in_batches(
        self,
        next_ids: Callable[[int], list[int]],
        session: Session,
        after_batch: Callable[[int], None] | None,
    ) -> int:
        done = 0
        for ids in _batches(next_ids):
            self.attribute(session, ids)
            done += len(ids)
            if after_batch is not None:
                after_batch(done)
        return done

    # --- reading -------------------------------------------------------------------------------------

    def summary(self, session: Session, source_kind: str, source_id: int | None) -> AttributionSummary:
        """The receipts credited to a communication: how many, from how many buyers, for how much."""
        receipts, buyers, amount = AttributionRepository(session).summary(source_kind, source_id)
        return AttributionSummary(
            source_kind=source_kind,
            source_id=source_id,
            receipts=receipts,
            buyers=buyers,
            amount=_money(amount),
        )

    def per_day(self, session: Session, source_kind: str, source_id: int | None) -> list[AttributionDay]:
        """Credited receipts and their amount per day of the project time zone, oldest first."""
        zone = settings_service.read(session, GeneralSettings).time_zone
        return per_day_of(AttributionRepository(session).credited_purchases(source_kind, source_id), zone)


def per_day_of(purchases: Iterable[tuple[datetime, Decimal]], zone: str) -> list[AttributionDay]:
    """(purchased_at, amount) of credited receipts as receipts and amount per day of the zone, oldest
    first (reports that narrow the receipts down share the grouping)."""
    days: dict[date, list[Decimal]] = defaultdict(list)
    for purchased_at, amount in purchases:
        days[to_zone(purchased_at, zone).date()].append(amount)
    return [
        AttributionDay(day=day, receipts=len(amounts), amount=sum(amounts, Decimal("0.00")))
        for day, amounts in sorted(days.items())
    ]


def _batches(next_ids: Callable[[int], list[int]]) -> Iterator[list[int]]:
    after = 0
    while ids := next_ids(after):
        yield ids
        after = ids[-1]


def _money(value: Any) -> Decimal:
    """A sum of the amount column (the column type reads it back as an exact decimal)."""
    return Decimal(value).quantize(Decimal("0.01"))


def _pairs(
    receipt: Any, touches: list[Row[Any]], rules: dict[SourceKey, Rule], lines: _Lines
) -> list[dict[str, Any]]:
    """The pairs of one paid receipt with the touches whose rule covers it; the last touch credited."""
    qualifying = [
        touch
        for touch in touches
        if _counts(receipt, touch.touched_at, rules[(touch.source_kind, touch.source_id)], lines)
    ]
    if not qualifying:
        return []
    last = max(qualifying, key=lambda touch: (touch.touched_at, touch.message_id))
    return [_pair(receipt, touch, touch is last) for touch in qualifying]


def _counts(receipt: Any, touched_at: datetime, rule: Rule, lines: _Lines) -> bool:
    if not rule.covers(touched_at, receipt.purchased_at) or not qualifies(receipt, rule.criteria):
        return False
    return not rule.criteria.reads_lines or lines.has(receipt.id, rule.criteria)


def _pair(receipt: Any, touch: Row[Any], credited: bool) -> dict[str, Any]:
    return {
        "receipt_id": receipt.id,
        "message_id": touch.message_id,
        "customer_id": receipt.customer_id,
        "source_kind": touch.source_kind,
        "source_id": touch.source_id,
        "channel": touch.channel,
        "touched_at": touch.touched_at,
        "purchased_at": receipt.purchased_at,
        "amount": receipt.total,
        "credited": credited,
    }


attribution_service = AttributionService()
