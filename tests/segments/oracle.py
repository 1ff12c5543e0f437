"""A plain-Python reading of `docs/segments.md`: which customers a segment rule tree selects.

The oracle loads the facts of a small data set with simple queries and evaluates every metric and
operator the way the document describes them, without looking at how the SQL is built, so that the
compiled statement can be checked against it customer by customer.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import (
    AudienceMember,
    BonusExpiration,
    Category,
    Container,
    ContainerItem,
    ContainerState,
    Customer,
    CustomerRfm,
    Event,
    EventSource,
    FieldDefinition,
    Journey,
    LoyaltyAccount,
    MailingCategory,
    MailingControlMember,
    Message,
    Order,
    OrderLine,
    OrderStatus,
    Poll,
    PollAnswer,
    PollResponse,
    Product,
    PromoCode,
    PromoCodeGroup,
    PushToken,
    Receipt,
    ReceiptLine,
    SegmentMembership,
    Store,
    Subscription,
    WebEvent,
    WebSession,
)
from smartcomm.segments.rules import Condition, Group, SegmentRules

# Value types of the document's table "Values and operators", with their operators.
TEXT, NUMBER, DATE, DATETIME, YESNO, CHOICE = "text", "number", "date", "datetime", "yesno", "choice"
OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "ne", "contains", "not_contains", "starts_with", "in", "not_in", "empty", "not_empty"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "between", "empty", "not_empty"),
    DATE: ("on", "before", "after", "between", "in_last", "not_in_last", "empty", "not_empty"),
    DATETIME: ("on", "before", "after", "between", "in_last", "not_in_last", "empty", "not_empty"),
    YESNO: ("is_true", "is_false"),
    CHOICE: ("in", "not_in", "empty", "not_empty"),
}
VALUELESS = {"empty", "not_empty", "is_true", "is_false"}
# How a condition's value is read: the number kinds differ only in how the value is parsed.
INTEGER, MONEY = "integer", "money"
CUSTOM_KINDS = {
    "string": TEXT,
    "integer": NUMBER,
    "decimal": NUMBER,
    "boolean": YESNO,
    "date": DATE,
    "datetime": DATETIME,
}
PROFILE_TEXT = (
    "external_id",
    "last_name",
    "first_name",
    "middle_name",
    "country",
    "region",
    "city",
    "time_zone",
    "card_number",
    "card_status",
)
CHANNELS = ("email", "sms", "viber", "push")
CENT = Decimal("0.01")


# ---------------------------------------------------------------- facts


@dataclass
class PaidReceipt:
    id: int
    customer_id: int
    store_id: int
    at: datetime
    total: Decimal


@dataclass
class Line:
    receipt_id: int
    at: datetime
    product_id: int | None
    category_id: int | None
    amount: Decimal


@dataclass
class SentMessage:
    source_kind: str
    source_id: int | None
    channel: str
    status: str
    handed_over_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    opens: int
    clicks: int


@dataclass
class JourneyFact:
    customer_id: int
    campaign_id: int
    status: str
    entered_at: datetime


@dataclass
class PlacedOrder:
    """An order with its status codes, whether its statuses let it count in analytics, and its lines."""

    id: int
    at: datetime
    total: Decimal
    codes: dict[str, str | None]
    counted: bool
    lines: list[tuple[str, int | None, int | None]]  # sku, product, category


@dataclass
class Facts:
    """Everything a segment can look at, read with one simple query per table."""

    customers: dict[int, Customer]
    custom_types: dict[str, str]
    valid_push: set[int]
    subscriptions: dict[tuple[int, int, str], bool]
    mailing_categories: dict[str, int]
    receipts: dict[int, list[PaidReceipt]]
    lines: dict[int, list[Line]]
    category_paths: dict[int, str]
    product_skus: dict[str, set[int]]
    product_categories: dict[int, int | None]
    events: dict[int, list[Event]]
    web_events: dict[int, list[WebEvent]]
    web_sessions: dict[int, list[WebSession]]
    sources: dict[str, int]
    stores: dict[str, int]
    containers: dict[str, int]
    container_items: dict[tuple[int, int], set[int]]
    container_changes: dict[tuple[int, int], datetime]
    audiences: dict[int, set[int]]
    segments: dict[int, set[int]]
    rfm: dict[int, tuple[int, int, int]]
    messages: dict[int, list[SentMessage]] = field(default_factory=dict)
    control_members: dict[int, set[int]] = field(default_factory=dict)
    promo_codes: dict[int, list[PromoCode]] = field(default_factory=dict)
    group_codes: dict[str, int] = field(default_factory=dict)
    poll_codes: dict[str, int] = field(default_factory=dict)
    poll_responses: dict[int, list[PollResponse]] = field(default_factory=dict)
    poll_answers: dict[int, list[PollAnswer]] = field(default_factory=dict)
    orders: dict[int, list[PlacedOrder]] = field(default_factory=dict)
    loyalty_accounts: dict[int, LoyaltyAccount] = field(default_factory=dict)
    bonus_portions: dict[int, list[BonusExpiration]] = field(default_factory=dict)
    journeys: dict[int, list[JourneyFact]] = field(default_factory=dict)


def load_facts(session: Session) -> Facts:
    """Read the data set; only paid receipts (and their lines) are kept, as only they count."""
    session.flush()
    customers = {c.id: c for c in session.scalars(select(Customer))}
    paid = _paid_receipts(session)
    return Facts(
        customers=customers,
        custom_types={
            f.code: f.type
            for f in session.scalars(
                select(FieldDefinition).where(
                    FieldDefinition.object == "customer", ~FieldDefinition.is_system
                )
            )
        },
        valid_push={t.customer_id for t in session.scalars(select(PushToken)) if t.is_valid},
        subscriptions={
            (s.customer_id, s.category_id, s.channel): s.subscribed
            for s in session.scalars(select(Subscription))
        },
        mailing_categories={c.code: c.id for c in session.scalars(select(MailingCategory))},
        receipts=_by_customer(paid.values(), lambda r: r.customer_id),
        lines=_paid_lines(session, paid),
        category_paths={c.id: c.path for c in session.scalars(select(Category))},
        product_skus=_skus(session),
        product_categories={p.id: p.category_id for p in session.scalars(select(Product))},
        events=_by_customer(session.scalars(select(Event)), lambda e: e.customer_id),
        web_events=_by_customer(session.scalars(select(WebEvent)), lambda e: e.customer_id),
        web_sessions=_by_customer(session.scalars(select(WebSession)), lambda s: s.customer_id),
        sources={s.code: s.id for s in session.scalars(select(EventSource))},
        stores={s.code: s.id for s in session.scalars(select(Store))},
        containers={c.code: c.id for c in session.scalars(select(Container))},
        container_items=_container_items(session),
        container_changes={
            (s.customer_id, s.container_id): s.changed_at for s in session.scalars(select(ContainerState))
        },
        audiences=_members(session.execute(select(AudienceMember.audience_id, AudienceMember.customer_id))),
        segments=_members(
            session.execute(
                select(SegmentMembership.segment_id, SegmentMembership.customer_id).where(
                    SegmentMembership.exited_at.is_(None)
                )
            )
        ),
        rfm={r.customer_id: (r.r, r.f, r.m) for r in session.scalars(select(CustomerRfm))},
        messages=_messages(session),
        control_members=_members(
            session.execute(select(MailingControlMember.mailing_id, MailingControlMember.customer_id))
        ),
        promo_codes=_by_customer(session.scalars(select(PromoCode)), lambda c: c.customer_id),
        group_codes={g.code: g.id for g in session.scalars(select(PromoCodeGroup))},
        poll_codes={str(p.code): p.id for p in session.scalars(select(Poll))},
        poll_responses=_by_customer(session.scalars(select(PollResponse)), lambda r: r.customer_id),
        poll_answers=_by_customer(session.scalars(select(PollAnswer)), lambda a: a.customer_id),
        orders=_orders(session),
        loyalty_accounts={a.customer_id: a for a in session.scalars(select(LoyaltyAccount))},
        bonus_portions=_by_customer(session.scalars(select(BonusExpiration)), lambda b: b.customer_id),
        journeys=_by_customer(
            (
                JourneyFact(j.customer_id, j.campaign_id, j.status, j.entered_at)
                for j in session.scalars(select(Journey))
            ),
            lambda j: j.customer_id,
        ),
    )


def _messages(session: Session) -> dict[int, list[SentMessage]]:
    """The ledger's rows by customer, their times read back from the database (UTC)."""
    names = list(SentMessage.__dataclass_fields__)
    statement = select(Message.customer_id, *(getattr(Message, name) for name in names))
    messages: dict[int, list[SentMessage]] = defaultdict(list)
    for customer_id, *values in session.execute(statement):
        if customer_id is not None:
            messages[customer_id].append(SentMessage(**dict(zip(names, values, strict=True))))
    return messages


def _paid_receipts(session: Session) -> dict[int, PaidReceipt]:
    statement = select(Receipt).where(Receipt.status == "paid")
    return {
        r.id: PaidReceipt(r.id, r.customer_id, r.store_id, r.purchased_at, r.total)
        for r in session.scalars(statement)
    }


def _paid_lines(session: Session, paid: dict[int, PaidReceipt]) -> dict[int, list[Line]]:
    """Lines of paid receipts, dated by their receipt."""
    lines: dict[int, list[Line]] = defaultdict(list)
    for line in session.scalars(select(ReceiptLine)):
        receipt = paid.get(line.receipt_id)
        if receipt is not None:
            lines[receipt.customer_id].append(
                Line(receipt.id, receipt.at, line.product_id, line.category_id, line.amount)
            )
    return lines


def _orders(session: Session) -> dict[int, list[PlacedOrder]]:
    """Orders by customer; an order counts in analytics unless one of its statuses is excluded."""
    statuses = {s.id: s for s in session.scalars(select(OrderStatus))}
    lines: dict[int, list[tuple[str, int | None, int | None]]] = defaultdict(list)
    for line in session.scalars(select(OrderLine).order_by(OrderLine.id)):
        lines[line.order_id].append((line.sku, line.product_id, line.category_id))
    orders: dict[int, list[PlacedOrder]] = defaultdict(list)
    for order in session.scalars(select(Order)):
        ids = {d: getattr(order, f"{d}_status_id") for d in ("general", "delivery", "payment")}
        codes = {d: statuses[i].code if i is not None else None for d, i in ids.items()}
        counted = all(statuses[i].include_in_analytics for i in ids.values() if i is not None)
        placed = PlacedOrder(order.id, order.created_at, order.total, codes, counted, lines[order.id])
        orders[order.customer_id].append(placed)
    return orders


def _by_customer(rows: Iterable[Any], customer_of: Callable[[Any], int | None]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        customer_id = customer_of(row)
        if customer_id is not None:
            grouped[customer_id].append(row)
    return grouped


def _skus(session: Session) -> dict[str, set[int]]:
    skus: dict[str, set[int]] = defaultdict(set)
    for product in session.scalars(select(Product)):
        skus[product.sku].add(product.id)
    return skus


def _container_items(session: Session) -> dict[tuple[int, int], set[int]]:
    items: dict[tuple[int, int], set[int]] = defaultdict(set)
    for item in session.scalars(select(ContainerItem)):
        items[(item.customer_id, item.container_id)].add(item.product_id)
    return items


def _members(rows: Iterable[Any]) -> dict[int, set[int]]:
    members: dict[int, set[int]] = defaultdict(set)
    for group_id, customer_id in rows:
        members[group_id].add(customer_id)
    return members


# ---------------------------------------------------------------- the oracle


@dataclass(frozen=True)
class MetricDef:
    kind: str  # TEXT | NUMBER | DATE | DATETIME | YESNO | CHOICE
    value: Callable[[Oracle, int, dict[str, Any]], Any]
    parse: str = ""  # INTEGER | MONEY | "" (how a number condition reads its value)


class Oracle:
    """Evaluates rule trees over loaded facts at `now` in the project time zone `zone`."""

    def __init__(self, facts: Facts, now: datetime, zone: str) -> None:
        self.facts = facts
        self.now = now
        self.zone = ZoneInfo(zone)
        self.today = now.astimezone(self.zone).date()

    @classmethod
    def load(cls, session: Session, now: datetime, zone: str) -> Oracle:
        return cls(load_facts(session), now, zone)

    # ---- trees

    def matching(self, rules: SegmentRules) -> set[int]:
        """The ids of the customers the rule tree selects."""
        return self._group(rules.root)

    def _group(self, group: Group) -> set[int]:
        everyone = set(self.facts.customers)
        parts = [self._group(c) if isinstance(c, Group) else self.condition(c) for c in group.children]
        if not parts:
            selected = everyone
        elif group.op == "and":
            selected = set.intersection(*parts)
        else:
            selected = set.union(*parts)
        return everyone - selected if group.negate else selected

    def condition(self, condition: Condition) -> set[int]:
        """The customers one condition selects (its own `negate` applied)."""
        selected = {cid for cid in self.facts.customers if self.holds(condition, cid)}
        return set(self.facts.customers) - selected if condition.negate else selected

    def holds(self, condition: Condition, customer_id: int) -> bool:
        """Whether the un-negated condition is true for the customer (unknown counts as no)."""
        metric = self.metric(condition.metric)
        actual = metric.value(self, customer_id, condition.params)
        return self.compare(metric, condition.operator, condition.value, actual)

    def value(self, key: str, params: dict[str, Any], customer_id: int) -> Any:
        """The metric's value for one customer (None when unknown)."""
        return self.metric(key).value(self, customer_id, params)

    def metric(self, key: str) -> MetricDef:
        return metric_definition(key, self.facts.custom_types)

    # ---- operators

    def compare(self, metric: MetricDef, operator: str, raw: Any, actual: Any) -> bool:
        assert operator in OPERATORS[metric.kind], (operator, metric.kind)
        if metric.kind in (DATE, DATETIME) and actual is not None:
            actual = self.day_of(actual) if metric.kind == DATETIME else actual
        if operator == "empty":
            return actual is None or actual == ""
        if operator == "not_empty":
            return actual is not None and actual != ""
        if operator in ("is_true", "is_false"):
            return (actual is True) == (operator == "is_true")
        if metric.kind == TEXT:
            return _text(operator, raw, actual)
        if metric.kind == CHOICE:
            return actual is not None and (actual in raw) == (operator == "in")
        if metric.kind == NUMBER:
            return _ordered(operator, _parse_numbers(metric.parse, raw), actual)
        return self._dated(operator, raw, actual)

    def _dated(self, operator: str, raw: Any, actual: date | None) -> bool:
        if operator in ("in_last", "not_in_last"):
            n, unit = (raw["n"], raw.get("unit", "days")) if isinstance(raw, dict) else (raw, "days")
            if actual is None:
                return False
            inside = self.window_start(int(n), unit) <= actual <= self.today
            return inside if operator == "in_last" else not inside
        if actual is None:
            return False
        if operator == "between":
            low, high = sorted(_day(v) for v in raw)
            return low <= actual <= high
        day = _day(raw)
        return {"on": actual == day, "before": actual < day, "after": actual > day}[operator]

    # ---- time

    def day_of(self, moment: datetime) -> date:
        """The calendar day of a stored (UTC) time in the project time zone."""
        return moment.astimezone(self.zone).date()

    def days_since(self, moment: datetime | None) -> int | None:
        return None if moment is None else (self.today - self.day_of(moment)).days

    def window_start(self, n: int, unit: str) -> date:
        """First day of "the last N days/months" ending today."""
        if unit == "months":
            return months_before(self.today, n) + timedelta(days=1)
        return self.today - timedelta(days=n - 1)

    def in_period(self, moment: datetime, raw: Any) -> bool:
        """Whether a time falls in the condition's period (calendar days in the project time zone)."""
        if raw is None or raw.get("kind", "all") == "all":
            return True
        day = self.day_of(moment)
        if raw["kind"] == "between":
            return date.fromisoformat(str(raw["start"])) <= day <= date.fromisoformat(str(raw["end"]))
        return self.window_start(int(raw["n"]), raw.get("unit", "days")) <= day <= self.today

    # ---- lookups of parameters

    def subtree(self, category_id: Any) -> set[int]:
        """The category and all its subcategories."""
        path = self.facts.category_paths.get(int(category_id))
        if path is None:
            return set()
        return {cid for cid, other in self.facts.category_paths.items() if other.startswith(path)}

    def products(self, reference: Any) -> set[int]:
        """Products named by id or SKU."""
        if isinstance(reference, int) or str(reference).isdigit():
            return {int(reference)} & set(self.facts.product_categories)
        return set(self.facts.product_skus.get(str(reference), set()))

    def by_code(self, table: dict[str, int], reference: Any) -> int | None:
        """An id given as an id or as a code."""
        if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
            return int(reference)
        return table.get(str(reference))


def metric_definition(key: str, custom_types: dict[str, str]) -> MetricDef:
    """The document's definition of a metric key (custom fields by their type)."""
    if key.startswith("custom."):
        code = key.removeprefix("custom.")
        return _custom_metric(code, custom_types[code])
    return METRICS[key]


# ---------------------------------------------------------------- comparisons


def _text(operator: str, raw: Any, actual: str | None) -> bool:
    if operator == "not_contains":
        return actual is None or str(raw).lower() not in actual.lower()
    if actual is None:
        return False
    value = actual.lower()
    if operator in ("in", "not_in"):
        return (value in [str(item).lower() for item in raw]) == (operator == "in")
    wanted = str(raw).lower()
    return {
        "eq": value == wanted,
        "ne": value != wanted,
        "contains": wanted in value,
        "starts_with": value.startswith(wanted),
    }[operator]


def _ordered(operator: str, value: Any, actual: Any) -> bool:
    if actual is None:
        return False
    if operator == "between":
        low, high = sorted(value)
        return bool(low <= actual <= high)
    return bool(
        {
            "eq": actual == value,
            "ne": actual != value,
            "gt": actual > value,
            "gte": actual >= value,
            "lt": actual < value,
            "lte": actual <= value,
        }[operator]
    )


def _parse_numbers(parse: str, raw: Any) -> Any:
    if isinstance(raw, list):
        return [_parse_number(parse, item) for item in raw]
    return _parse_number(parse, raw)


def _parse_number(parse: str, raw: Any) -> Decimal:
    if parse == INTEGER:
        return Decimal(int(raw))
    return Decimal(str(raw).replace(",", "."))


def _day(raw: Any) -> date:
    return raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier; a day the month lacks becomes its last day."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def birthday_in(year: int, born: date) -> date:
    """The birthday in a given year; 29 February falls on 28 February in other years."""
    if born.month == 2 and born.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, born.month, born.day)


def context_text(value: Any) -> str | None:
    """A context value as text (JSON spelling for numbers and yes/no), for case-insensitive matching."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return value if isinstance(value, str) else json.dumps(value)


# ---------------------------------------------------------------- metrics


def _customer(oracle: Oracle, customer_id: int) -> Customer:
    return oracle.facts.customers[customer_id]


def _profile_text(name: str) -> MetricDef:
    return MetricDef(TEXT, lambda o, cid, p: getattr(_customer(o, cid), name))


def _age(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    born = _customer(oracle, customer_id).birth_date
    if born is None:
        return None
    today = oracle.today
    return Decimal(today.year - born.year - (birthday_in(today.year, born) > today))


def _days_to_birthday(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    born = _customer(oracle, customer_id).birth_date
    if born is None:
        return None
    today = oracle.today
    upcoming = birthday_in(today.year, born)
    if upcoming < today:
        upcoming = birthday_in(today.year + 1, born)
    return Decimal((upcoming - today).days)


def _number(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _custom_metric(code: str, field_type: str) -> MetricDef:
    def value(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Any:
        stored = (_customer(oracle, customer_id).custom or {}).get(code)
        if stored is None:
            return None
        if field_type in ("integer", "decimal"):
            return Decimal(str(stored))
        if field_type == "date":
            return date.fromisoformat(stored)
        if field_type == "datetime":
            parsed = datetime.fromisoformat(stored)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return stored

    return MetricDef(CUSTOM_KINDS[field_type], value)


def _flag(test: Callable[[Customer], bool]) -> MetricDef:
    return MetricDef(YESNO, lambda o, cid, p: bool(test(_customer(o, cid))))


def _subscribed(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
    category = oracle.by_code(oracle.facts.mailing_categories, params["category"])
    return oracle.facts.subscriptions.get((customer_id, category or -1, params["channel"])) is True


# -- purchases


def _receipts(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[PaidReceipt]:
    store = params.get("store")
    store_id = None if store in (None, "") else (oracle.by_code(oracle.facts.stores, store) or -1)
    return [
        r
        for r in oracle.facts.receipts.get(customer_id, [])
        if oracle.in_period(r.at, params.get("period")) and (store_id is None or r.store_id == store_id)
    ]


def _count(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    return Decimal(len(_receipts(oracle, customer_id, params)))


def _amount(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    return sum((r.total for r in _receipts(oracle, customer_id, params)), Decimal("0"))


def _average(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    receipts = _receipts(oracle, customer_id, params)
    if not receipts:
        return None
    total = sum((r.total for r in receipts), Decimal("0"))
    return (total / len(receipts)).quantize(CENT, rounding=ROUND_HALF_UP)


def _first(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> datetime | None:
    return min((r.at for r in _receipts(oracle, customer_id, params)), default=None)


def _last(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> datetime | None:
    return max((r.at for r in _receipts(oracle, customer_id, params)), default=None)


def _days_since_purchase(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    return _number(oracle.days_since(_last(oracle, customer_id, {})))


def _lines(
    oracle: Oracle, customer_id: int, params: dict[str, Any], wanted: Callable[[Line], bool]
) -> list[Line]:
    return [
        line
        for line in oracle.facts.lines.get(customer_id, [])
        if wanted(line) and oracle.in_period(line.at, params.get("period"))
    ]


def _product_lines(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[Line]:
    products = oracle.products(params["product"])
    return _lines(oracle, customer_id, params, lambda line: line.product_id in products)


def _category_lines(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[Line]:
    categories = oracle.subtree(params["category"])
    return _lines(oracle, customer_id, params, lambda line: line.category_id in categories)


def _receipts_with(lines_of: Callable[[Oracle, int, dict[str, Any]], list[Line]]) -> MetricDef:
    return MetricDef(
        NUMBER, lambda o, cid, p: Decimal(len({line.receipt_id for line in lines_of(o, cid, p)})), INTEGER
    )


def _line_amount(lines_of: Callable[[Oracle, int, dict[str, Any]], list[Line]]) -> MetricDef:
    return MetricDef(
        NUMBER, lambda o, cid, p: sum((ln.amount for ln in lines_of(o, cid, p)), Decimal("0")), MONEY
    )


# -- events and the site


def _context_filters(raw: Any) -> list[dict[str, Any]]:
    if raw in (None, "", []):
        return []
    return raw if isinstance(raw, list) else [raw]


def _context_matches(event: Event, filters: list[dict[str, Any]]) -> bool:
    for wanted in filters:
        have = context_text((event.context or {}).get(wanted["key"]))
        if have is None or have.lower() != str(wanted["value"]).lower():
            return False
    return True


def _events(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[Event]:
    filters = _context_filters(params.get("context"))
    return [
        e
        for e in oracle.facts.events.get(customer_id, [])
        if e.name == params["event"] and _context_matches(e, filters)
    ]


def _event_count(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    events = _events(oracle, customer_id, params)
    return Decimal(sum(1 for e in events if oracle.in_period(e.occurred_at, params.get("period"))))


def _event_days(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    return _number(
        oracle.days_since(max((e.occurred_at for e in _events(oracle, customer_id, params)), default=None))
    )


def _source_matches(oracle: Oracle, source_id: int | None, params: dict[str, Any]) -> bool:
    wanted = params.get("source")
    return wanted in (None, "") or source_id == oracle.by_code(oracle.facts.sources, wanted)


def _visits(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    sessions = oracle.facts.web_sessions.get(customer_id, [])
    return Decimal(
        sum(
            1
            for s in sessions
            if oracle.in_period(s.started_at, params.get("period"))
            and _source_matches(oracle, s.source_id, params)
        )
    )


def _web_count(kind: str, matches: Callable[[Oracle, WebEvent, dict[str, Any]], bool]) -> MetricDef:
    def count(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
        return Decimal(
            sum(
                1
                for e in oracle.facts.web_events.get(customer_id, [])
                if e.kind == kind
                and matches(oracle, e, params)
                and oracle.in_period(e.occurred_at, params.get("period"))
                and _source_matches(oracle, e.source_id, params)
            )
        )

    return MetricDef(NUMBER, count, INTEGER)


def _viewed_product(oracle: Oracle, event: WebEvent, params: dict[str, Any]) -> bool:
    wanted = params.get("product")
    return wanted in (None, "") or event.product_id in oracle.products(wanted)


def _viewed_category(oracle: Oracle, event: WebEvent, params: dict[str, Any]) -> bool:
    wanted = params.get("category")
    return wanted in (None, "") or event.category_id in oracle.subtree(wanted)


def _viewed_section(oracle: Oracle, event: WebEvent, params: dict[str, Any]) -> bool:
    wanted = params.get("section")
    return wanted in (None, "") or event.section == wanted


def _days_since_web(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    events = oracle.facts.web_events.get(customer_id, [])
    return _number(oracle.days_since(max((e.occurred_at for e in events), default=None)))


# -- containers


def _container_key(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> tuple[int, int]:
    return customer_id, oracle.by_code(oracle.facts.containers, params["container"]) or -1


def _items(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    return Decimal(len(oracle.facts.container_items.get(_container_key(oracle, customer_id, params), set())))


def _holds_product(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
    held = oracle.facts.container_items.get(_container_key(oracle, customer_id, params), set())
    return bool(held & oracle.products(params["product"]))


def _holds_category(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
    held = oracle.facts.container_items.get(_container_key(oracle, customer_id, params), set())
    categories = oracle.subtree(params["category"])
    return any(oracle.facts.product_categories.get(product) in categories for product in held)


def _days_since_change(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    return _number(
        oracle.days_since(oracle.facts.container_changes.get(_container_key(oracle, customer_id, params)))
    )


# -- memberships and RFM


def _rfm(letter: int) -> MetricDef:
    def score(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
        scores = oracle.facts.rfm.get(customer_id)
        return None if scores is None else Decimal(scores[letter])

    return MetricDef(NUMBER, score, INTEGER)


# -- communications (the send ledger)

RECEIVED = ("sent", "delivered", "opened", "clicked")
HANDED_OVER = ("queued", *RECEIVED)
SERVICE_SOURCES = ("test", "watcher", "confirmation")


def _of_mailing(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[SentMessage]:
    wanted = int(params["mailing"])
    return [
        m
        for m in oracle.facts.messages.get(customer_id, [])
        if m.source_kind == "mailing" and m.source_id == wanted
    ]


def _mailing_test(test: Callable[[SentMessage], bool]) -> MetricDef:
    return MetricDef(YESNO, lambda o, cid, p: any(test(m) for m in _of_mailing(o, cid, p)))


def _communications(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[SentMessage]:
    """Messages a provider holds or delivered, other than service messages, on the channel (any if none)."""
    channel = params.get("channel")
    return [
        m
        for m in oracle.facts.messages.get(customer_id, [])
        if m.handed_over_at is not None
        and m.status in HANDED_OVER
        and m.source_kind not in SERVICE_SOURCES
        and channel in (None, "", "any", m.channel)
    ]


def _communication_count(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    sent = _communications(oracle, customer_id, params)
    return Decimal(sum(1 for m in sent if oracle.in_period(m.handed_over_at, params.get("period"))))


def _days_since_communication(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    sent = _communications(oracle, customer_id, params)
    return _number(oracle.days_since(max((m.handed_over_at for m in sent), default=None)))


COMMUNICATIONS: dict[str, MetricDef] = {
    "communications.received": _mailing_test(lambda m: m.status in RECEIVED),
    "communications.opened": _mailing_test(lambda m: m.opened_at is not None and m.opens > 0),
    "communications.clicked": _mailing_test(lambda m: m.clicked_at is not None and m.clicks > 0),
    "communications.count": MetricDef(NUMBER, _communication_count, INTEGER),
    "communications.days_since_last": MetricDef(NUMBER, _days_since_communication, INTEGER),
    "communications.control_group": MetricDef(
        YESNO, lambda o, cid, p: cid in o.facts.control_members.get(int(p["mailing"]), set())
    ),
}


# -- campaigns (journeys and the campaigns' messages)


def _campaign_wanted(params: dict[str, Any]) -> int | None:
    value = params.get("campaign")
    return None if value in (None, "", "any") else int(value)


def _in_period_or_all(oracle: Oracle, moment: datetime | None, raw: Any) -> bool:
    """A moment in the period; without one, only a period of all time (or none) holds."""
    if raw is None or raw.get("kind", "all") == "all":
        return True
    return moment is not None and oracle.in_period(moment, raw)


def _campaign_message(test: Callable[[SentMessage], bool], moment: Callable[[SentMessage], Any]) -> MetricDef:
    def received(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
        wanted = _campaign_wanted(params)
        return any(
            m.source_kind == "campaign"
            and wanted in (None, m.source_id)
            and test(m)
            and _in_period_or_all(oracle, moment(m), params.get("period"))
            for m in oracle.facts.messages.get(customer_id, [])
        )

    return MetricDef(YESNO, received)


def _journeys(under_way: bool) -> MetricDef:
    def entered(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
        wanted = _campaign_wanted(params)
        return any(
            wanted in (None, j.campaign_id)
            and (j.status == "waiting" or not under_way)
            and _in_period_or_all(oracle, j.entered_at, params.get("period"))
            for j in oracle.facts.journeys.get(customer_id, [])
        )

    return MetricDef(YESNO, entered)


CAMPAIGNS: dict[str, MetricDef] = {
    "campaigns.received": _campaign_message(lambda m: m.status in RECEIVED, lambda m: m.handed_over_at),
    "campaigns.opened": _campaign_message(
        lambda m: m.opened_at is not None and m.opens > 0, lambda m: m.opened_at
    ),
    "campaigns.clicked": _campaign_message(
        lambda m: m.clicked_at is not None and m.clicks > 0, lambda m: m.clicked_at
    ),
    "campaigns.entered": _journeys(under_way=False),
    "campaigns.in_progress": _journeys(under_way=True),
}


# -- promo codes and polls


def _codes(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[PromoCode]:
    """The customer's codes of the group named (any group when none is)."""
    group = params.get("group")
    wanted = None if group in (None, "") else oracle.by_code(oracle.facts.group_codes, group)
    return [
        c
        for c in oracle.facts.promo_codes.get(customer_id, [])
        if group in (None, "") or c.group_id == wanted
    ]


def _issued(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[PromoCode]:
    return [
        c
        for c in _codes(oracle, customer_id, params)
        if c.issued_at is not None and oracle.in_period(c.issued_at, params.get("period"))
    ]


def _redeemed(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
    return any(
        c.status == "redeemed"
        and c.redeemed_at is not None
        and oracle.in_period(c.redeemed_at, params.get("period"))
        for c in _codes(oracle, customer_id, params)
    )


def _took(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
    poll = oracle.by_code(oracle.facts.poll_codes, params["poll"])
    return any(
        r.poll_id == poll and oracle.in_period(r.completed_at, params.get("period"))
        for r in oracle.facts.poll_responses.get(customer_id, [])
    )


def _chose(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
    poll = oracle.by_code(oracle.facts.poll_codes, params["poll"])
    raw = params["options"]
    options = {o.strip() for o in (raw if isinstance(raw, list) else raw.split(","))}
    return any(
        a.poll_id == poll
        and a.question_id == params["question"]
        and params.get("row") in (None, "", a.row_id)
        and a.option_id in options
        and oracle.in_period(a.answered_at, params.get("period"))
        for a in oracle.facts.poll_answers.get(customer_id, [])
    )


PROMO_POLLS: dict[str, MetricDef] = {
    "promocodes.issued_count": MetricDef(NUMBER, lambda o, cid, p: Decimal(len(_issued(o, cid, p))), INTEGER),
    "promocodes.issued_from_group": MetricDef(YESNO, lambda o, cid, p: bool(_issued(o, cid, p))),
    "promocodes.redeemed": MetricDef(YESNO, _redeemed),
    "polls.took": MetricDef(YESNO, _took),
    "polls.chose": MetricDef(YESNO, _chose),
}


# -- bonuses and points (the loyalty connector)


def _bonus_balance(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal | None:
    account = oracle.facts.loyalty_accounts.get(customer_id)
    return None if account is None else account.bonus_balance


def _expiring(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    """Bonuses expiring from today to `days` days ahead (0: today only), in the project time zone."""
    last = oracle.today + timedelta(days=int(str(params["days"]).strip()))
    portions = oracle.facts.bonus_portions.get(customer_id, [])
    return sum((p.amount for p in portions if oracle.today <= p.expires_on <= last), Decimal("0"))


def _points(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
    account = oracle.facts.loyalty_accounts.get(customer_id)
    return Decimal(account.points_balance if account else 0)


BONUSES: dict[str, MetricDef] = {
    "bonuses.balance": MetricDef(NUMBER, _bonus_balance, MONEY),
    "bonuses.expiring": MetricDef(NUMBER, _expiring, MONEY),
    "bonuses.points_balance": MetricDef(NUMBER, _points, INTEGER),
}


# -- orders


def _counted_orders(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> list[PlacedOrder]:
    return [
        o
        for o in oracle.facts.orders.get(customer_id, [])
        if o.counted and oracle.in_period(o.at, params.get("period"))
    ]


def _in_status(dimension: str) -> MetricDef:
    def holds(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> bool:
        raw = params["status"]
        codes = {str(c).strip() for c in (raw if isinstance(raw, list) else str(raw).split(","))}
        return any(
            o.codes[dimension] in codes and oracle.in_period(o.at, params.get("period"))
            for o in oracle.facts.orders.get(customer_id, [])
        )

    return MetricDef(YESNO, holds)


def _orders_with(
    matches: Callable[[Oracle, tuple[str, int | None, int | None], Any], bool], name: str
) -> MetricDef:
    def count(oracle: Oracle, customer_id: int, params: dict[str, Any]) -> Decimal:
        orders = _counted_orders(oracle, customer_id, params)
        return Decimal(sum(1 for o in orders if any(matches(oracle, ln, params[name]) for ln in o.lines)))

    return MetricDef(NUMBER, count, INTEGER)


def _ordered_product(oracle: Oracle, line: tuple[str, int | None, int | None], wanted: Any) -> bool:
    if isinstance(wanted, int) or str(wanted).isdigit():
        return line[1] == int(wanted)
    return line[0] == str(wanted)


def _ordered_category(oracle: Oracle, line: tuple[str, int | None, int | None], wanted: Any) -> bool:
    return line[2] in oracle.subtree(wanted)


def _order_times(oracle: Oracle, customer_id: int) -> list[datetime]:
    return [o.at for o in _counted_orders(oracle, customer_id, {})]


ORDERS: dict[str, MetricDef] = {
    "orders.count": MetricDef(NUMBER, lambda o, cid, p: Decimal(len(_counted_orders(o, cid, p))), INTEGER),
    "orders.amount": MetricDef(
        NUMBER, lambda o, cid, p: sum((x.total for x in _counted_orders(o, cid, p)), Decimal("0")), MONEY
    ),
    "orders.first_date": MetricDef(DATETIME, lambda o, cid, p: min(_order_times(o, cid), default=None)),
    "orders.last_date": MetricDef(DATETIME, lambda o, cid, p: max(_order_times(o, cid), default=None)),
    "orders.days_since_last": MetricDef(
        NUMBER, lambda o, cid, p: _number(o.days_since(max(_order_times(o, cid), default=None))), INTEGER
    ),
    "orders.general_status": _in_status("general"),
    "orders.delivery_status": _in_status("delivery"),
    "orders.payment_status": _in_status("payment"),
    "orders.product_count": _orders_with(_ordered_product, "product"),
    "orders.category_count": _orders_with(_ordered_category, "category"),
}


METRICS: dict[str, MetricDef] = {
    **{f"profile.{name}": _profile_text(name) for name in PROFILE_TEXT},
    "profile.gender": MetricDef(CHOICE, lambda o, cid, p: _customer(o, cid).gender),
    "profile.birth_date": MetricDef(DATE, lambda o, cid, p: _customer(o, cid).birth_date),
    "profile.registered_at": MetricDef(DATETIME, lambda o, cid, p: _customer(o, cid).registered_at),
    "profile.age": MetricDef(NUMBER, _age, INTEGER),
    "profile.days_to_birthday": MetricDef(NUMBER, _days_to_birthday, INTEGER),
    "profile.days_since_registration": MetricDef(
        NUMBER, lambda o, cid, p: _number(o.days_since(_customer(o, cid).registered_at)), INTEGER
    ),
    "contacts.has_email": _flag(lambda c: bool(c.email)),
    "contacts.email_valid": _flag(lambda c: bool(c.email) and c.email_valid),
    "contacts.has_phone": _flag(lambda c: bool(c.phone)),
    "contacts.phone_valid": _flag(lambda c: bool(c.phone) and c.phone_valid),
    "contacts.phone_mobile": _flag(lambda c: bool(c.phone) and c.phone_valid and c.phone_type == "mobile"),
    "contacts.has_push": MetricDef(YESNO, lambda o, cid, p: cid in o.facts.valid_push),
    "contacts.email": MetricDef(TEXT, lambda o, cid, p: _customer(o, cid).email),
    "contacts.phone": MetricDef(TEXT, lambda o, cid, p: _customer(o, cid).phone),
    **{f"consent.{ch}": _flag(lambda c, ch=ch: getattr(c, f"allow_{ch}")) for ch in CHANNELS},  # type: ignore[misc]
    "contacts.subscribed": MetricDef(YESNO, _subscribed),
    "purchases.count": MetricDef(NUMBER, _count, INTEGER),
    "purchases.amount": MetricDef(NUMBER, _amount, MONEY),
    "purchases.average": MetricDef(NUMBER, _average, MONEY),
    "purchases.first_date": MetricDef(DATETIME, _first),
    "purchases.last_date": MetricDef(DATETIME, _last),
    "purchases.days_since_last": MetricDef(NUMBER, _days_since_purchase, INTEGER),
    "purchases.product_count": _receipts_with(_product_lines),
    "purchases.product_amount": _line_amount(_product_lines),
    "purchases.category_count": _receipts_with(_category_lines),
    "purchases.category_amount": _line_amount(_category_lines),
    "events.count": MetricDef(NUMBER, _event_count, INTEGER),
    "events.days_since_last": MetricDef(NUMBER, _event_days, INTEGER),
    "web.visits": MetricDef(NUMBER, _visits, INTEGER),
    "web.product_views": _web_count("product_view", _viewed_product),
    "web.category_views": _web_count("category_view", _viewed_category),
    "web.section_views": _web_count("section_view", _viewed_section),
    "web.days_since_last_visit": MetricDef(NUMBER, _days_since_web, INTEGER),
    "containers.items": MetricDef(NUMBER, _items, INTEGER),
    "containers.has_product": MetricDef(YESNO, _holds_product),
    "containers.has_category": MetricDef(YESNO, _holds_category),
    "containers.days_since_change": MetricDef(NUMBER, _days_since_change, INTEGER),
    "audiences.member": MetricDef(
        YESNO, lambda o, cid, p: cid in o.facts.audiences.get(int(p["audience"]), set())
    ),
    "segments.member": MetricDef(
        YESNO, lambda o, cid, p: cid in o.facts.segments.get(int(p["segment"]), set())
    ),
    "rfm.r": _rfm(0),
    "rfm.f": _rfm(1),
    "rfm.m": _rfm(2),
    "rfm.scored": MetricDef(YESNO, lambda o, cid, p: cid in o.facts.rfm),
    **COMMUNICATIONS,
    **CAMPAIGNS,
    **PROMO_POLLS,
    **ORDERS,
    **BONUSES,
}
