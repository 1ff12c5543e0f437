"""The catalogue over the API: classifiers, category trees, products and stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import Code, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.catalog.schemas import (
    CategoryBatchIn,
    CategoryBatchOut,
    CategoryNodeOut,
    ClassifierOut,
    ProductBatchIn,
    ProductBatchOut,
    ProductOut,
    StoreBatchIn,
    StoreBatchOut,
    StoreOut,
)
from smartcomm.catalog.service import catalog_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import NO_NUL_PATTERN, PageNumber

router = APIRouter(tags=["catalogue"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]


@router.get("/classifiers", response_model=list[ClassifierOut])
def list_classifiers(session: DbSession, _: Reader) -> list[ClassifierOut]:
    """The classifiers (catalogue versions), the main catalogue first."""
    return [ClassifierOut.model_validate(c) for c in catalog_service.classifiers(session)]


@router.get(
    "/classifiers/{code}/categories", response_model=list[CategoryNodeOut], responses=error_responses(404)
)
def classifier_categories(session: DbSession, _: Reader, code: Code) -> list[CategoryNodeOut]:
    """The classifier's category tree as a flat list in tree order (each category after its parent,
    siblings by name), with the parent's code, the level and the codes of the path from the top."""
    return catalog_service.category_tree(session, code)


@router.post("/categories/batch", response_model=CategoryBatchOut)
def upsert_categories(session: DbSession, principal: Writer, body: CategoryBatchIn) -> CategoryBatchOut:
    """Create or update up to 1,000 categories; a parent may come later in the batch or already exist."""
    return catalog_service.upsert_categories(session, principal.actor, body.categories)


@router.post("/products/batch", response_model=ProductBatchOut)
def upsert_products(session: DbSession, principal: Writer, body: ProductBatchIn) -> ProductBatchOut:
    """Create or update up to 1,000 products; earlier receipt lines with their SKUs get the product."""
    return catalog_service.upsert_products(session, principal.actor, body.products)


@router.get("/products/{sku}", response_model=ProductOut, responses=error_responses(404))
def get_product(
    session: DbSession,
    _: Reader,
    sku: Code,
    classifier: Annotated[
        str | None, Query(max_length=64, pattern=NO_NUL_PATTERN, description="Main catalogue when omitted")
    ] = None,
) -> ProductOut:
    """A product by SKU."""
    return catalog_service.product(session, sku, classifier)


@router.post("/stores/batch", response_model=StoreBatchOut)
def upsert_stores(session: DbSession, principal: Writer, body: StoreBatchIn) -> StoreBatchOut:
    """Create or update up to 1,000 stores by code; fields not sent stay unchanged."""
    return catalog_service.upsert_stores(session, principal.actor, body.stores)


@router.get("/stores", response_model=PageOut[StoreOut])
def list_stores(
    session: DbSession,
    _: Reader,
    page: PageNumber = 1,
    size: PageSize = 100,
) -> PageOut[StoreOut]:
    """Stores ordered by code."""
    return PageOut.of(catalog_service.stores(session, PageParams(page=page, size=size)), StoreOut)
