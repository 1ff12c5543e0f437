"""CSV import of orders: one row per order line, the order's own columns repeated on each of its rows
(the receipts' format, which shop systems already export). Rows of one order need not be adjacent.

Every row is checked first (types, lengths, status codes of the dictionary, customers that must exist,
rows of one order that agree); any problem rejects the file, reported by line and column, and nothing is
written. Otherwise the orders are written in the caller's transaction through the same writer as the API
(replacing orders already stored under their numbers) and one `orders.imported` event is published.
The file's reading (CSV dialect, UTF-8, numbers, dates) is the one of the customers and receipts imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.catalog.lookups import ProductLookup, StoreLookup
from smartcomm.customers.repository import CustomerRepository
from smartcomm.imports.formats import ColumnSet, Layout
from smartcomm.imports.reading import (
    CsvFile,
    FileRejected,
    Moments,
    Units,
    convert,
    fit,
    required,
    text_value,
)
from smartcomm.imports.schemas import ErrorLog, RowError
from smartcomm.kit.outbox import publish
from smartcomm.models.orders import DELIVERY_TYPES, DIMENSIONS, PAYMENT_TYPES
from smartcomm.orders.book import StatusBook
from smartcomm.orders.writer import LineRecord, OrderRecord, OrderWriter
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

MAX_ROWS = 100_000  # larger exports go through the API's batches, or several files
BATCH_ROWS = 10_000
CENT = Decimal("0.01")
DISAGREES = "the order values differ from an earlier row of this order"
ORDER_TEXTS = {
    "store": 64,
    "carrier": 200,
    "country": 100,
    "city": 200,
    "street": 500,
    "customer_note": 2000,
    "payment_provider": 200,
}
ORDER_MONEY = ("total", "cash_part", "bonus_part", "delivery_cost", "discount")
CHOICES = {"delivery_type": DELIVERY_TYPES, "payment_type": PAYMENT_TYPES}
STATUS_COLUMNS = tuple(f"{dimension}_status" for dimension in DIMENSIONS)
# Line amounts with a column of their own: column → line field.
LINE_MONEY = {
    "line_discount": "discount",
    "bonus_accrued": "bonus_accrued",
    "bonus_redeemed": "bonus_redeemed",
}
ORDER_COLUMNS = ColumnSet(
    system=(
        "number",
        "customer_external_id",
        "created_at",
        *STATUS_COLUMNS,
        *ORDER_MONEY,
        *ORDER_TEXTS,
        "delivery_type",
        "delivery_at",
        "payment_type",
        "sku",
        "name",
        "quantity",
        "price",
        "amount",
        "weight",
        *LINE_MONEY,
        "line_cash_part",
    ),
    required=("number", "customer_external_id", "created_at", "sku", "price"),
    custom_object="order",
)


@dataclass
class ImportResult:
    status: str  # done | rejected
    rows: int = 0
    orders: int = 0
    created: int = 0
    replaced: int = 0
    error_rows: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Order:
    row: int  # the first row of the order
    header: dict[str, Any]
    lines: list[LineRecord] = field(default_factory=list)


def _decimal(units: int | None, places: int = 2) -> Decimal | None:
    return None if units is None else Decimal(units).scaleb(-places)


class OrderRows:
    """Checks rows one by one into orders (by number) with their lines; problems go to the log."""

    def __init__(self, layout: Layout, book: StatusBook, zone: ZoneInfo) -> None:
        self.layout = layout
        self.book = book
        self.money = Units(2, max_digits=16)
        self.quantity = Units(3, max_digits=15, positive=True)
        self.weight = Units(3, max_digits=15)
        self.moments = Moments(zone)
        self.orders: dict[str, _Order] = {}

    def check(self, batch: list[tuple[int, list[str]]], log: ErrorLog) -> None:
        for row, cells in batch:
            errors: list[RowError] = []
            self._row(row, cells, errors)
            log.extend(errors)

    def _row(self, row: int, cells: list[str], errors: list[RowError]) -> None:
        problem = fit(cells, self.layout.width, row)
        if problem:
            errors.append(problem)
            return
        cell = self._cells(cells)
        number = text_value(errors, row, "number", cell("number"), 64, True)
        header = self._header(row, cell, errors)
        line = self._line(row, cell, errors)
        if errors or line is None:
            return
        order = self.orders.setdefault(number, _Order(row, header))
        if order.header != header:
            errors.append(RowError(row, "number", DISAGREES))
            return
        order.lines.append(line)

    def _cells(self, cells: list[str]) -> Any:
        at = self.layout.at
        return lambda name: cells[at(name)].strip()

    def _header(self, row: int, cell: Any, errors: list[RowError]) -> dict[str, Any]:
        customer = cell("customer_external_id")
        header: dict[str, Any] = {
            "customer_external_id": text_value(errors, row, "customer_external_id", customer, 64, True),
            "created_at": required(errors, row, "created_at", cell("created_at"), self.moments),
            "delivery_at": convert(errors, row, "delivery_at", cell("delivery_at"), self.moments),
        }
        for name in ORDER_MONEY:
            header[name] = _decimal(convert(errors, row, name, cell(name), self.money))
        for name, limit in ORDER_TEXTS.items():
            header[name] = text_value(errors, row, name, cell(name), limit, False) or None
        for name, allowed in CHOICES.items():
            header[name] = self._choice(row, name, cell(name), allowed, errors)
        for dimension, column in zip(DIMENSIONS, STATUS_COLUMNS, strict=True):
            header[dimension] = self._status(row, dimension, column, cell(column), errors)
        return header

    def _choice(
        self, row: int, column: str, text: str, allowed: tuple[str, ...], errors: list[RowError]
    ) -> str | None:
        if text and text not in allowed:
            errors.append(RowError(row, column, f"one of {', '.join(allowed)}"))
        return text or None

    def _status(self, row: int, dimension: str, column: str, code: str, errors: list[RowError]) -> int | None:
        if not code:
            return None
        entry = self.book.find(dimension, code)
        if entry is None:
            errors.append(RowError(row, column, f"no {dimension} status with this code"))
            return None
        return entry.id

    def _line(self, row: int, cell: Any, errors: list[RowError]) -> LineRecord | None:
        def money(column: str, default: int | None = None) -> Any:
            return convert(errors, row, column, cell(column), self.money, default)

        sku = text_value(errors, row, "sku", cell("sku"), 64, True)
        name = text_value(errors, row, "name", cell("name"), 300, False) or None
        quantity = convert(errors, row, "quantity", cell("quantity"), self.quantity, 1000)
        price = required(errors, row, "price", cell("price"), self.money)
        amount, cash_part = money("amount"), money("line_cash_part")
        weight = convert(errors, row, "weight", cell("weight"), self.weight)
        extra = {key: money(column, 0) for column, key in LINE_MONEY.items()}
        if errors or price is None:
            return None
        line = LineRecord(
            sku=sku,
            name=name,
            quantity=Decimal(quantity).scaleb(-3),
            price=Decimal(price).scaleb(-2),
            amount=Decimal("0"),
            weight=_decimal(weight, 3),
            discount=Decimal(extra["discount"]).scaleb(-2),
            bonus_accrued=Decimal(extra["bonus_accrued"]).scaleb(-2),
            bonus_redeemed=Decimal(extra["bonus_redeemed"]).scaleb(-2),
        )
        gross = (line.quantity * line.price - line.discount).quantize(CENT)
        line.amount = Decimal(amount).scaleb(-2) if amount is not None else max(Decimal("0"), gross)
        paid = max(Decimal("0"), line.amount - line.bonus_redeemed)
        line.cash_part = Decimal(cash_part).scaleb(-2) if cash_part is not None else paid
        return line


class OrderImport:
    """One file imported in the caller's transaction: all of it, or nothing."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def run(self, path: Path, file_name: str) -> ImportResult:
        book = StatusBook.load(self.session)
        zone = ZoneInfo(settings_service.read(self.session, GeneralSettings).time_zone)
        log = ErrorLog()
        try:
            rows, count = self._check(path, book, zone, log)
        except FileRejected as rejected:
            return ImportResult("rejected", error_rows=1, errors=rejected.errors)
        customers = self._customers(rows, log)
        if log.count:
            return ImportResult("rejected", count, error_rows=log.error_rows, errors=log.report())
        records = self._records(rows, customers)
        result = OrderWriter(self.session, book).write(records, publish_events=False)
        self._announce(result.customer_ids, result.created, result.replaced, file_name)
        return ImportResult("done", count, len(records), result.created, result.replaced)

    def _check(self, path: Path, book: StatusBook, zone: ZoneInfo, log: ErrorLog) -> tuple[OrderRows, int]:
        with CsvFile(path) as csv:
            rows = OrderRows(ORDER_COLUMNS.layout(csv.header, {}), book, zone)
            count = 0
            for batch in csv.batches(BATCH_ROWS):
                count += len(batch)
                if count > MAX_ROWS:
                    too_many = RowError(batch[-1][0], "file", f"at most {MAX_ROWS:,} rows a file")
                    raise FileRejected([too_many])
                rows.check(batch, log)
        if count == 0:
            raise FileRejected([RowError(1, "file", "the file has a header but no rows")])
        return rows, count

    def _customers(self, rows: OrderRows, log: ErrorLog) -> dict[str, int]:
        wanted = [order.header["customer_external_id"] for order in rows.orders.values()]
        found = CustomerRepository(self.session).ids_by_external_ids(wanted)
        missing = [
            RowError(order.row, "customer_external_id", "no customer with this id")
            for order in rows.orders.values()
            if order.header["customer_external_id"] not in found
        ]
        log.extend(sorted(missing))
        return found

    def _records(self, rows: OrderRows, customers: dict[str, int]) -> list[OrderRecord]:
        orders = rows.orders
        store_codes = [order.header["store"] for order in orders.values() if order.header["store"]]
        stores = StoreLookup(self.session).ids(store_codes)
        skus = [line.sku for order in orders.values() for line in order.lines]
        products = ProductLookup(self.session).resolve(skus)
        records = []
        for number, order in orders.items():
            for line in order.lines:
                line.product_id, line.category_id = products[line.sku]
            records.append(_record(number, order, customers, stores))
        return records

    def _announce(self, customer_ids: set[int], created: int, replaced: int, file_name: str) -> None:
        publish(
            self.session,
            "orders.imported",
            customer_ids=customer_ids,
            payload={"created": created, "replaced": replaced},
        )
        audit_service.record(
            self.session,
            self.actor,
            object_type="order_import",
            object_id=file_name,
            action="import",
            changes={"created": [None, created], "replaced": [None, replaced]},
            object_label=file_name,
        )


def _record(number: str, order: _Order, customers: dict[str, int], stores: dict[str, int]) -> OrderRecord:
    header = order.header
    delivery = header["delivery_cost"] or Decimal("0")
    total = header["total"]
    if total is None:
        total = sum((line.amount for line in order.lines), delivery)
    bonus = header["bonus_part"] or Decimal("0")
    cash = header["cash_part"] if header["cash_part"] is not None else max(Decimal("0"), total - bonus)
    return OrderRecord(
        number=number,
        customer_id=customers[header["customer_external_id"]],
        created_at=header["created_at"],
        total=total,
        store_id=stores[header["store"]] if header["store"] else None,
        status_ids={dimension: header[dimension] for dimension in DIMENSIONS},
        cash_part=cash,
        bonus_part=bonus,
        delivery_cost=delivery,
        discount=header["discount"] or Decimal("0"),
        delivery_type=header["delivery_type"],
        carrier=header["carrier"],
        country=header["country"],
        city=header["city"],
        street=header["street"],
        delivery_at=header["delivery_at"],
        customer_note=header["customer_note"],
        payment_type=header["payment_type"],
        payment_provider=header["payment_provider"],
        lines=order.lines,
    )
