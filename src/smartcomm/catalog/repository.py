"""SQL of the catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from smartcomm.customers.repository import chunks
from smartcomm.kit.repository import Repository
from smartcomm.models import Category, Classifier, Product, Store
from smartcomm.models.catalog import SYSTEM_CLASSIFIER_CODE


class CatalogRepository(Repository[Product]):
    model = Product

    def system_classifier(self) -> Classifier:
        return self.session.scalars(select(Classifier).where(Classifier.code == SYSTEM_CLASSIFIER_CODE)).one()

    def classifier_by_code(self, code: str) -> Classifier | None:
        return self.session.scalar(select(Classifier).where(Classifier.code == code))

    def classifiers(self) -> list[Classifier]:
        return list(self.session.scalars(select(Classifier).order_by(Classifier.is_system.desc(), Classifier.name)))

    def store_ids(self, codes: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(list(dict.fromkeys(codes))):
            statement = select(Store.code, Store.id).where(Store.code.in_(part))
            found.update({code: id_ for code, id_ in self.session.execute(statement)})
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
            statement = select(Category).where(Category.classifier_id == classifier_id, Category.code.in_(part))
            found.update({category.code: category for category in self.session.scalars(statement)})
        return found
