"""Customers → Orders (the list with its filters, totals and chart; the CSV import) and Settings → Order
statuses (the module switch and each dimension's statuses). The Orders pages exist only while the module
is on; the settings page is where it is turned on."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.imports.schemas import RowError
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.time import end_of_day, start_of_day
from smartcomm.kit.types import PathId
from smartcomm.models.orders import DIMENSIONS
from smartcomm.orders.display import DIMENSION_ICONS, DIMENSION_LABELS, badge_class, name_of
from smartcomm.orders.importer import ORDER_COLUMNS, ImportResult, OrderImport
from smartcomm.orders.repository import OrderFilter
from smartcomm.orders.schemas import OrderStatusIn, OrderStatusUpdate
from smartcomm.orders.service import DISABLED, order_service
from smartcomm.orders.statuses import order_status_service
from smartcomm.orders.views import orders_page, statuses_by_dimension
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm
from smartcomm.web.routes.data_settings.common import Editor, Viewer, apply_form, recent_history, refuse
from smartcomm.web.templating import flash, redirect, render

router = APIRouter()
Reader = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_VIEW))]
Importer = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_IMPORT))]

PAGE_SIZE = 25
SAMPLE = (
    "number;customer_external_id;created_at;store;general_status;delivery_status;payment_status;"
    "delivery_type;city;street;delivery_cost;payment_type;sku;name;quantity;price;line_discount\n"
    "W-1001;C-1001;2026-03-14 12:40;web;new;assembling;awaiting_payment;courier;Kazan;Baumana 1;300;card;"
    "COF-250;Coffee 250 g;2;450.00;\n"
    "W-1001;C-1001;2026-03-14 12:40;web;new;assembling;awaiting_payment;courier;Kazan;Baumana 1;300;card;"
    "MUG;Mug;1;990.00;90\n"
    "W-1002;C-1002;2026-03-15 09:05;web;completed;delivered;paid;pickup_point;Perm;;0;cash_on_delivery;"
    "TEA-100;Green tea;3;150.00;\n"
)
TURNED_ON = lazy("Orders are turned on.")
TURNED_OFF = lazy("Orders are turned off.")
# What each column holds, on the import page.
COLUMN_HINTS: dict[str, LazyString] = {
    "number": lazy("The order number; the same number again replaces the order"),
    "customer_external_id": lazy("The buyer: a customer already imported"),
    "created_at": lazy("When the order was placed: 2026-03-14 12:40, or with an offset (+03:00)"),
    "general_status": lazy("A code of the general statuses"),
    "delivery_status": lazy("A code of the delivery statuses"),
    "payment_status": lazy("A code of the payment statuses"),
    "total": lazy("Order total; the lines plus delivery when empty"),
    "cash_part": lazy("Paid in money; the total less the bonus part when empty"),
    "bonus_part": lazy("Paid with bonus points"),
    "delivery_cost": lazy("Delivery cost"),
    "discount": lazy("Discount on the order"),
    "store": lazy("Store code; an unknown code creates a store"),
    "carrier": lazy("Delivery service"),
    "country": lazy("Delivery address: country"),
    "city": lazy("Delivery address: city"),
    "street": lazy("Delivery address: street and house"),
    "customer_note": lazy("The customer's note to the order"),
    "payment_provider": lazy("Payment provider"),
    "delivery_type": lazy("courier, pickup or pickup_point"),
    "delivery_at": lazy("When the order is to be delivered"),
    "payment_type": lazy("card, cash or cash_on_delivery"),
    "sku": lazy("The product's SKU"),
    "name": lazy("The product's name as the shop shows it"),
    "quantity": lazy("1 when empty"),
    "price": lazy("Unit price"),
    "amount": lazy("Line total; quantity × price − discount when empty"),
    "weight": lazy("Weight, kg"),
    "line_discount": lazy("Discount on the line"),
    "bonus_accrued": lazy("Bonus accrued for the line"),
    "bonus_redeemed": lazy("Bonus redeemed on the line"),
    "line_cash_part": lazy("Paid in money for the line; the amount less bonus redeemed when empty"),
}


def _require_module(request: Request) -> None:
    if not request.state.general.orders_enabled:
        raise DomainError(DISABLED, status_code=404, code="orders_disabled")


# --- Customers → Orders


@dataclass(frozen=True)
class ListQuery:
    """The list's filters as typed in the address; values that make no sense are left out."""

    statuses: dict[str, int]
    start: date | None
    end: date | None
    number: str
    customer: int | None

    @classmethod
    def parse(cls, request: Request) -> ListQuery:
        given = request.query_params
        statuses = {d: int(given[d]) for d in DIMENSIONS if given.get(d, "").isdigit()}
        customer = given.get("customer", "")
        return cls(
            statuses,
            _day(given.get("start", "")),
            _day(given.get("end", "")),
            given.get("q", "").strip()[:64],
            int(customer) if customer.isdigit() and len(customer) < 19 else None,
        )

    def to_filter(self, zone: str) -> OrderFilter:
        start = start_of_day(self.start, zone) if self.start else None
        end = end_of_day(self.end, zone) if self.end else None
        return OrderFilter(self.statuses or None, start, end, self.number, self.customer)

    def query(self) -> str:
        """The filters as a query string ending in "&" (for the pager's links)."""
        values: dict[str, Any] = {**{d: str(i) for d, i in self.statuses.items()}, "q": self.number}
        values |= {"start": self.start or "", "end": self.end or "", "customer": self.customer or ""}
        return urlencode({key: value for key, value in values.items() if value}) + "&"


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/orders", response_class=HTMLResponse)
def list_orders(request: Request, session: DbSession, _: Reader, page: int = 1) -> Response:
    """Every order, newest first, filtered by status of each dimension, order date, number and customer."""
    _require_module(request)
    wanted = ListQuery.parse(request)
    zone = request.state.general.time_zone
    today = datetime.now(ZoneInfo(zone)).date()
    params = PageParams(page=max(page, 1), size=PAGE_SIZE)
    context = {
        "found": orders_page(session, wanted.to_filter(zone), params, zone, today),
        "wanted": wanted,
        "query": wanted.query(),
        "statuses": statuses_by_dimension(session),
        "dimensions": DIMENSION_LABELS,
        "status_name": name_of,
    }
    return render(request, "orders/list.html", context, fragment="orders/_results.html")


@router.get("/orders/import", response_class=HTMLResponse)
def import_page(request: Request, session: DbSession, _: Importer) -> Response:
    """The import form, with the file's columns."""
    _require_module(request)
    return _import_page(request, session, None)


@router.post("/orders/import", response_class=HTMLResponse)
def import_orders(request: Request, session: DbSession, principal: Importer, form: PostedForm) -> Response:
    """Import a CSV file of orders: all of it, or (with any wrong row) nothing."""
    _require_module(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        result = ImportResult("rejected", errors=[_no_file()])
        return _import_page(request, session, result, 422)
    with tempfile.TemporaryDirectory(prefix="smartcomm-orders-") as folder:
        path = Path(folder) / "orders.csv"
        path.write_bytes(upload.file.read())
        result = OrderImport(session, principal.actor).run(path, Path(upload.filename).name)
    if result.status != "done":
        session.rollback()
        return _import_page(request, session, result, 422)
    return _import_page(request, session, result)


def _no_file() -> RowError:
    return RowError(0, "file", "choose a CSV file")


def _import_page(
    request: Request, session: Session, result: ImportResult | None, status: int = 200
) -> HTMLResponse:
    context = {
        "result": result,
        "columns": ORDER_COLUMNS,
        "column_hints": COLUMN_HINTS,
        "statuses": statuses_by_dimension(session),
    }
    return render(request, "orders/import.html", context, status_code=status)


@router.get("/orders/import/sample.csv")
def import_sample(request: Request, _: Importer) -> Response:
    """A sample file: two orders, one of them with two lines."""
    headers = {"Content-Disposition": 'attachment; filename="orders-sample.csv"'}
    return Response(SAMPLE, media_type="text/csv; charset=utf-8", headers=headers)


# --- Settings → Order statuses


@router.get("/settings/order-statuses", response_class=HTMLResponse)
def status_settings(request: Request, session: DbSession, _: Viewer) -> Response:
    """The module switch and each dimension's statuses with their orders."""
    context = {
        "overview": order_status_service.overview(session),
        "dimensions": DIMENSION_LABELS,
        "icons": DIMENSION_ICONS,
        "enabled": request.state.general.orders_enabled,
        "status_name": name_of,
        "badge_class": badge_class,
    }
    return render(request, "settings/order_statuses/list.html", context)


@router.post("/settings/order-statuses/module")
def switch_module(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    enabled = form.get("enabled") == "true"
    order_service.set_enabled(session, principal.actor, enabled)
    flash(request, TURNED_ON if enabled else TURNED_OFF)
    return redirect(request, "/settings/order-statuses")


def _status_form(
    request: Request,
    session: Session,
    status_id: int | None,
    values: dict[str, Any],
    errors: FormErrors,
    status: int = 200,
) -> HTMLResponse:
    edited = order_status_service.get(session, status_id) if status_id else None
    context = {
        "edited": edited,
        "values": values,
        "errors": errors,
        "dimensions": DIMENSION_LABELS,
        "status_name": name_of,
        "orders": order_status_service.orders_in(session, edited) if edited else 0,
        "history": recent_history(session, "order_status", edited.id) if edited else [],
    }
    return render(request, "settings/order_statuses/form.html", context, status_code=status)


@router.get("/settings/order-statuses/new", response_class=HTMLResponse)
def new_status(request: Request, session: DbSession, _: Viewer, dimension: str = "general") -> Response:
    values = {"dimension": dimension if dimension in DIMENSIONS else "general", "include_in_analytics": True}
    return _status_form(request, session, None, values, {})


@router.post("/settings/order-statuses")
def create_status(request: Request, session: DbSession, principal: Editor, form: PostedForm) -> Response:
    _, errors, status = apply_form(
        session, OrderStatusIn, form, lambda data: order_status_service.create(session, principal.actor, data)
    )
    if errors:
        return _status_form(request, session, None, form, errors, status)
    flash(request, "The status was created.")
    return redirect(request, "/settings/order-statuses")


@router.get("/settings/order-statuses/{status_id}", response_class=HTMLResponse)
def edit_status(request: Request, session: DbSession, _: Viewer, status_id: PathId) -> Response:
    found = order_status_service.get(session, status_id)
    names = ("dimension", "code", "name", "include_in_analytics", "is_final", "position")
    return _status_form(request, session, found.id, {name: getattr(found, name) for name in names}, {})


@router.post("/settings/order-statuses/{status_id}")
def update_status(
    request: Request, session: DbSession, principal: Editor, status_id: PathId, form: PostedForm
) -> Response:
    order_status_service.get(session, status_id)
    _, errors, status = apply_form(
        session,
        OrderStatusUpdate,
        form,
        lambda data: order_status_service.update(session, principal.actor, status_id, data),
    )
    if errors:
        return _status_form(request, session, status_id, form, errors, status)
    flash(request, "The status was saved.")
    return redirect(request, "/settings/order-statuses")


@router.post("/settings/order-statuses/{status_id}/analytics")
def switch_analytics(
    request: Request, session: DbSession, principal: Editor, status_id: PathId, form: PostedForm
) -> Response:
    """Count the status's orders in the segment builder's metrics, or leave them out."""
    included = form.get("include_in_analytics") == "true"
    update = OrderStatusUpdate(include_in_analytics=included)
    order_status_service.update(session, principal.actor, status_id, update)
    return redirect(request, "/settings/order-statuses")


@router.post("/settings/order-statuses/{status_id}/delete")
def delete_status(request: Request, session: DbSession, principal: Editor, status_id: PathId) -> Response:
    try:
        order_status_service.delete(session, principal.actor, status_id)
    except DomainError as error:
        return refuse(request, session, error, f"/settings/order-statuses/{status_id}")
    flash(request, "The status was deleted.")
    return redirect(request, "/settings/order-statuses")
