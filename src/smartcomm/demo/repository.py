"""SQL of the demo loader's reference data: stores, categories, products, mailing categories; the
recipients of the sample messages a new installation starts with; and what the history of communication
reads (audiences, baskets) and dates back (see `demo.communications`).

Rows that already exist (matched by code or SKU) are reused, so the catalogue of a base that was
set up by hand before the demo load stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from smartcomm.demo.places import ONLINE_STORE_CODE
from smartcomm.models import (
    Category,
    Classifier,
    Container,
    Customer,
    EventSource,
    Mailing,
    MailingCategory,
    Message,
    MessageEvent,
    Poll,
    PollInvitation,
    Product,
    PromoCode,
    PushToken,
    Receipt,
    ReceiptLine,
    Store,
    Subscription,
    UnsubscribeRecord,
)
from smartcomm.models.catalog import SYSTEM_CLASSIFIER_CODE
from smartcomm.models.events import SYSTEM_SOURCE_CODE


class DemoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def customer_count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Customer)) or 0)

    def latest_online_orders(self, contact: Literal["email", "phone"], limit: int) -> list[tuple[int, str]]:
        """The newest paid orders of the online store that are still their customer's latest receipt, of
        customers with an e-mail (or a phone) on file: (customer id, receipt number), newest first.

        Latest by the order the render context reads receipts in, so `receipts[0]` of a template is the
        order named. Whether the contact may be written to is the policy gate's to judge.
        """
        newest_first = (Receipt.purchased_at.desc(), Receipt.id.desc())
        rank = func.row_number().over(partition_by=Receipt.customer_id, order_by=newest_first)
        ranked = select(
            Receipt.id,
            Receipt.customer_id,
            Receipt.number,
            Receipt.purchased_at,
            Receipt.status,
            Receipt.store_id,
            rank.label("rank"),
        ).subquery()
        address = Customer.email if contact == "email" else Customer.phone
        statement = (
            select(ranked.c.customer_id, ranked.c.number)
            .join(Store, Store.id == ranked.c.store_id)
            .join(Customer, Customer.id == ranked.c.customer_id)
            .where(ranked.c.rank == 1, ranked.c.status == "paid", Store.code == ONLINE_STORE_CODE)
            .where(address.is_not(None))
            .order_by(ranked.c.purchased_at.desc(), ranked.c.id.desc())
            .limit(limit)
        )
        return [(int(customer_id), str(number)) for customer_id, number in self.session.execute(statement)]

    # --- the history of communication ----------------------------------------------------------------

    def mailing_names(self, names: Sequence[str]) -> set[str]:
        """Which of these mailing names are taken."""
        return set(self.session.scalars(select(Mailing.name).where(Mailing.name.in_(list(names)))))

    def audience_candidates(
        self,
        contact: str,
        category_id: int,
        at: datetime,
        recent_days: int | None = None,
        lapsed_days: int | None = None,
        min_receipts: int = 1,
    ) -> list[int]:
        """Customers (ids in order) with a usable contact of the channel who are subscribed to the category
        on it, and — as of `at` — bought `min_receipts` times within `recent_days`, or bought before but
        not within `lapsed_days`."""
        subscribed = exists().where(
            Subscription.customer_id == Customer.id,
            Subscription.category_id == category_id,
            Subscription.channel == contact,
            Subscription.subscribed.is_(True),
        )
        statement = select(Customer.id).where(_usable_contact(contact), subscribed).order_by(Customer.id)
        if recent_days is not None:
            recent = _purchases(at - timedelta(days=recent_days), at)
            statement = statement.where(recent.scalar_subquery() >= min_receipts)
        if lapsed_days is not None:
            since = at - timedelta(days=lapsed_days)
            statement = statement.where(
                _purchases(None, since).scalar_subquery() > 0, _purchases(since, at).scalar_subquery() == 0
            )
        return [int(id_) for id_ in self.session.scalars(statement)]

    def planned_messages(self, mailing_id: int, legs: bool) -> list[int]:
        """The mailing's messages due to be handed over, in id order: the first messages, or the SMS legs
        of its cascade (not those still waiting for their Viber message)."""
        leg = Message.cascade_of.is_not(None) if legs else Message.cascade_of.is_(None)
        due = or_(Message.reason.is_(None), Message.reason != "cascade_wait")
        statement = (
            select(Message.id)
            .where(Message.source_kind == "mailing", Message.source_id == mailing_id)
            .where(Message.status == "planned", leg, due)
            .order_by(Message.id)
        )
        return [int(id_) for id_ in self.session.scalars(statement)]

    def take_over(self, message_ids: Sequence[int], owner: str, at: datetime) -> None:
        """Messages of the history at the dispatcher's point of no return (`LedgerRepository.claim`, then
        `mark_queued`): queued for `owner`, handed over at `at`. One statement per chunk: the dispatcher's
        own claim takes whatever is due now, of any source."""
        for start in range(0, len(message_ids), 900):
            part = list(message_ids[start : start + 900])
            self.session.execute(
                update(Message)
                .where(Message.id.in_(part), Message.status == "planned")
                .values(status="queued", owner=owner, claimed_at=at, handed_over_at=at, attempts=1)
                .execution_options(synchronize_session=False)
            )

    def cascade_legs_of(self, viber_ids: Sequence[int]) -> dict[int, int]:
        """SMS leg id -> its Viber message's id."""
        found: dict[int, int] = {}
        for start in range(0, len(viber_ids), 900):
            part = list(viber_ids[start : start + 900])
            statement = select(Message.id, Message.cascade_of).where(Message.cascade_of.in_(part))
            found.update({int(leg): int(viber or 0) for leg, viber in self.session.execute(statement)})
        return found

    def date_events(self, rows: Sequence[tuple[int, str, datetime]]) -> None:
        """Give the events of a kind of each message the moment it happened (message id, kind, moment)."""
        if not rows:
            return
        events: Any = MessageEvent.__table__
        statement = (
            update(events)
            .where(events.c.message_id == bindparam("m_id"), events.c.kind == bindparam("m_kind"))
            .values(occurred_at=bindparam("m_at"))
        )
        self.session.execute(statement, [{"m_id": id_, "m_kind": kind, "m_at": at} for id_, kind, at in rows])

    def date_unsubscribes(self, rows: Sequence[tuple[int, datetime]]) -> None:
        """Give the opt-outs made through each message the moment they happened (message id, moment)."""
        if not rows:
            return
        records: Any = UnsubscribeRecord.__table__
        statement = (
            update(records)
            .where(records.c.message_id == bindparam("m_id"))
            .values(created_at=bindparam("m_at"))
        )
        self.session.execute(statement, [{"m_id": id_, "m_at": at} for id_, at in rows])

    def baskets(self, since: datetime, limit: int) -> list[list[tuple[str, Decimal, Decimal, Decimal]]]:
        """The lines (sku, quantity, price, discount) of up to `limit` paid receipts purchased since a
        moment, each receipt's lines in order: baskets real customers bought."""
        receipts = (
            select(Receipt.id)
            .where(Receipt.purchased_at >= since, Receipt.status == "paid", Receipt.item_count > 0)
            .order_by(Receipt.id)
            .limit(limit)
            .subquery()
        )
        statement = (
            select(ReceiptLine.receipt_id, ReceiptLine.sku, ReceiptLine.quantity, ReceiptLine.price)
            .add_columns(ReceiptLine.discount)
            .where(ReceiptLine.receipt_id.in_(select(receipts.c.id)))
            .order_by(ReceiptLine.receipt_id, ReceiptLine.position)
        )
        found: dict[int, list[tuple[str, Decimal, Decimal, Decimal]]] = {}
        for receipt_id, sku, quantity, price, discount in self.session.execute(statement):
            found.setdefault(int(receipt_id), []).append((str(sku), quantity, price, discount))
        return list(found.values())

    def shoppers(self, customer_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """Customer id -> (external id, code of the store of their latest paid receipt)."""
        found: dict[int, tuple[str, str | None]] = {}
        newest = func.row_number().over(
            partition_by=Receipt.customer_id, order_by=(Receipt.purchased_at.desc(), Receipt.id.desc())
        )
        for start in range(0, len(customer_ids), 900):
            part = list(customer_ids[start : start + 900])
            ranked = (
                select(Receipt.customer_id, Store.code, newest.label("rank"))
                .join(Store, Store.id == Receipt.store_id)
                .where(Receipt.customer_id.in_(part), Receipt.status == "paid")
                .subquery()
            )
            latest = select(ranked.c.customer_id, ranked.c.code).where(ranked.c.rank == 1)
            stores = {int(id_): str(code) for id_, code in self.session.execute(latest)}
            for id_, external_id in self.session.execute(
                select(Customer.id, Customer.external_id).where(Customer.id.in_(part))
            ):
                found[int(id_)] = (str(external_id), stores.get(id_))
        return found

    # --- the promo codes and the poll of the history -------------------------------------------------

    def handed_messages(self, mailing_name: str) -> list[Message]:
        """The messages of the named mailing that were handed over (not the SMS legs of a cascade), in id
        order."""
        mailing_id = select(Mailing.id).where(Mailing.name == mailing_name).scalar_subquery()
        statement = (
            select(Message)
            .where(Message.source_kind == "mailing", Message.source_id == mailing_id)
            .where(Message.cascade_of.is_(None), Message.handed_over_at.is_not(None))
            .order_by(Message.id)
        )
        return list(self.session.scalars(statement))

    def birth_dates(self) -> list[tuple[int, date]]:
        """(customer id, birth date) of every customer whose birth date is known, in id order."""
        statement = (
            select(Customer.id, Customer.birth_date)
            .where(Customer.birth_date.is_not(None))
            .order_by(Customer.id)
        )
        return [(int(id_), born) for id_, born in self.session.execute(statement) if born is not None]

    def date_codes(self, group_id: int, at: datetime) -> None:
        """The group's codes were added at `at` (the service stamps the present moment)."""
        self.session.execute(
            update(PromoCode)
            .where(PromoCode.group_id == group_id)
            .values(added_at=at)
            .execution_options(synchronize_session=False)
        )

    def poll_named(self, name: str) -> Poll | None:
        return self.session.scalars(select(Poll).where(Poll.name == name).order_by(Poll.id)).first()

    def date_invitations(self, rows: Sequence[tuple[int, datetime]]) -> None:
        """Give the poll invitations of each message the moment the message went (message id, moment)."""
        if not rows:
            return
        invitations: Any = PollInvitation.__table__
        statement = (
            update(invitations)
            .where(invitations.c.message_id == bindparam("m_id"))
            .values(invited_at=bindparam("m_at"))
        )
        self.session.execute(statement, [{"m_id": id_, "m_at": at} for id_, at in rows])

    def system_classifier_id(self) -> int:
        return int(
            self.session.scalars(select(Classifier.id).where(Classifier.code == SYSTEM_CLASSIFIER_CODE)).one()
        )

    def system_source_id(self) -> int:
        return int(
            self.session.scalars(select(EventSource.id).where(EventSource.code == SYSTEM_SOURCE_CODE)).one()
        )

    def container_ids(self) -> dict[str, int]:
        return {
            str(code): int(id_) for code, id_ in self.session.execute(select(Container.code, Container.id))
        }

    def ensure_mailing_categories(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        return self._ensure(MailingCategory, MailingCategory.code, rows)

    def ensure_stores(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        return self._ensure(Store, Store.code, rows)

    def ensure_containers(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        return self._ensure(Container, Container.code, rows)

    def ensure_categories(
        self,
        classifier_id: int,
        rows: Sequence[dict[str, Any]],
        parent: tuple[int, str] | None,
        now: datetime,
    ) -> dict[str, tuple[int, str]]:
        """Categories by code under one parent (or at the top): code -> (id, subtree path)."""
        scoped = [
            row
            | {"classifier_id": classifier_id, "parent_id": parent[0] if parent else None, "updated_at": now}
            for row in rows
        ]
        ids = self._ensure(Category, Category.code, scoped, Category.classifier_id == classifier_id)
        prefix = parent[1] if parent else "/"
        paths = {code: f"{prefix}{id_}/" for code, id_ in ids.items()}
        for code, path in paths.items():
            self.session.execute(
                update(Category).where(Category.id == ids[code], Category.path == "/").values(path=path)
            )
        return {code: (ids[code], paths[code]) for code in ids}

    def ensure_products(
        self, classifier_id: int, rows: Sequence[dict[str, Any]]
    ) -> dict[str, tuple[int, int | None]]:
        """Products by SKU: sku -> (id, category id); `price` in the rows is in minor units."""
        for row in rows:
            row["price"] = Decimal(row["price"]).scaleb(-2)
        scoped = [row | {"classifier_id": classifier_id} for row in rows]
        self._ensure(Product, Product.sku, scoped, Product.classifier_id == classifier_id)
        statement = select(Product.sku, Product.id, Product.category_id).where(
            Product.classifier_id == classifier_id
        )
        return {sku: (id_, category) for sku, id_, category in self.session.execute(statement)}

    def _ensure(self, model: Any, key: Any, rows: Sequence[dict[str, Any]], *scope: Any) -> dict[str, int]:
        codes = [row[key.key] for row in rows]
        existing = self._ids(model, key, codes, *scope)
        missing = [row for row in rows if row[key.key] not in existing]
        if missing:
            self.session.execute(insert(model), missing)
            existing = self._ids(model, key, codes, *scope)
        return existing

    def _ids(self, model: Any, key: Any, codes: Sequence[str], *scope: Any) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(codes), 1000):
            statement = select(key, model.id).where(key.in_(codes[start : start + 1000]), *scope)
            found.update({str(code): int(id_) for code, id_ in self.session.execute(statement)})
        return found


def _usable_contact(contact: str) -> Any:
    """A contact the channel can use: a valid e-mail address, a valid mobile number, a valid push token
    — and the channel allowed."""
    if contact == "email":
        return and_(
            Customer.email.is_not(None), Customer.email_valid.is_(True), Customer.allow_email.is_(True)
        )
    if contact == "push":
        token = exists().where(PushToken.customer_id == Customer.id, PushToken.is_valid.is_(True))
        return and_(token, Customer.allow_push.is_(True))
    return and_(
        Customer.phone.is_not(None),
        Customer.phone_valid.is_(True),
        Customer.phone_type == "mobile",
        Customer.allow_sms.is_(True),
    )


def _purchases(start: datetime | None, end: datetime) -> Any:
    """The customer's paid receipts purchased in [start, end) (from the beginning when `start` is None)."""
    statement = select(func.count()).where(
        Receipt.customer_id == Customer.id, Receipt.status == "paid", Receipt.purchased_at < end
    )
    return statement if start is None else statement.where(Receipt.purchased_at >= start)
