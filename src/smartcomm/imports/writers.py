"""The write pass of customers and products imports: set-based upserts of checked records.

Both run inside the import's single write transaction, one batch at a time; a later row for the same
key updates what an earlier row wrote, exactly as a second import of that row would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from smartcomm.catalog.repository import CatalogRepository
from smartcomm.catalog.service import PriceStock, publish_product_changes
from smartcomm.catalog.tree import CategoryTree
from smartcomm.customers.repository import chunks
from smartcomm.imports.formats import PHONE_ZONE, CategoryRef, CustomerRecord, ProductRecord
from smartcomm.imports.repository import update_by_key
from smartcomm.imports.schemas import ImportRejected, RowError
from smartcomm.kit.outbox import publish
from smartcomm.loyalty.bonuses import apply_bonus_data
from smartcomm.loyalty.import_columns import BONUS, merged_rows
from smartcomm.loyalty.schemas import BonusUpdate
from smartcomm.models import Category, Customer, Product

customers = cast(Table, Customer.__table__)
products = cast(Table, Product.__table__)
categories = cast(Table, Category.__table__)

NEW_CUSTOMER: dict[str, Any] = {
    **dict.fromkeys((
        "first_name", "last_name", "middle_name", "gender", "birth_date", "country", "region", "city",
        "time_zone", "registered_at", "card_number", "card_status", "email", "phone", "phone_type",
        "first_purchase_at", "last_purchase_at",
    )),
    "email_valid": False, "phone_valid": False,
    "allow_email": True, "allow_sms": True, "allow_viber": True, "allow_push": True,
    "receipt_count": 0, "total_amount": Decimal("0"), "average_receipt": Decimal("0"),
}  # fmt: skip
NEW_PRODUCT: dict[str, Any] = {
    "name": None, "price": None, "stock": None, "category_id": None, "url": None, "image_url": None,
    "is_active": True,
}  # fmt: skip


def merged_values(earlier: dict[str, Any] | None, later: dict[str, Any]) -> dict[str, Any]:
    """Two rows for the same key, applied in file order (custom fields merge field by field)."""
    if earlier is None:
        return later
    merged = {**earlier, **later}
    if "custom" in earlier or "custom" in later:
        merged["custom"] = {**earlier.get("custom", {}), **later.get("custom", {})}
    if BONUS in later:  # each row of a customer may add an expiring portion
        merged[BONUS] = merged_rows(earlier.get(BONUS), later[BONUS])
    return merged


def merged_custom(stored: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """Stored custom fields updated with the file's; an empty cell (None) removes a field."""
    return {code: value for code, value in {**(stored or {}), **given}.items() if value is not None}


class CustomerWriter:
    """Creates new customers and updates the file's columns of existing ones, by external id."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.created = 0
        self.updated = 0

    def write(self, records: list[CustomerRecord]) -> int:
        latest: dict[str, dict[str, Any]] = {}
        for _row, external_id, values in records:
            latest[external_id] = merged_values(latest.get(external_id), values)
        stored = self._stored(list(latest))
        created = self._insert([values for key, values in latest.items() if key not in stored])
        self._update([(stored[key], values) for key, values in latest.items() if key in stored])
        updated = [id_ for id_, _, _ in stored.values()]
        for is_new, ids in ((True, created), (False, updated)):
            if ids:  # one event per batch for the customers it created, one for those it updated
                publish(self.session, "customers.imported", customer_ids=ids, payload={"created": is_new})
        self._write_bonuses({key: values[BONUS] for key, values in latest.items() if BONUS in values})
        return len(records)

    def _write_bonuses(self, updates: dict[str, BonusUpdate]) -> None:
        """The bonus columns, once the batch's customers exist (see `loyalty.import_columns`)."""
        if updates:
            ids = {key: id_ for key, (id_, _, _) in self._stored(list(updates)).items()}
            apply_bonus_data(self.session, {ids[key]: update for key, update in updates.items()}, self.now)

    def _stored(self, external_ids: list[str]) -> dict[str, tuple[int, dict[str, Any], str | None]]:
        """external id -> (id, custom fields, time zone) of customers that exist."""
        found: dict[str, tuple[int, dict[str, Any], str | None]] = {}
        columns = (customers.c.external_id, customers.c.id, customers.c.custom, customers.c.time_zone)
        for part in chunks(external_ids):
            for external_id, id_, custom, zone in self.session.execute(
                select(*columns).where(customers.c.external_id.in_(part))
            ):
                found[external_id] = (id_, custom, zone)
        return found

    def _insert(self, new: list[dict[str, Any]]) -> list[int]:
        if not new:
            return []
        rows = []
        for values in new:
            row = NEW_CUSTOMER | {k: v for k, v in values.items() if k not in (PHONE_ZONE, BONUS)}
            row["custom"] = merged_custom(None, values.get("custom", {}))
            row["time_zone"] = row["time_zone"] or values.get(PHONE_ZONE)
            rows.append(row | {"created_at": self.now, "updated_at": self.now})
        ids = list(self.session.scalars(insert(customers).returning(customers.c.id), rows))
        self.created += len(rows)
        return ids

    def _update(self, pairs: list[tuple[tuple[int, dict[str, Any], str | None], dict[str, Any]]]) -> None:
        rows = []
        for (id_, custom, zone), values in pairs:
            row = {k: v for k, v in values.items() if k not in (PHONE_ZONE, BONUS, "external_id")}
            if not row and BONUS in values:
                continue  # bonus data alone: the customer's own row stays as it is
            if "custom" in values:
                row["custom"] = merged_custom(custom, values["custom"])
            if PHONE_ZONE in values:
                # As in CustomerService: the phone's zone only fills a customer without one.
                row["time_zone"] = row.get("time_zone", zone) or values[PHONE_ZONE]
            rows.append(row | {"id": id_, "updated_at": self.now})
        update_by_key(self.session, customers, "id", rows)
        self.updated += len(rows)


class CategoryNames:
    """Creates and updates the categories products name, with the catalogue's own tree rules."""

    def __init__(self, session: Session, classifier_id: int) -> None:
        self.session = session
        self.classifier_id = classifier_id
        self.repository = CatalogRepository(session)
        self.created = 0

    def ensure(self, refs: Sequence[tuple[int, CategoryRef]]) -> dict[str, int]:
        """code -> id of every category in `refs` (row, (code, name, parent code)); parents are made too."""
        tree = CategoryTree(self.classifier_id, self.repository.category_tree(self.classifier_id))
        for row, (code, name, parent) in refs:
            if parent and parent not in tree.by_code:
                tree.put(parent, parent)
            known = tree.by_code.get(code)
            tree.put(code, name or (known.name if known else code))
            if parent:
                tree.set_parent(code, parent, str(row))
        problems = tree.problems()
        if problems:
            raise ImportRejected([RowError(int(p.field), "parent_category", p.message) for p in problems])
        self.session.add_all(tree.new_categories())
        self.session.flush()
        tree.link()
        self.session.flush()
        self.created += len(tree.created)
        return {code: tree.by_code[code].id for _, (code, _, _) in refs}


class StoredProduct(NamedTuple):
    id: int
    custom: dict[str, Any]
    price: Decimal | None
    stock: Decimal | None


def _price_stock(stored: dict[str, StoredProduct], latest: dict[str, dict[str, Any]]) -> list[PriceStock]:
    """Stored products' price and stock before and after the file (a column the file lacks is unchanged)."""
    return [
        PriceStock(
            found.id, found.price, found.stock, latest[sku].get("price", found.price),
            latest[sku].get("stock", found.stock),
        )
        for sku, found in stored.items()
    ]  # fmt: skip


class ProductWriter:
    """Creates and updates products of one classifier by SKU, with their categories."""

    def __init__(self, session: Session, classifier_id: int, now: datetime, *, sets_category: bool) -> None:
        self.session = session
        self.classifier_id = classifier_id
        self.now = now
        self.sets_category = sets_category
        self.repository = CatalogRepository(session)
        self.is_main_catalogue = self.repository.system_classifier().id == classifier_id
        self.categories = CategoryNames(session, classifier_id)
        self.linked = 0
        self.created = 0
        self.updated = 0

    def write(self, records: list[ProductRecord]) -> int:
        latest: dict[str, dict[str, Any]] = {}
        for _row, sku, values, _category in records:
            latest[sku] = merged_values(latest.get(sku), values)
        if self.sets_category:
            ids = self.categories.ensure([(row, ref) for row, _, _, ref in records if ref])
            for _row, sku, _values, ref in records:
                latest[sku]["category_id"] = ids[ref[0]] if ref else None
        stored = self._stored(list(latest))
        self._insert([(sku, values) for sku, values in latest.items() if sku not in stored])
        self._update([(stored[sku], values) for sku, values in latest.items() if sku in stored])
        publish_product_changes(self.session, _price_stock(stored, latest))
        if self.is_main_catalogue:
            # Receipt lines loaded before their product get it now, as with the catalogue API.
            new_skus = [sku for sku in latest if sku not in stored]
            self.linked += self.repository.link_receipt_lines(self.classifier_id, new_skus)
        return len(records)

    def _stored(self, skus: list[str]) -> dict[str, StoredProduct]:
        found: dict[str, StoredProduct] = {}
        columns = (products.c.sku, products.c.id, products.c.custom, products.c.price, products.c.stock)
        for part in chunks(skus):
            statement = select(*columns).where(
                products.c.classifier_id == self.classifier_id, products.c.sku.in_(part)
            )
            found.update({row.sku: StoredProduct(*row[1:]) for row in self.session.execute(statement)})
        return found

    def _insert(self, new: list[tuple[str, dict[str, Any]]]) -> None:
        if not new:
            return
        rows = [
            NEW_PRODUCT
            | values
            | {"custom": merged_custom(None, values.get("custom", {})), "classifier_id": self.classifier_id,
               "sku": sku, "created_at": self.now, "updated_at": self.now}
            for sku, values in new
        ]  # fmt: skip
        self.session.execute(insert(products), rows)
        self.created += len(rows)

    def _update(self, pairs: list[tuple[StoredProduct, dict[str, Any]]]) -> None:
        rows = []
        for (id_, custom, _, _), values in pairs:
            row = dict(values)
            if "custom" in values:
                row["custom"] = merged_custom(custom, values["custom"])
            rows.append(row | {"id": id_, "updated_at": self.now})
        update_by_key(self.session, products, "id", rows)
        self.updated += len(rows)
