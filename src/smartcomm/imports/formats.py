"""The three import formats: their columns (field codes in the header) and the checks of their rows.

Every file starts with a header of field codes; values are trimmed and an empty cell means "no
value". Checkers turn raw rows into plain records that the writers store without further checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from smartcomm.customers.contacts import normalize_email, normalize_phone
from smartcomm.customers.schemas import CustomerIn
from smartcomm.imports.reading import (
    FileRejected,
    Moments,
    Units,
    convert,
    custom_values,
    fit,
    parse_date,
    parse_flag,
    text_value,
)
from smartcomm.imports.schemas import ErrorLog, RowError
from smartcomm.loyalty.import_columns import BONUS, BONUS_COLUMNS, BonusCells

CUSTOM_PREFIX = "custom."
LINE_CUSTOM_PREFIX = "line.custom."


@dataclass
class Layout:
    """Where each known column sits in a row; absent columns point at an always-empty extra cell."""

    names: list[str]
    positions: dict[str, int]
    custom: dict[str, int] = field(default_factory=dict)
    line_custom: dict[str, int] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return len(self.names)

    def at(self, name: str) -> int:
        return self.positions.get(name, self.width)

    def has(self, name: str) -> bool:
        return name in self.positions


@dataclass(frozen=True)
class ColumnSet:
    """The columns a kind accepts: system codes, and which objects' custom fields may appear."""

    system: tuple[str, ...]
    required: tuple[str, ...]
    custom_object: str
    line_custom_object: str | None = None

    def layout(self, header: Sequence[str], custom_types: dict[str, dict[str, str]]) -> Layout:
        names = [name.strip() for name in header]
        while names and not names[-1]:
            names.pop()  # a trailing delimiter
        errors = [*self._naming_errors(names), *self._unknown(names, custom_types)]
        errors += [RowError(1, name, "the column is required") for name in self.required if name not in names]
        if errors:
            raise FileRejected(errors)
        positions = {name: i for i, name in enumerate(names) if name in self.system}
        return Layout(
            names,
            positions,
            custom={n[len(CUSTOM_PREFIX) :]: i for i, n in enumerate(names) if n.startswith(CUSTOM_PREFIX)},
            line_custom={
                n[len(LINE_CUSTOM_PREFIX) :]: i
                for i, n in enumerate(names)
                if n.startswith(LINE_CUSTOM_PREFIX)
            },
        )

    def _naming_errors(self, names: list[str]) -> list[RowError]:
        errors = [
            RowError(1, f"column {i + 1}", "the column has no name") for i, n in enumerate(names) if not n
        ]
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                errors.append(RowError(1, name, "the column appears twice"))
            seen.add(name)
        return errors

    def _unknown(self, names: list[str], custom_types: dict[str, dict[str, str]]) -> list[RowError]:
        errors = []
        for name in filter(None, names):
            if name in self.system:
                continue
            if self.line_custom_object and name.startswith(LINE_CUSTOM_PREFIX):
                known = name[len(LINE_CUSTOM_PREFIX) :] in custom_types.get(self.line_custom_object, {})
            elif name.startswith(CUSTOM_PREFIX):
                known = name[len(CUSTOM_PREFIX) :] in custom_types.get(self.custom_object, {})
            else:
                errors.append(RowError(1, name, "unknown column"))
                continue
            if not known:
                errors.append(RowError(1, name, "unknown custom field (define it in Settings → Fields)"))
        return errors


@dataclass
class CheckContext:
    """What checking rows needs from the database, read once per import."""

    zone: ZoneInfo
    default_country: str
    custom_types: dict[str, dict[str, str]]
    customer_ids: Callable[[Iterable[str]], dict[str, int]]


Batch = list[tuple[int, list[str]]]


class RowChecker(Protocol):
    """Turns a batch of raw rows into records ready to write (a list, or columns); problems go to the
    error log."""

    def check(self, batch: Batch, log: ErrorLog) -> Sized: ...


# --- customers ----------------------------------------------------------------------------------

PERMISSION_COLUMNS = {
    "allow_email": "email",
    "allow_sms": "sms",
    "allow_viber": "viber",
    "allow_push": "push",
}
CUSTOMER_COLUMNS = ColumnSet(
    system=(
        "external_id",
        "first_name",
        "last_name",
        "middle_name",
        "gender",
        "birth_date",
        "email",
        "phone",
        "country",
        "region",
        "city",
        "time_zone",
        "registered_at",
        "card_number",
        "card_status",
        *PERMISSION_COLUMNS,
        *BONUS_COLUMNS,
    ),
    required=("external_id",),
    custom_object="customer",
)
CustomerRecord = tuple[int, str, dict[str, Any]]  # row, external id, column values to store


class CustomerRows:
    """Customer rows checked by the same schema as the API, contacts normalised on the way."""

    def __init__(self, layout: Layout, context: CheckContext) -> None:
        self.layout = layout
        self.context = context
        self.moments = Moments(context.zone)
        self.fields = [
            (n, i)
            for n, i in layout.positions.items()
            if n not in PERMISSION_COLUMNS and n not in BONUS_COLUMNS
        ]
        self.bonus = BonusCells(layout.positions)
        self.flags = [(n, i) for n, i in layout.positions.items() if n in PERMISSION_COLUMNS]
        self.custom = list(layout.custom.items())
        self.types = context.custom_types.get("customer", {})

    def check(self, batch: Batch, log: ErrorLog) -> list[CustomerRecord]:
        records: list[CustomerRecord] = []
        for row, cells in batch:
            errors: list[RowError] = []
            record = self._record(row, cells, errors)
            if errors or record is None:
                log.extend(errors)
            else:
                records.append(record)
        return records

    def _record(self, row: int, cells: list[str], errors: list[RowError]) -> CustomerRecord | None:
        problem = fit(cells, self.layout.width, row)
        if problem:
            errors.append(problem)
            return None
        data: dict[str, Any] = {name: cells[i].strip() or None for name, i in self.fields}
        if data.get("registered_at"):
            data["registered_at"] = convert(errors, row, "registered_at", data["registered_at"], self.moments)
        if data.get("birth_date"):
            data["birth_date"] = convert(errors, row, "birth_date", data["birth_date"], parse_date)
        flags = {name: convert(errors, row, name, cells[i].strip(), parse_flag) for name, i in self.flags}
        customer = self._validated(row, data, errors)
        custom = custom_values(errors, row, cells, self.custom, self.types, CUSTOM_PREFIX)
        bonus = self.bonus.read(row, cells, errors)
        if customer is None or errors:
            return None
        values = self._values(customer, data)
        values.update({name: flag for name, flag in flags.items() if flag is not None})
        if bonus is not None:
            values[BONUS] = bonus
        if self.custom:
            values["custom"] = custom
        return row, customer.external_id, values

    def _validated(self, row: int, data: dict[str, Any], errors: list[RowError]) -> CustomerIn | None:
        try:
            return CustomerIn.model_validate(data)
        except ValidationError as error:
            for item in error.errors():
                column = str(item["loc"][0]) if item["loc"] else "row"
                errors.append(RowError(row, column, str(item["msg"]).removeprefix("Value error, ")))
            return None

    def _values(self, customer: CustomerIn, data: dict[str, Any]) -> dict[str, Any]:
        values = {name: getattr(customer, name) for name in data if name not in ("email", "phone")}
        if "email" in data:
            email = normalize_email(customer.email) if customer.email else None
            values["email"] = email.value if email else None
            values["email_valid"] = bool(email and email.valid)
        if "phone" in data:
            phone = normalize_phone(customer.phone, self.context.default_country) if customer.phone else None
            values["phone"] = phone.value if phone else None
            values["phone_valid"] = bool(phone and phone.valid)
            values["phone_type"] = phone.type if phone else None
            # Fills the customer's time zone when none is known (see CustomerService._set_phone).
            values[PHONE_ZONE] = phone.time_zone if phone else None
        return values


PHONE_ZONE = "_phone_time_zone"


# --- products -----------------------------------------------------------------------------------

PRODUCT_COLUMNS = ColumnSet(
    system=(
        "sku",
        "name",
        "price",
        "stock",
        "category",
        "category_name",
        "parent_category",
        "url",
        "image_url",
        "is_active",
    ),
    required=("sku", "name"),
    custom_object="product",
)
CategoryRef = tuple[str, str | None, str | None]  # code, name, parent code
ProductRecord = tuple[int, str, dict[str, Any], CategoryRef | None]  # row, sku, values, category


class ProductRows:
    """Product rows; the category columns name a category that is created or updated with them."""

    def __init__(self, layout: Layout, context: CheckContext) -> None:
        self.layout = layout
        self.sets_category = layout.has("category")
        self.money = Units(2, max_digits=16)
        self.stock = Units(3, max_digits=15, negative=True)
        self.custom = list(layout.custom.items())
        self.types = context.custom_types.get("product", {})
        self.texts = [
            (n, layout.at(n), limit)
            for n, limit in (("name", 300), ("url", 1000), ("image_url", 1000))
            if layout.has(n)
        ]

    def check(self, batch: Batch, log: ErrorLog) -> list[ProductRecord]:
        records: list[ProductRecord] = []
        for row, cells in batch:
            errors: list[RowError] = []
            record = self._record(row, cells, errors)
            if errors or record is None:
                log.extend(errors)
            else:
                records.append(record)
        return records

    def _record(self, row: int, cells: list[str], errors: list[RowError]) -> ProductRecord | None:
        problem = fit(cells, self.layout.width, row)
        if problem:
            errors.append(problem)
            return None
        at, has = self.layout.at, self.layout.has
        sku = text_value(errors, row, "sku", cells[at("sku")].strip(), 64, True)
        values: dict[str, Any] = {
            n: text_value(errors, row, n, cells[i].strip(), limit, n == "name") or None
            for n, i, limit in self.texts
        }
        if has("price"):
            values["price"] = _decimal(
                convert(errors, row, "price", cells[at("price")].strip(), self.money), 2
            )
        if has("stock"):
            values["stock"] = _decimal(
                convert(errors, row, "stock", cells[at("stock")].strip(), self.stock), 3
            )
        active = convert(errors, row, "is_active", cells[at("is_active")].strip(), parse_flag)
        if active is not None:
            values["is_active"] = active
        if self.custom:
            values["custom"] = custom_values(errors, row, cells, self.custom, self.types, CUSTOM_PREFIX)
        category = self._category(row, cells, errors)
        return None if errors else (row, sku, values, category)

    def _category(self, row: int, cells: list[str], errors: list[RowError]) -> CategoryRef | None:
        at = self.layout.at
        code = text_value(errors, row, "category", cells[at("category")].strip(), 64, False)
        name = text_value(errors, row, "category_name", cells[at("category_name")].strip(), 200, False)
        parent = text_value(errors, row, "parent_category", cells[at("parent_category")].strip(), 64, False)
        if not code:
            for column, given in (("category_name", name), ("parent_category", parent)):
                if given:
                    errors.append(RowError(row, column, "needs a category code in the category column"))
            return None
        if parent == code:
            errors.append(RowError(row, "parent_category", "a category cannot be its own parent"))
        return code, name or None, parent or None


def _decimal(units: int | None, places: int) -> Decimal | None:
    return None if units is None else Decimal(units).scaleb(-places)


# --- receipts ---------------------------------------------------------------------------------

RECEIPT_COLUMNS = ColumnSet(
    system=(
        "number",
        "store",
        "customer_external_id",
        "purchased_at",
        "status",
        "total",
        "discount",
        "bonus_earned",
        "bonus_spent",
        "sku",
        "quantity",
        "price",
        "amount",
        "line_discount",
    ),
    required=("number", "store", "customer_external_id", "purchased_at", "sku", "price"),
    custom_object="receipt",
    line_custom_object="receipt_line",
)
