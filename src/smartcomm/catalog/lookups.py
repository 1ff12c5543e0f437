"""Resolving codes to ids during intake, with per-run caches (imports look up millions of rows)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from smartcomm.catalog.repository import CatalogRepository
from smartcomm.models import Store


class StoreLookup:
    """Store code -> id. Unknown codes create a store named after its code (rename it later)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repository = CatalogRepository(session)
        self.cache: dict[str, int] = {}

    def ids(self, codes: Sequence[str]) -> dict[str, int]:
        missing = [code for code in dict.fromkeys(codes) if code not in self.cache]
        if missing:
            self.cache.update(self.repository.store_ids(missing))
            for code in missing:
                if code not in self.cache:
                    store = Store(code=code, name=code, is_online=code == "online")
                    self.session.add(store)
                    self.session.flush()
                    self.cache[code] = store.id
        return {code: self.cache[code] for code in codes}


class ProductLookup:
    """SKU -> (product id, category id) in one classifier; unknown SKUs stay text-only on receipt lines."""

    def __init__(self, session: Session, classifier_id: int | None = None) -> None:
        self.repository = CatalogRepository(session)
        self.classifier_id = classifier_id or self.repository.system_classifier().id
        self.cache: dict[str, tuple[int | None, int | None]] = {}

    def resolve(self, skus: Sequence[str]) -> dict[str, tuple[int | None, int | None]]:
        missing = [sku for sku in dict.fromkeys(skus) if sku not in self.cache]
        if missing:
            found = self.repository.products_by_sku(self.classifier_id, missing)
            for sku in missing:
                self.cache[sku] = found.get(sku, (None, None))
        return {sku: self.cache[sku] for sku in skus}
