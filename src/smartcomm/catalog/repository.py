"""SQL of the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select, update

from smartcomm.customers.repository import chunks
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import Category, Classifier, Product, ReceiptLine, Store
from smartcomm.models.catalog import SYSTEM_CLASSIFIER_CODE


class CatalogRepository(Repository[Product]):
    model = Product

    def system_classifier(self) -> Classifier:
        return self.session.scalars(select(Classifier).where(Classifier.code == SYSTEM_CLASSIFIER_CODE)).one()

    def classifier_by_code(self, code: str) -> Classifier | None:
        return self.session.scalar(select(Classifier).where(Classifier.code == code))

    def classifiers(self) -> list[Classifier]:
        statement = select(Classifier).order_by(Classifier.is_system.desc(), Classifier.name)
        return list(self.session.scalars(statement))

    def store_ids(self, codes: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(list(dict.fromkeys(codes))):
            statement = select(Store.code, Store.id).where(Store.code.in_(part))
            found.update(dict(self.session.execute(statement).all()))
        return found

    def store_by_code(self, code: str) -> Store | None:
        return self.session.scalar(select(Store).where(Store.code == code))

    def products_by_sku(self, classifier_id: int, skus: Sequence[str]) -> dict[str, tuple[int, int | None]]:
        """sku -> (product id, category id) within one classifier."""
        found: dict[str, tuple[int, int | None]] = {}
        for part in chunks(list(dict.fromkeys(skus))):
            statement = select(Product.sku, Product.id, Product.category_id).where(
                Product.classifier_id == classifier_id, Product.sku.in_(part)
            )
            found.update({sku: (id_, category) for sku, id_, category in self.session.execute(statement)})
        return found

    def categories_by_code(self, classifier_id: int, codes: Sequence[str]) -> dict[str, Category]:
        found: dict[str, Category] = {}
        for part in chunks(list(dict.fromkeys(codes))):
            statement = select(Category).where(
                Category.classifier_id == classifier_id, Category.code.in_(part)
            )
            found.update({category.code: category for category in self.session.scalars(statement)})
        return found

    def classifiers_by_code(self, codes: Sequence[str]) -> dict[str, Classifier]:
        statement = select(Classifier).where(Classifier.code.in_(list(dict.fromkeys(codes))))
        return {classifier.code: classifier for classifier in self.session.scalars(statement)}

    def category_tree(self, classifier_id: int) -> list[Category]:
        """Every category of a classifier: trees are small next to products, and a batch checks the whole."""
        statement = select(Category).where(Category.classifier_id == classifier_id).order_by(Category.id)
        return list(self.session.scalars(statement))

    def category_code(self, category_id: int) -> str | None:
        return self.session.scalar(select(Category.code).where(Category.id == category_id))

    def products_by_skus(self, classifier_id: int, skus: Sequence[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        for part in chunks(list(dict.fromkeys(skus))):
            statement = select(Product).where(Product.classifier_id == classifier_id, Product.sku.in_(part))
            found.update({product.sku: product for product in self.session.scalars(statement)})
        return found

    def product_by_sku(self, classifier_id: int, sku: str) -> Product | None:
        return self.session.scalar(
            select(Product).where(Product.classifier_id == classifier_id, Product.sku == sku)
        )

    def link_receipt_lines(self, classifier_id: int, skus: Sequence[str]) -> int:
        """Give receipt lines without a product the product with their SKU and its category (one UPDATE)."""
        if not skus:
            return 0
        same_sku = and_(Product.classifier_id == classifier_id, Product.sku == ReceiptLine.sku)
        statement = (
            update(ReceiptLine)
            .where(ReceiptLine.product_id.is_(None), ReceiptLine.sku.in_(list(dict.fromkeys(skus))))
            .values(
                product_id=select(Product.id).where(same_sku).scalar_subquery(),
                category_id=select(Product.category_id).where(same_sku).scalar_subquery(),
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(self.session.execute(statement), "rowcount", 0) or 0)


class StoreRepository(Repository[Store]):
    model = Store

    def by_codes(self, codes: Sequence[str]) -> dict[str, Store]:
        found: dict[str, Store] = {}
        for part in chunks(list(dict.fromkeys(codes))):
            statement = select(Store).where(Store.code.in_(part))
            found.update({store.code: store for store in self.session.scalars(statement)})
        return found

    def page(self, params: PageParams) -> Page[Store]:
        return self.paginate(select(Store).order_by(Store.code), params)
