"""Rules of the catalogue: batches of categories, products and stores, each one summary audit row."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.catalog.repository import CatalogRepository, StoreRepository
from smartcomm.catalog.schemas import (
    CategoryBatchOut,
    CategoryIn,
    CategoryNodeOut,
    CategoryOutcome,
    ProductBatchOut,
    ProductIn,
    ProductOut,
    ProductOutcome,
    StoreBatchOut,
    StoreIn,
    StoreOutcome,
)
from smartcomm.catalog.tree import CategoryTree
from smartcomm.fields.repository import FieldRepository
from smartcomm.fields.values import clean_custom_values
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.kit.outbox import publish
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.models import Category, Classifier, Product, Store

PRODUCT_FIELDS = ("price", "stock", "url", "image_url", "is_active")
STORE_FIELDS = ("city", "region", "address", "time_zone", "is_online", "is_active")

KeyT = TypeVar("KeyT", bound=Hashable)
RowT = TypeVar("RowT")


@dataclass
class Upserts(Generic[KeyT, RowT]):
    """The rows one batch touches, by key; an item repeated in the batch changes the same row."""

    rows: dict[KeyT, RowT] = field(default_factory=dict)
    created: set[KeyT] = field(default_factory=set)

    def known(self, key: KeyT, existing: Mapping[KeyT, RowT]) -> RowT | None:
        row = self.rows.get(key) or existing.get(key)
        if row is not None:
            self.rows[key] = row
        return row

    def create(self, key: KeyT, row: RowT) -> RowT:
        self.rows[key] = row
        self.created.add(key)
        return row

    def new_rows(self) -> list[RowT]:
        return [self.rows[key] for key in self.created]

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.rows) - len(self.created)}


class CatalogService:
    def classifiers(self, session: Session) -> list[Classifier]:
        """Every classifier, the main catalogue first."""
        return CatalogRepository(session).classifiers()

    def category_tree(self, session: Session, classifier_code: str) -> list[CategoryNodeOut]:
        """A classifier's categories in tree order: each after its parent, siblings by name."""
        repository = CatalogRepository(session)
        classifier = repository.classifier_by_code(classifier_code)
        if classifier is None:
            raise NotFound("Classifier", classifier_code)
        return list(_tree_order(repository.category_tree(classifier.id)))

    def upsert_categories(
        self, session: Session, actor: Actor, items: Sequence[CategoryIn]
    ) -> CategoryBatchOut:
        """Create or update categories; parents may come later in the batch; paths follow every move."""
        repository = CatalogRepository(session)
        classifiers = self._classifiers(repository, [item.classifier for item in items], "categories")
        custom_types = FieldRepository(session).custom_types("category")
        trees: dict[int, CategoryTree] = {}
        errors: list[FieldError] = []
        for index, (item, classifier) in enumerate(zip(items, classifiers, strict=True)):
            if classifier.id not in trees:
                trees[classifier.id] = CategoryTree(classifier.id, repository.category_tree(classifier.id))
            tree = trees[classifier.id]
            category = tree.put(item.code, item.name)
            if "parent" in item.model_fields_set:
                tree.set_parent(item.code, item.parent, f"categories[{index}].parent")
            errors.extend(_merge_custom(category, item.custom, custom_types, f"categories[{index}].custom"))
        errors.extend(problem for tree in trees.values() for problem in tree.problems())
        if errors:
            raise InvalidInput(f"{len(errors)} problem(s) in the categories; nothing was written", errors)
        session.add_all([category for tree in trees.values() for category in tree.new_categories()])
        session.flush()
        for tree in trees.values():
            tree.link()
        session.flush()
        outcomes = _category_outcomes(items, classifiers, trees)
        created = sum(1 for outcome in outcomes if outcome.created)
        counts = {"created": created, "updated": len(outcomes) - created}
        _record_batch(session, actor, "category_batch", f"{len(outcomes)} categories", counts)
        return CategoryBatchOut(**counts, items=outcomes)

    def upsert_products(self, session: Session, actor: Actor, items: Sequence[ProductIn]) -> ProductBatchOut:
        """Create or update products by classifier and SKU, then tie earlier receipt lines to them."""
        repository = CatalogRepository(session)
        classifiers = self._classifiers(repository, [item.classifier for item in items], "products")
        custom_types = FieldRepository(session).custom_types("product")
        existing = _products(repository, _grouped(classifiers, [item.sku for item in items]))
        categories = _categories(repository, _grouped(classifiers, [item.category for item in items]))
        batch: Upserts[tuple[int, str], Product] = Upserts()
        before = {key: (product.price, product.stock) for key, product in existing.items()}
        errors: list[FieldError] = []
        for index, (item, classifier) in enumerate(zip(items, classifiers, strict=True)):
            key = (classifier.id, item.sku)
            product = batch.known(key, existing) or batch.create(
                key, Product(classifier_id=classifier.id, sku=item.sku, custom={})
            )
            errors.extend(
                _apply_product(product, item, key in batch.created, categories, f"products[{index}]")
            )
            errors.extend(_merge_custom(product, item.custom, custom_types, f"products[{index}].custom"))
        if errors:
            raise InvalidInput(f"{len(errors)} problem(s) in the products; nothing was written", errors)
        session.add_all(batch.new_rows())
        session.flush()
        linked = self._link_receipt_lines(repository, batch)
        _publish_changes(session, before, batch)
        counts = batch.counts()
        _record_batch(session, actor, "product_batch", f"{len(batch.rows)} products", counts, linked)
        codes = {classifier.id: classifier.code for classifier in classifiers}
        outcomes = [
            ProductOutcome(id=p.id, sku=sku, classifier=codes[cid], created=(cid, sku) in batch.created)
            for (cid, sku), p in batch.rows.items()
        ]
        return ProductBatchOut(**counts, receipt_lines_linked=linked, items=outcomes)

    def product(self, session: Session, sku: str, classifier_code: str | None = None) -> ProductOut:
        """A product by SKU in a classifier (the main catalogue by default)."""
        repository = CatalogRepository(session)
        classifier = (
            repository.classifier_by_code(classifier_code)
            if classifier_code
            else repository.system_classifier()
        )
        if classifier is None:
            raise NotFound("Classifier", classifier_code)
        product = repository.product_by_sku(classifier.id, sku)
        if product is None:
            raise NotFound("Product", sku)
        category = repository.category_code(product.category_id) if product.category_id is not None else None
        values = {name: getattr(product, name) for name in ProductOut.model_fields if hasattr(product, name)}
        return ProductOut.model_validate(values | {"classifier": classifier.code, "category": category})

    def upsert_stores(self, session: Session, actor: Actor, items: Sequence[StoreIn]) -> StoreBatchOut:
        """Create or update stores by code; fields not sent stay unchanged."""
        existing = StoreRepository(session).by_codes([item.code for item in items])
        batch: Upserts[str, Store] = Upserts()
        for item in items:
            store = batch.known(item.code, existing) or batch.create(item.code, Store(code=item.code))
            store.name = item.name
            for name in STORE_FIELDS:
                if item.code in batch.created or name in item.model_fields_set:
                    setattr(store, name, getattr(item, name))
        session.add_all(batch.new_rows())
        session.flush()
        counts = batch.counts()
        _record_batch(session, actor, "store_batch", f"{len(batch.rows)} stores", counts)
        outcomes = [
            StoreOutcome(id=s.id, code=code, created=code in batch.created) for code, s in batch.rows.items()
        ]
        return StoreBatchOut(**counts, items=outcomes)

    def stores(self, session: Session, params: PageParams) -> Page[Store]:
        """Stores ordered by code."""
        return StoreRepository(session).page(params)

    def _classifiers(
        self, repository: CatalogRepository, codes: Sequence[str | None], path: str
    ) -> list[Classifier]:
        """The classifier of each item (the main one when none is named); unknown codes are errors."""
        system = repository.system_classifier()
        named = repository.classifiers_by_code([code for code in codes if code])
        unknown = [
            FieldError(f"{path}[{index}].classifier", f"no classifier {code!r}", "unknown")
            for index, code in enumerate(codes)
            if code and code not in named
        ]
        if unknown:
            raise InvalidInput(f"{len(unknown)} unknown classifier(s); nothing was written", unknown)
        return [named[code] if code else system for code in codes]

    def _link_receipt_lines(
        self, repository: CatalogRepository, batch: Upserts[tuple[int, str], Product]
    ) -> int:
        # Receipt lines resolve SKUs in the main catalogue only, so only its products can claim them.
        system = repository.system_classifier()
        return repository.link_receipt_lines(system.id, [sku for cid, sku in batch.rows if cid == system.id])


def _publish_changes(
    session: Session,
    before: dict[tuple[int, str], tuple[Decimal | None, Decimal | None]],
    batch: Upserts[tuple[int, str], Product],
) -> None:
    """`product.changed` for the stored products whose price or stock the batch changed."""
    rows = []
    for key, (price, stock) in before.items():
        product = batch.rows[key]
        rows.append(PriceStock(product.id, price, stock, product.price, product.stock))
    publish_product_changes(session, rows)


@dataclass(frozen=True)
class PriceStock:
    """A stored product's price and stock before and after a write."""

    product_id: int
    old_price: Decimal | None
    old_stock: Decimal | None
    price: Decimal | None
    stock: Decimal | None


def publish_product_changes(session: Session, rows: Sequence[PriceStock]) -> None:
    """One `product.changed` for the products whose price or stock changed (campaign triggers on prices
    and stock listen to it); nothing when none did. Used by the catalogue API and the products import."""
    changes = []
    for row in rows:
        pairs = (("price", row.old_price, row.price), ("stock", row.old_stock, row.stock))
        change = {name: [_text(name, old), _text(name, new)] for name, old, new in pairs if old != new}
        if change:
            changes.append({"product_id": row.product_id, **change})
    if changes:
        fields = sorted({name for change in changes for name in change if name != "product_id"})
        payload = {"product_ids": [change["product_id"] for change in changes], "fields": fields}
        publish(session, "product.changed", payload=payload | {"changes": changes})


def _text(name: str, value: Decimal | None) -> str | None:
    if value is None:
        return None
    return f"{value:.2f}" if name == "price" else f"{value.normalize():f}"


def _grouped(classifiers: Sequence[Classifier], values: Sequence[str | None]) -> dict[int, list[str]]:
    """Non-empty values by the id of their item's classifier."""
    grouped: dict[int, list[str]] = {}
    for classifier, value in zip(classifiers, values, strict=True):
        if value:
            grouped.setdefault(classifier.id, []).append(value)
    return grouped


def _products(repository: CatalogRepository, skus: dict[int, list[str]]) -> dict[tuple[int, str], Product]:
    return {
        (cid, sku): product
        for cid, wanted in skus.items()
        for sku, product in repository.products_by_skus(cid, wanted).items()
    }


def _categories(
    repository: CatalogRepository, codes: dict[int, list[str]]
) -> dict[tuple[int, str], Category]:
    return {
        (cid, code): category
        for cid, wanted in codes.items()
        for code, category in repository.categories_by_code(cid, wanted).items()
    }


def _apply_product(
    product: Product, item: ProductIn, created: bool, categories: dict[tuple[int, str], Category], where: str
) -> list[FieldError]:
    product.name = item.name
    for name in PRODUCT_FIELDS:
        if created or name in item.model_fields_set:
            setattr(product, name, getattr(item, name))
    if "category" not in item.model_fields_set:
        return []
    category = categories.get((product.classifier_id, item.category)) if item.category else None
    if item.category and category is None:
        return [
            FieldError(f"{where}.category", f"no category {item.category!r} in this classifier", "unknown")
        ]
    product.category_id = category.id if category else None
    return []


def _merge_custom(
    target: Category | Product, values: dict[str, Any], types: dict[str, str], path: str
) -> list[FieldError]:
    """Validate custom values and merge them into the row's; null removes a value."""
    if not values:
        return []
    cleaned, errors = clean_custom_values(values, types, path)
    if not errors:
        merged = {**(target.custom or {}), **cleaned}
        target.custom = {code: value for code, value in merged.items() if value is not None}
    return errors


def _tree_order(categories: Sequence[Category]) -> Iterator[CategoryNodeOut]:
    """The categories depth first; a category whose parent is missing is listed as a top one."""
    by_id = {category.id: category for category in categories}
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        parent = category.parent_id if category.parent_id in by_id else None
        children.setdefault(parent, []).append(category)
    pending: list[tuple[Category, tuple[str, ...]]] = [
        (category, ()) for category in reversed(_by_name(children.get(None, [])))
    ]
    while pending:
        category, above = pending.pop()
        path = (*above, category.code)
        yield _node(category, by_id, path)
        pending.extend((child, path) for child in reversed(_by_name(children.get(category.id, []))))


def _by_name(categories: list[Category]) -> list[Category]:
    return sorted(categories, key=lambda category: (category.name.lower(), category.code))


def _node(category: Category, by_id: Mapping[int, Category], path: tuple[str, ...]) -> CategoryNodeOut:
    parent = by_id.get(category.parent_id) if category.parent_id is not None else None
    return CategoryNodeOut(
        id=category.id,
        code=category.code,
        name=category.name,
        parent=parent.code if parent else None,
        parent_id=parent.id if parent else None,
        level=len(path),
        path=list(path),
        custom=category.custom or {},
    )


def _category_outcomes(
    items: Sequence[CategoryIn], classifiers: Sequence[Classifier], trees: dict[int, CategoryTree]
) -> list[CategoryOutcome]:
    outcomes: dict[tuple[int, str], CategoryOutcome] = {}
    for item, classifier in zip(items, classifiers, strict=True):
        tree = trees[classifier.id]
        category = tree.by_code[item.code]
        outcomes[(classifier.id, item.code)] = CategoryOutcome(
            id=category.id,
            code=item.code,
            classifier=classifier.code,
            parent_id=category.parent_id,
            path=category.path,
            created=item.code in tree.created,
        )
    return list(outcomes.values())


def _record_batch(
    session: Session,
    actor: Actor,
    object_type: str,
    label: str,
    counts: dict[str, int],
    linked: int | None = None,
) -> None:
    """The one history row of a batch: how many rows it created and updated."""
    changes: dict[str, list[Any]] = {name: [None, value] for name, value in counts.items()}
    if linked is not None:
        changes["receipt_lines_linked"] = [None, linked]
    audit_service.record(
        session, actor, object_type=object_type, object_id=label, action="upsert", changes=changes
    )


catalog_service = CatalogService()
