"""SQL of segments, their builds and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Row, Select, delete, distinct, func, null, or_, select, type_coerce

from smartcomm.kit.models import Money
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import (
    Audience,
    Campaign,
    Category,
    Classifier,
    Container,
    Customer,
    Event,
    EventSource,
    FieldDefinition,
    Mailing,
    MailingCategory,
    Poll,
    Product,
    PromoCodeGroup,
    Segment,
    SegmentBuild,
    SegmentEvent,
    SegmentMembership,
    Store,
)
from smartcomm.segments.metrics.base import text_lower

# The columns of a segment export, in file order.
EXPORT_COLUMNS = (
    Customer.external_id,
    Customer.last_name,
    Customer.first_name,
    Customer.middle_name,
    Customer.email,
    Customer.phone,
    Customer.city,
    Customer.receipt_count,
    Customer.total_amount,
    Customer.last_purchase_at,
)
# Lookups of parameter values: the model, its value column, label column, hint column and searched columns.
LOOKUPS: dict[str, tuple[Any, Any, Any, Any, tuple[Any, ...]]] = {
    "product": (Product, Product.id, Product.name, Product.sku, (Product.name, Product.sku)),
    "store": (Store, Store.id, Store.name, Store.city, (Store.name, Store.code, Store.city)),
    "source": (
        EventSource,
        EventSource.id,
        EventSource.name,
        EventSource.code,
        (EventSource.name, EventSource.code),
    ),
    "container": (Container, Container.id, Container.name, Container.code, (Container.name, Container.code)),
    "mailing_category": (
        MailingCategory,
        MailingCategory.id,
        MailingCategory.name,
        MailingCategory.code,
        (MailingCategory.name, MailingCategory.code),
    ),
    "audience": (Audience, Audience.id, Audience.name, Audience.member_count, (Audience.name,)),
    "segment": (Segment, Segment.id, Segment.name, Segment.member_count, (Segment.name,)),
    "mailing": (Mailing, Mailing.id, Mailing.name, Mailing.channel, (Mailing.name,)),
    "campaign": (Campaign, Campaign.id, Campaign.name, null(), (Campaign.name,)),
    "promocode_group": (
        PromoCodeGroup,
        PromoCodeGroup.id,
        PromoCodeGroup.name,
        PromoCodeGroup.code,
        (PromoCodeGroup.name, PromoCodeGroup.code),
    ),
    "poll": (Poll, Poll.id, Poll.name, Poll.code, (Poll.name, Poll.code)),
}
# Kinds whose values may also be given by code instead of id.
CODE_COLUMNS: dict[str, Any] = {
    "store": Store.code,
    "source": EventSource.code,
    "container": Container.code,
    "mailing_category": MailingCategory.code,
    "product": Product.sku,
    "promocode_group": PromoCodeGroup.code,
    "poll": Poll.code,
}


def _amount_sum() -> Any:
    """Sum of customers' purchase amounts as exact money (0 when there is nobody)."""
    return type_coerce(func.coalesce(func.sum(Customer.total_amount), 0), Money)


class SegmentRepository(Repository[Segment]):
    model = Segment

    def delete(self, instance: Segment) -> None:
        """The segment with its stays and its event stream (rows without foreign keys to cascade)."""
        self.session.execute(delete(SegmentEvent).where(SegmentEvent.segment_id == instance.id))
        self.session.execute(delete(SegmentMembership).where(SegmentMembership.segment_id == instance.id))
        super().delete(instance)

    def search(self, params: PageParams, query: str = "") -> Page[Segment]:
        statement = select(Segment).order_by(Segment.name, Segment.id)
        if query:
            statement = statement.where(func.lower(Segment.name).contains(query.lower(), autoescape=True))
        return self.paginate(statement, params)

    def all(self) -> list[Segment]:
        return list(self.session.scalars(select(Segment).order_by(Segment.id)))

    def named(self, name: str, other_than: int | None = None) -> Segment | None:
        """A segment called `name` whatever the case and surrounding spaces (other than `other_than`)."""
        statement = select(Segment).where(text_lower(func.trim(Segment.name)) == name.strip().lower())
        if other_than is not None:
            statement = statement.where(Segment.id != other_than)
        return self.session.scalar(statement.limit(1))

    def definitions(self) -> list[tuple[int, dict[str, Any]]]:
        """Every segment's id and stored rules, by id (what a per-customer refresh compiles)."""
        statement = select(Segment.id, Segment.rules).order_by(Segment.id)
        return [(segment_id, rules) for segment_id, rules in self.session.execute(statement)]

    def lock(self, segment_id: int) -> Segment | None:
        """The segment row, locked for this transaction on PostgreSQL (SQLite already serialises writers)."""
        return self.session.scalar(select(Segment).where(Segment.id == segment_id).with_for_update())

    def builds(self, segment_id: int, limit: int = 20) -> list[SegmentBuild]:
        statement = (
            select(SegmentBuild)
            .where(SegmentBuild.segment_id == segment_id)
            .order_by(SegmentBuild.started_at.desc(), SegmentBuild.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(statement))

    def members(self, segment_id: int, params: PageParams) -> Page[Customer]:
        statement = (
            select(Customer)
            .join(SegmentMembership, SegmentMembership.customer_id == Customer.id)
            .where(SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None))
            .order_by(Customer.last_name, Customer.first_name, Customer.id)
        )
        return self.paginate(statement, params)

    def member_totals(self, segment_id: int) -> tuple[int, Decimal, int]:
        """Members, their purchase amount and their receipts."""
        statement = (
            select(func.count(), _amount_sum(), func.sum(Customer.receipt_count))
            .select_from(SegmentMembership)
            .join(Customer, Customer.id == SegmentMembership.customer_id)
            .where(SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None))
        )
        count, amount, receipts = self.session.execute(statement).one()
        return int(count), Decimal(amount), int(receipts or 0)

    def base_totals(self) -> tuple[int, Decimal]:
        """All customers and everyone's purchase amount."""
        count, amount = self.session.execute(select(func.count(), _amount_sum()).select_from(Customer)).one()
        return int(count), Decimal(amount)

    def is_member(self, segment_id: int, customer_id: int) -> bool:
        statement = select(SegmentMembership.id).where(
            SegmentMembership.segment_id == segment_id,
            SegmentMembership.customer_id == customer_id,
            SegmentMembership.exited_at.is_(None),
        )
        return self.session.scalar(statement) is not None

    def segments_of_customer(self, customer_id: int) -> list[tuple[Segment, SegmentMembership]]:
        statement = (
            select(Segment, SegmentMembership)
            .join(SegmentMembership, SegmentMembership.segment_id == Segment.id)
            .where(SegmentMembership.customer_id == customer_id, SegmentMembership.exited_at.is_(None))
            .order_by(Segment.name)
        )
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    def member_rows(self, segment_id: int, params: PageParams) -> Page[tuple[Customer, datetime]]:
        """Current members by name, each with the moment they entered."""
        statement = (
            select(Customer, SegmentMembership.entered_at)
            .join(SegmentMembership, SegmentMembership.customer_id == Customer.id)
            .where(SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None))
            .order_by(Customer.last_name, Customer.first_name, Customer.id)
        )
        total = self.count(cast("Select[Any]", statement))
        rows = self.session.execute(statement.limit(params.size).offset(params.offset)).all()
        return Page(items=[(row[0], row[1]) for row in rows], total=total, page=params.page, size=params.size)

    def export_batch(self, segment_id: int, after_id: int, size: int) -> Sequence[Row[Any]]:
        """The next `size` current members after customer `after_id` (keyset order), export columns + id."""
        statement = (
            select(Customer.id, *EXPORT_COLUMNS)
            .join(SegmentMembership, SegmentMembership.customer_id == Customer.id)
            .where(
                SegmentMembership.segment_id == segment_id,
                SegmentMembership.exited_at.is_(None),
                Customer.id > after_id,
            )
            .order_by(Customer.id)
            .limit(size)
        )
        return cast("Sequence[Row[Any]]", self.session.execute(statement).all())

    def builder_fields(self) -> list[FieldDefinition]:
        """The customer's fields in the segment builder's order."""
        statement = select(FieldDefinition).where(FieldDefinition.object == "customer")
        return list(
            self.session.scalars(statement.order_by(FieldDefinition.builder_order, FieldDefinition.id))
        )


class LookupRepository:
    """Searches of the values a condition's parameters take, and their names for display."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def search(self, kind: str, query: str, limit: int) -> list[tuple[str, str, str | None]]:
        """(value, label, hint) of the rows whose searched columns contain `query`, by label."""
        model, value, label, hint, searched = LOOKUPS[kind]
        statement = select(value, label, hint).order_by(label, value).limit(limit)
        if query:
            wanted = query.lower()
            statement = statement.where(
                or_(*(text_lower(c).contains(wanted, autoescape=True) for c in searched))
            )
        rows = self.session.execute(statement.select_from(model)).all()
        return [(str(row[0]), str(row[1]), None if row[2] is None else str(row[2])) for row in rows]

    def categories(self, query: str, limit: int) -> list[tuple[str, str, str | None]]:
        """Categories whose name or code contains `query`; the hint names their ancestors (and catalogue)."""
        statement = (
            select(Category.id, Category.name, Category.path, Classifier.name)
            .join(Classifier, Classifier.id == Category.classifier_id)
            .order_by(Category.name, Category.id)
            .limit(limit)
        )
        if query:
            wanted = query.lower()
            statement = statement.where(
                or_(
                    text_lower(Category.name).contains(wanted, autoescape=True),
                    text_lower(Category.code) == wanted,
                )
            )
        rows = self.session.execute(statement).all()
        ancestors = self._category_names({int(i) for row in rows for i in row[2].strip("/").split("/") if i})
        several = self.session.scalar(select(func.count()).select_from(Classifier)) > 1
        return [
            (str(row[0]), row[1], self._trail(row[2], row[0], ancestors, row[3] if several else None))
            for row in rows
        ]

    def mailings(self, query: str, limit: int) -> list[tuple[str, str, str]]:
        """(id, name, channel) of the mailings whose name contains `query`, the newest first."""
        statement = select(Mailing.id, Mailing.name, Mailing.channel).order_by(Mailing.id.desc()).limit(limit)
        if query:
            statement = statement.where(text_lower(Mailing.name).contains(query.lower(), autoescape=True))
        return [(str(row[0]), str(row[1]), str(row[2])) for row in self.session.execute(statement)]

    def event_names(self, query: str, limit: int) -> list[str]:
        """Names of customer events seen so far that contain `query`."""
        statement = select(distinct(Event.name)).order_by(Event.name).limit(limit)
        if query:
            statement = statement.where(text_lower(Event.name).contains(query.lower(), autoescape=True))
        return [str(name) for name in self.session.scalars(statement)]

    def names(self, kind: str, values: set[str]) -> dict[str, str]:
        """Display names of parameter values given by id (or by code where the kind has one)."""
        if kind == "category":
            category_ids = {int(v) for v in values if v.isdigit()}
            return {str(i): name for i, name in self._category_names(category_ids).items()}
        if kind not in LOOKUPS or not values:
            return {}
        _model, value, label, _hint, _searched = LOOKUPS[kind]
        ids = [int(v) for v in values if v.isdigit()]
        found = {
            str(row[0]): str(row[1])
            for row in self.session.execute(select(value, label).where(value.in_(ids)))
        }
        codes = [v for v in values if not v.isdigit()]
        if codes and kind in CODE_COLUMNS:
            column = CODE_COLUMNS[kind]
            found |= {
                str(row[0]): str(row[1])
                for row in self.session.execute(select(column, label).where(column.in_(codes)))
            }
        return found

    def _category_names(self, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.session.execute(select(Category.id, Category.name).where(Category.id.in_(ids)))
        return {int(row[0]): str(row[1]) for row in rows}

    @staticmethod
    def _trail(path: str, own_id: int, names: dict[int, str], catalogue: str | None) -> str | None:
        above = [
            names[int(i)] for i in path.strip("/").split("/") if i and int(i) != own_id and int(i) in names
        ]
        parts = ([catalogue] if catalogue else []) + above
        return " › ".join(parts) or None
