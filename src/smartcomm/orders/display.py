"""Names of the order statuses every installation starts with, and of the dimensions and delivery and
payment types, in the interface language.

Starting statuses are stored with English names (API clients and imports see those); the interface shows
the translation, chosen by the status's dimension and code, while the stored name is still the one the
installation started with. A name an administrator has changed is theirs and is shown as it is.
"""

from __future__ import annotations

from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import OrderStatus

STARTING_NAMES: dict[tuple[str, str], LazyString] = {
    ("general", "new"): lazy("New"),
    ("general", "confirmed"): lazy("Confirmed"),
    ("general", "in_progress"): lazy("In progress"),
    ("general", "completed"): lazy("Completed"),
    ("general", "cancelled"): lazy("Cancelled"),
    ("delivery", "assembling"): lazy("Assembling"),
    ("delivery", "shipped"): lazy("Shipped"),
    ("delivery", "at_pickup_point"): lazy("At the pickup point"),
    ("delivery", "delivered"): lazy("Delivered"),
    ("payment", "invoice_issued"): lazy("Invoice issued"),
    ("payment", "awaiting_payment"): lazy("Awaiting payment"),
    ("payment", "paid"): lazy("Paid"),
    ("payment", "refunded"): lazy("Refunded"),
}
DIMENSION_LABELS: dict[str, LazyString] = {
    "general": lazy("General status"),
    "delivery": lazy("Delivery status"),
    "payment": lazy("Payment status"),
}
DIMENSION_ICONS = {"general": "ti-package", "delivery": "ti-truck-delivery", "payment": "ti-credit-card"}
DELIVERY_TYPE_LABELS: dict[str, LazyString] = {
    "courier": lazy("Courier"),
    "pickup": lazy("Self-pickup"),
    "pickup_point": lazy("Pickup point"),
}
PAYMENT_TYPE_LABELS: dict[str, LazyString] = {
    "card": lazy("Card"),
    "cash": lazy("Cash"),
    "cash_on_delivery": lazy("Cash on delivery"),
}


def status_name(dimension: str, code: str, stored: str) -> str:
    """The stored name, or its translation while it is still the name the installation started with."""
    starting = STARTING_NAMES.get((dimension, code))
    if starting is not None and stored == str.__str__(starting):
        return str(starting)
    return stored


def name_of(status: OrderStatus) -> str:
    return status_name(status.dimension, status.code, status.name)


def badge_class(status: OrderStatus) -> str:
    """The colour of a status badge: red when the status leaves its orders out of analytics (cancelled,
    refunded), green when the order's story ends there, blue while it is under way."""
    if not status.include_in_analytics:
        return "bg-red-lt"
    return "bg-green-lt" if status.is_final else "bg-azure-lt"
