"""SQL of the demo loader's reference data: stores, categories, products, mailing categories; and the
recipients of the sample messages a new installation starts with.

Rows that already exist (matched by code or SKU) are reused, so the catalogue of a base that was
set up by hand before the demo load stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from smartcomm.demo.places import ONLINE_STORE_CODE
from smartcomm.models import (
    Category,
    Classifier,
    Container,
    Customer,
    EventSource,
    MailingCategory,
    Product,
    Receipt,
    Store,
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
