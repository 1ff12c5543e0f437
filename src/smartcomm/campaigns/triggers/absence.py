"""Absence triggers (the site tracker): something a customer started on the site and did not finish.

- Lost cart on the site: the cart became abandoned — unchanged for the inactivity time of Settings → Site
  tracker, and no purchase since (`containers.abandoned`). Looked at every 5 minutes; the occurrence is the
  moment the cart became abandoned, so a cart changed and left again is a new entry, and the journey's
  context carries the cart's total and item count for filters and templates.
- Lost view on the site / of a category / of a product: a view N minutes or hours ago after which the
  customer put nothing of it into the cart and bought nothing. Looked at every 5 minutes; the customer's
  latest such view enters (its product and category in the context).
- Days since last visit: daily at the launch hour, the customer's last visit was exactly N days ago.

The 5-minute looks take the windows one after another, (last look, now], so each cart or view is seen in
exactly one window; a look repeated over the same window enters nobody twice (the occurrence).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import ColumnElement, Select, func, literal, select, true
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.triggers.base import Trigger, Window
from smartcomm.campaigns.triggers.schedule import (
    Daily,
    DailyTrigger,
    day_bounds,
    in_audience,
    iso_text,
    json_object,
    money_text,
    occurrence,
    one_per_customer,
)
from smartcomm.containers.abandoned import ViewKind, abandoned_between, viewed_without_cart
from smartcomm.kit.i18n import lazy
from smartcomm.models import Customer, WebEvent

LOOK_EVERY = timedelta(minutes=5)
UNITS = {"minutes": 1, "hours": 60}


class Frequent(Trigger):
    """A trigger looked at every few minutes."""

    scheduled = True
    family = "absence"
    needs = "tracker"

    def next_check(self, settings: Any, after: datetime, zone: ZoneInfo) -> datetime | None:
        return after + LOOK_EVERY


@register
class LostCart(Frequent):
    name = "trigger.lost_cart"
    label = lazy("Lost cart on the site")
    description = lazy("The customer left products in the cart and bought nothing for the inactivity time")
    icon = "ti-shopping-cart-x"

    def selection(self, session: Session, settings: Any, window: Window) -> Select[Any] | None:
        carts = abandoned_between(session, window.start, window.end).subquery("carts")
        return select(
            carts.c.customer_id,
            (literal("cart:") + iso_text(carts.c.abandoned_at)).label("occurrence"),
            json_object(
                cart_total=money_text(func.coalesce(carts.c.total, 0)),
                item_count=carts.c.item_count,
                abandoned_at=iso_text(carts.c.abandoned_at),
            ).label("context"),
        )


class ViewSettings(Settings):
    amount: Annotated[int, Field(ge=1, le=10_000, title=lazy("After"))] = 1
    unit: Literal["minutes", "hours"] = "hours"

    @property
    def delay(self) -> timedelta:
        return timedelta(minutes=self.amount * UNITS[self.unit])


class ProductViewSettings(ViewSettings):
    product_ids: Annotated[list[int], Field(max_length=500, title=lazy("Products (ids)"))] = Field(
        default_factory=list
    )


class CategoryViewSettings(ViewSettings):
    category_ids: Annotated[list[int], Field(max_length=500, title=lazy("Categories (ids)"))] = Field(
        default_factory=list
    )


class LostView(Frequent):
    """A view `delay` ago with nothing of it put into the cart and nothing bought since."""

    view_kind: ViewKind = "any"

    def selection(self, session: Session, settings: Any, window: Window) -> Select[Any] | None:
        delay = settings.delay
        views = viewed_without_cart(session, window.start - delay, window.end - delay, self.view_kind)
        rows = views.subquery("views")
        lost = select(
            rows.c.customer_id,
            (literal("view:") + iso_text(rows.c.viewed_at)).label("occurrence"),
            json_object(
                product_id=rows.c.product_id,
                category_id=rows.c.category_id,
                viewed_at=iso_text(rows.c.viewed_at),
            ).label("context"),
        ).where(self.chosen(settings, rows.c))
        return one_per_customer([lost], several_rows=True)  # the customer's latest lost view

    def chosen(self, settings: Any, columns: Any) -> ColumnElement[bool]:
        return true()


@register
class LostViewOnSite(LostView):
    name = "trigger.lost_view"
    label = lazy("Lost view on the site")
    description = lazy("The customer viewed a product or a category and put nothing of it into the cart")
    icon = "ti-eye-off"
    settings_model = ViewSettings


@register
class LostCategoryView(LostView):
    name = "trigger.lost_category_view"
    label = lazy("Lost view of category")
    description = lazy("The customer viewed a category and put none of its products into the cart")
    icon = "ti-category-minus"
    settings_model = CategoryViewSettings
    view_kind = "category"

    def chosen(self, settings: Any, columns: Any) -> ColumnElement[bool]:
        if not settings.category_ids:
            return super().chosen(settings, columns)
        condition: ColumnElement[bool] = columns.category_id.in_(settings.category_ids)
        return condition


@register
class LostProductView(LostView):
    name = "trigger.lost_product_view"
    label = lazy("Lost view of product on the site")
    description = lazy("The customer viewed a product and did not put it into the cart")
    icon = "ti-package-off"
    settings_model = ProductViewSettings
    view_kind = "product"

    def chosen(self, settings: Any, columns: Any) -> ColumnElement[bool]:
        if not settings.product_ids:
            return super().chosen(settings, columns)
        condition: ColumnElement[bool] = columns.product_id.in_(settings.product_ids)
        return condition


class VisitSettings(Daily):
    days: Annotated[int, Field(ge=1, le=3650)] = 30


@register
class DaysSinceLastVisit(DailyTrigger):
    name = "trigger.days_since_last_visit"
    family = "absence"
    label = lazy("Days since last visit to the site")
    description = lazy("The customer's last visit to the site was exactly N days ago")
    icon = "ti-door-exit"
    settings_model = VisitSettings
    needs = "tracker"

    def on(self, session: Session, settings: Any, day: date, zone: ZoneInfo) -> Select[Any] | None:
        start, end = day_bounds(day - timedelta(days=settings.days), zone)
        # Each customer's last visit, read off the (customer, kind, time) index: no scan of all web events.
        last_visit = (
            select(func.max(WebEvent.occurred_at))
            .where(WebEvent.customer_id == Customer.id, WebEvent.kind == "visit")
            .scalar_subquery()
        )
        visits = select(Customer.id.label("customer_id"), last_visit.label("at")).where(
            in_audience(Customer.id, settings.segment_id)
        )
        rows = visits.subquery("visits")
        return select(rows.c.customer_id, occurrence("last_visit", day)).where(
            rows.c.at >= start, rows.c.at < end
        )
