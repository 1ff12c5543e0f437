"""Site triggers (the tracker): a product added to a container, a page viewed, a product viewed, a product
category viewed, the site visited.

Views and visits come from `web_event.occurred` (the ids of the web events a batch stored, read in one
query); container additions from `container.changed` (the API's and the tracker's alike). A visitor's
anonymous history attached to a customer when it identifies (`customer.identified`) enters nobody: it
happened before the customer was known, and is not new behaviour. Each web event enters its customer once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import register
from smartcomm.campaigns.triggers import lookups
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.campaigns.triggers.common import (
    Code,
    Phrase,
    ProductChoice,
    SourceChoice,
    category_field,
    category_problems,
    chosen_products,
    product_context,
    product_problems,
    source_problems,
)
from smartcomm.campaigns.triggers.events import web_event_context, web_events_of
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.kit.types import RowId
from smartcomm.models.containers import CART_CODE

ADDING = frozenset({"add", "set"})  # a container change that puts products in


class ContainerSettings(ProductChoice):
    container: Code = Field(default=CART_CODE, title=lazy("Container (code)"))
    product_category_id: RowId | None = category_field()  # or a product of this category


@register
class AddedToContainer(Trigger):
    name = "trigger.added_to_container"
    family = "site"
    needs = "tracker"
    label = lazy("Added a product to a container")
    description = lazy(
        "A product put in the cart, the wishlist or another container (optionally chosen ones)"
    )
    icon = "ti-basket-plus"
    settings_model = ContainerSettings
    listens = frozenset({"container.changed"})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        session = context.session
        problems = product_problems(session, settings, required=False)
        problems += category_problems(session, settings.product_category_id, required=False)
        if not lookups.container_exists(session, settings.container):
            problems.append(("container", str(lazy("No container with this code"))))
        return problems

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        changes = [
            (event, change)
            for event in events
            for change in event.payload.get("changes") or ()
            if change.get("container") == settings.container
            and change.get("action") in ADDING
            and change.get("customer_id") is not None
        ]
        added = [product_id for _, change in changes for product_id in _put_in(change)]
        found = lookups.products(session, added)
        wanted = _ProductFilter(session, settings, found)
        entries = []
        for event, change in changes:
            matched = [each for each in _put_in(change) if wanted.takes(each)]
            if matched:
                context = {"container": settings.container, "occurred_at": change.get("occurred_at")}
                context |= product_context(found, matched)
                occurrence = f"container:{event.id}:{settings.container}"
                entries.append(Entry(int(change["customer_id"]), occurrence, context))
        return entries


def _put_in(change: dict[str, Any]) -> list[int]:
    """The products a container change put in (a quantity set to 0 takes a product out)."""
    return [
        int(item["product_id"])
        for item in change.get("items") or ()
        if change.get("action") == "add" or item.get("quantity") is None or Decimal(item["quantity"]) > 0
    ]


class _ProductFilter:
    """Whether a product is one the settings chose: any product when none is chosen; else one of the
    chosen products or of the chosen category and its subcategories."""

    def __init__(self, session: Session, settings: Any, found: dict[int, dict[str, Any]]) -> None:
        self.any = settings.any_product and settings.product_category_id is None
        self.products = set() if self.any else chosen_products(session, settings)
        self.categories = lookups.subtree_ids(session, settings.product_category_id)
        self.found = found

    def takes(self, product_id: int | None, category_id: int | None = None) -> bool:
        if self.any:
            return True
        if product_id in self.products:
            return True
        if category_id is None and product_id is not None:
            category_id = (self.found.get(product_id) or {}).get("category_id")
        return category_id is not None and category_id in self.categories


# --- views and visits ----------------------------------------------------------------------------------


class _ViewTrigger(Trigger):
    """A trigger on the customers' web events of `kinds`, filtered by the settings (`_takes`)."""

    family = "site"
    needs = "tracker"
    listens = frozenset({"web_event.occurred"})
    kinds: ClassVar[frozenset[str]]

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return source_problems(context.session, settings.source_id)

    def _filter(self, session: Session, settings: Any) -> Any:
        return None

    def _takes(self, settings: Any, row: Any, wanted: Any) -> bool:
        return True

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        rows = web_events_of(session, events, self.kinds)
        wanted = self._filter(session, settings) if rows else None
        return [
            Entry(row.customer_id, f"web_event:{row.id}", web_event_context(row))
            for row in rows
            if (settings.source_id is None or row.source_id == settings.source_id)
            and self._takes(settings, row, wanted)
        ]


class PageSettings(SourceChoice):
    # Both compared without regard to case; empty: any page.
    url_contains: Phrase | None = Field(default=None, title=lazy("The page address contains"))
    section: Phrase | None = Field(default=None, title=lazy("Section name"))


@register
class ViewedPage(_ViewTrigger):
    name = "trigger.viewed_page"
    label = lazy("Viewed a page on the site")
    description = lazy("A page view whose address contains a text or whose section has a name")
    icon = "ti-file-search"
    settings_model = PageSettings
    kinds = frozenset({"visit", "section_view"})  # the first page of a session is the visit

    def _takes(self, settings: Any, row: Any, wanted: Any) -> bool:
        if settings.url_contains and settings.url_contains.casefold() not in (row.url or "").casefold():
            return False
        return not settings.section or settings.section.casefold() == (row.section or "").casefold()


class ProductViewSettings(ProductChoice, SourceChoice):
    product_category_id: RowId | None = category_field()  # or a product of this category


@register
class ViewedProduct(_ViewTrigger):
    name = "trigger.viewed_product"
    label = lazy("Viewed a product on the site")
    description = lazy("A product page viewed: any product, chosen ones or those of a category")
    icon = "ti-eye"
    settings_model = ProductViewSettings
    kinds = frozenset({"product_view"})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        session = context.session
        problems = super().check(settings, context) + product_problems(session, settings, required=False)
        return problems + category_problems(session, settings.product_category_id, required=False)

    def _filter(self, session: Session, settings: Any) -> Any:
        return _ProductFilter(session, settings, {})

    def _takes(self, settings: Any, row: Any, wanted: Any) -> bool:
        return bool(wanted.takes(row.product_id, row.category_id))


class CategoryViewSettings(SourceChoice):
    product_category_id: RowId | None = category_field()


@register
class ViewedCategory(_ViewTrigger):
    name = "trigger.viewed_category"
    label = lazy("Viewed a product category on the site")
    description = lazy("A category page viewed: any category, or the chosen one and its subcategories")
    icon = "ti-layout-grid"
    settings_model = CategoryViewSettings
    kinds = frozenset({"category_view"})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        problems = super().check(settings, context)
        return problems + category_problems(context.session, settings.product_category_id, required=False)

    def _filter(self, session: Session, settings: Any) -> Any:
        return lookups.subtree_ids(session, settings.product_category_id)

    def _takes(self, settings: Any, row: Any, wanted: Any) -> bool:
        return settings.product_category_id is None or row.category_id in wanted


@register
class VisitedSite(_ViewTrigger):
    name = "trigger.visited_site"
    label = lazy("The customer visited the site")
    description = lazy("A new visit (session) on the site or app, optionally from one event source")
    icon = "ti-door-enter"
    settings_model = SourceChoice
    kinds = frozenset({"visit"})
