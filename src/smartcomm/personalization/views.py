"""What templates see: read-only views of a customer, their receipts and containers.

Each view lists the attributes a template may read (`template_attributes`); the sandbox refuses
everything else, so adding a field here is the one way to expose more data to templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from smartcomm.personalization import hooks
from smartcomm.personalization.runtime import current_state

PROFILE_FIELDS = (
    "id",
    "external_id",
    "first_name",
    "last_name",
    "middle_name",
    "full_name",
    "gender",
    "birth_date",
    "age",
    "email",
    "phone",
    "country",
    "region",
    "city",
    "time_zone",
    "registered_at",
    "card_number",
    "card_status",
)
PURCHASE_FIELDS = (
    "receipt_count",
    "total_amount",
    "average_receipt",
    "first_purchase_at",
    "last_purchase_at",
)


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


class RfmView:
    """The customer's RFM cell: scores 1–5 and the values they come from."""

    template_attributes: ClassVar[frozenset[str]] = frozenset(
        {"r", "f", "m", "cell", "recency_days", "frequency", "monetary"}
    )
    __slots__ = ("f", "frequency", "m", "monetary", "r", "recency_days")

    def __init__(self, r: int, f: int, m: int, recency_days: int, frequency: int, monetary: Decimal) -> None:
        self.r, self.f, self.m = r, f, m
        self.recency_days, self.frequency, self.monetary = recency_days, frequency, monetary

    @property
    def cell(self) -> str:
        return f"{self.r}{self.f}{self.m}"

    def __str__(self) -> str:
        return self.cell


class ProductView:
    """A product in a container or on a receipt line: name, price, image and link."""

    template_attributes: ClassVar[frozenset[str]] = frozenset(
        {"sku", "name", "price", "image", "link", "quantity", "category"}
    )
    __slots__ = ("category", "image", "link", "name", "price", "quantity", "sku")

    def __init__(
        self,
        sku: str,
        name: str,
        price: Decimal | None,
        image: str | None,
        link: str | None,
        quantity: Decimal | None = None,
        category: str | None = None,
    ) -> None:
        self.sku, self.name, self.price, self.image, self.link = sku, name, price, image, link
        self.quantity, self.category = quantity, category

    def __str__(self) -> str:
        return self.name


class LineView:
    """A receipt line: the product (name, image, link) with quantity, price and amount."""

    template_attributes: ClassVar[frozenset[str]] = frozenset(
        {"sku", "name", "quantity", "price", "amount", "discount", "image", "link", "position"}
    )
    __slots__ = ("amount", "discount", "image", "link", "name", "position", "price", "quantity", "sku")
    sku: str | None
    name: str | None
    quantity: Decimal | None
    price: Decimal | None
    amount: Decimal
    discount: Decimal | None
    image: str | None
    link: str | None
    position: int | None

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    def __str__(self) -> str:
        return str(self.name or self.sku)


class ReceiptView:
    """One of the customer's last receipts with its lines (newest receipt first)."""

    template_attributes: ClassVar[frozenset[str]] = frozenset(
        {
            "number",
            "purchased_at",
            "status",
            "total",
            "discount",
            "bonus_earned",
            "bonus_spent",
            "item_count",
            "store",
            "custom",
            "lines",
        }
    )
    __slots__ = (
        "bonus_earned",
        "bonus_spent",
        "custom",
        "discount",
        "item_count",
        "lines",
        "number",
        "purchased_at",
        "status",
        "store",
        "total",
    )
    number: str
    purchased_at: datetime | None
    status: str | None
    total: Decimal | None
    discount: Decimal | None
    bonus_earned: Decimal | None
    bonus_spent: Decimal | None
    item_count: Decimal | None
    store: str | None
    custom: dict[str, Any]
    lines: list[LineView]

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, values.get(name))
        self.lines = list(values.get("lines") or [])
        self.custom = dict(values.get("custom") or {})

    def __str__(self) -> str:
        return str(self.number)


class ContainerView:
    """One of the customer's lists (cart, favourites, …) with its products, most recently added first."""

    template_attributes: ClassVar[frozenset[str]] = frozenset(
        {"code", "name", "products", "count", "changed_at", "is_empty"}
    )
    __slots__ = ("changed_at", "code", "name", "products")

    def __init__(
        self, code: str, name: str, products: list[ProductView], changed_at: datetime | None = None
    ) -> None:
        self.code, self.name, self.products, self.changed_at = code, name, products, changed_at

    @property
    def count(self) -> int:
        return len(self.products)

    @property
    def is_empty(self) -> bool:
        return not self.products

    def __str__(self) -> str:
        return self.name


class ClientView:
    """The recipient: profile fields, custom fields (`client.custom.CODE`, `client.properties.CODE`),
    purchase aggregates, the RFM cell and the macros of later areas."""

    template_attributes: ClassVar[frozenset[str]] = frozenset(
        {
            *PROFILE_FIELDS,
            *PURCHASE_FIELDS,
            "rfm",
            "custom",
            "properties",
            "promocode",
            "last_promocode",
            "poll",
        }
    )
    __slots__ = (*PROFILE_FIELDS, *PURCHASE_FIELDS, "custom", "properties", "rfm")
    id: int | None
    external_id: str | None
    first_name: str | None
    last_name: str | None
    middle_name: str | None
    full_name: str | None
    gender: str | None
    birth_date: date | None
    age: int | None
    email: str | None
    phone: str | None
    country: str | None
    region: str | None
    city: str | None
    time_zone: str | None
    registered_at: datetime | None
    card_number: str | None
    card_status: str | None
    receipt_count: int | None
    total_amount: Decimal | None
    average_receipt: Decimal | None
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None
    custom: dict[str, Any]
    properties: dict[str, Any]
    rfm: RfmView | None

    def __init__(
        self, values: Mapping[str, Any], custom: Mapping[str, Any], rfm: RfmView | None = None
    ) -> None:
        for name in (*PROFILE_FIELDS, *PURCHASE_FIELDS):
            setattr(self, name, values.get(name))
        self.custom = dict(custom)
        self.rfm = rfm
        # The reference's `client.properties.full_name` style: every field, system or custom, by code.
        known = {name: values.get(name) for name in (*PROFILE_FIELDS, *PURCHASE_FIELDS)}
        self.properties = {**self.custom, **{k: v for k, v in known.items() if v is not None}}

    def promocode(self, group: str) -> str:
        """Issue a promo code of the group to this customer for this message."""
        return self._hook(hooks.PROMOCODE, group)

    def last_promocode(self, group: str) -> str:
        """The last promo code of the group issued to this customer."""
        return self._hook(hooks.LAST_PROMOCODE, group)

    def poll(self, code: str) -> str:
        """The customer's personal link to a poll."""
        return self._hook(hooks.POLL, code)

    def _hook(self, name: str, argument: str) -> str:
        state = current_state()
        issuing = None if state.preview else hooks.current_issuing()
        call = hooks.HookCall(name, self.id, argument, state.message_key, state.preview, issuing)
        return hooks.call(call)

    def __str__(self) -> str:
        return str(self.full_name or "")
