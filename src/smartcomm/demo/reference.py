"""Reference data of the demo base: stores and the catalogue, written (or reused) before any customer."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcomm.demo.behaviour import SITE
from smartcomm.demo.catalogue import DEPARTMENTS, DemoProduct, build_products
from smartcomm.demo.places import CITIES, ONLINE_STORE_CODE, DemoStore, build_stores
from smartcomm.demo.repository import DemoRepository
from smartcomm.demo.shop import ShopProduct, ShopStore

ONLINE_TIME_ZONE, ONLINE_UTC_OFFSET = "Europe/Moscow", 3


@dataclass
class Stores:
    stores: list[ShopStore]
    by_city: dict[int, list[int]]  # city index -> indexes into `stores`

    @property
    def online(self) -> int:
        return next(index for index, store in enumerate(self.stores) if store.online)


@dataclass
class Catalogue:
    products: list[ShopProduct]
    snapshots: dict[int, str]  # product id -> JSON snapshot for web events
    category_snapshots: dict[int, tuple[str, str]]  # category id -> (code, JSON snapshot)


def load_stores(repository: DemoRepository, streets: list[str], rng: random.Random, now: datetime) -> Stores:
    demo = build_stores()
    ids = repository.ensure_stores([_store_row(store, streets, rng, now) for store in demo])
    result = Stores([], {})
    for index, store in enumerate(demo):
        offset = CITIES[store.city].utc_offset if store.city is not None else ONLINE_UTC_OFFSET
        prefix = "WEB" if store.code == ONLINE_STORE_CODE else store.code.replace("-", "")
        result.stores.append(ShopStore(ids[store.code], prefix, offset, store.is_online))
        if store.city is not None:
            result.by_city.setdefault(store.city, []).append(index)
    return result


def _store_row(store: DemoStore, streets: list[str], rng: random.Random, now: datetime) -> dict[str, Any]:
    city = CITIES[store.city] if store.city is not None else None
    return {
        "code": store.code,
        "name": store.name,
        "city": city.name if city else None,
        "region": city.region if city else None,
        "address": f"{rng.choice(streets)}, {rng.randint(1, 150)}" if city else None,
        "time_zone": city.time_zone if city else ONLINE_TIME_ZONE,
        "is_online": store.is_online,
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }


def load_catalogue(repository: DemoRepository, rng: random.Random, now: datetime) -> Catalogue:
    classifier = repository.system_classifier_id()
    tops = repository.ensure_categories(
        classifier, [{"code": d.code, "name": d.name} for d in DEPARTMENTS], None, now
    )
    subcategories: dict[str, tuple[int, str]] = {}
    for department in DEPARTMENTS:
        rows = [{"code": f"{department.code}-{s.code}", "name": s.name} for s in department.subcategories]
        subcategories |= repository.ensure_categories(classifier, rows, tops[department.code], now)
    demo = build_products(rng)
    found = repository.ensure_products(classifier, [_product_row(p, subcategories) for p in demo])
    products = [
        ShopProduct(found[p.sku][0], found[p.sku][1] or 0, p.sku, p.price, p.by_weight, p.department)
        for p in demo
    ]
    snapshots = {
        product.id: json.dumps(
            {"sku": demo_product.sku, "name": demo_product.name, "price": _money(product.price)}
        )
        for product, demo_product in zip(products, demo, strict=True)
    }
    names = {f"{d.code}-{s.code}": s.name for d in DEPARTMENTS for s in d.subcategories}
    category_snapshots = {
        id_: (code, json.dumps({"code": code, "name": names[code]}))
        for code, (id_, _) in subcategories.items()
    }
    return Catalogue(products, snapshots, category_snapshots)


def _product_row(product: DemoProduct, subcategories: dict[str, tuple[int, str]]) -> dict[str, Any]:
    category = subcategories[f"{DEPARTMENTS[product.department].code}-{product.subcategory}"][0]
    return {
        "sku": product.sku,
        "name": product.name,
        "price": product.price,
        "stock": None,
        "category_id": category,
        "url": f"{SITE}/product/{product.sku}",
        "is_active": True,
        "custom": {},
    }


def _money(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"
