"""Names of the records every installation starts with, shown in the interface language.

The system fields, the "Unsubscribe reasons" dictionary, the cart and the other starting containers, the
main catalogue and the "Online store" source are stored with English names (API clients and imports see
those). The interface shows the translation instead, chosen by the record's stable code, for as long as
the stored name is still the one the installation started with: a name an administrator has changed is
theirs and is shown as it is.
"""

from __future__ import annotations

from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import Classifier, Container, Dictionary, DictionaryItem, EventSource, FieldDefinition

# (kind, code) → the starting name, marked for translation. Field kinds carry their object: "field:customer".
STARTING_NAMES: dict[tuple[str, str], LazyString] = {
    ("dictionary", "unsubscribe_reasons"): lazy("Unsubscribe reasons"),
    ("dictionary_item", "too_often"): lazy("I receive messages too often"),
    ("dictionary_item", "not_relevant"): lazy("The messages are not relevant to me"),
    ("container", "cart"): lazy("Cart"),
    ("container", "favourites"): lazy("Favourites"),
    ("container", "wishlist"): lazy("Wishlist"),
    ("container", "notify_on_arrival"): lazy("Notify on arrival"),
    ("container_description", "cart"): lazy("Products added to the cart"),
    ("container_description", "notify_on_arrival"): lazy("Waiting for the product to come back"),
    ("classifier", "default"): lazy("Main catalogue"),
    ("event_source", "online-store"): lazy("Online store"),
    ("field:customer", "external_id"): lazy("External id"),
    ("field:customer", "last_name"): lazy("Last name"),
    ("field:customer", "first_name"): lazy("First name"),
    ("field:customer", "middle_name"): lazy("Middle name"),
    ("field:customer", "gender"): lazy("Gender"),
    ("field:customer", "birth_date"): lazy("Birth date"),
    ("field:customer", "email"): lazy("E-mail"),
    ("field:customer", "phone"): lazy("Phone"),
    ("field:customer", "country"): lazy("Country"),
    ("field:customer", "region"): lazy("Region"),
    ("field:customer", "city"): lazy("City"),
    ("field:customer", "time_zone"): lazy("Time zone"),
    ("field:customer", "registered_at"): lazy("Registration date"),
    ("field:customer", "card_number"): lazy("Loyalty card number"),
    ("field:customer", "card_status"): lazy("Loyalty card status"),
    ("field:receipt", "number"): lazy("Number"),
    ("field:receipt", "purchased_at"): lazy("Date and time"),
    ("field:receipt", "store"): lazy("Store"),
    ("field:receipt", "status"): lazy("Status"),
    ("field:receipt", "total"): lazy("Total"),
    ("field:receipt", "discount"): lazy("Discount"),
    ("field:receipt", "bonus_earned"): lazy("Bonus earned"),
    ("field:receipt", "bonus_spent"): lazy("Bonus spent"),
    ("field:receipt", "item_count"): lazy("Number of items"),
    ("field:receipt_line", "sku"): lazy("Product SKU"),
    ("field:receipt_line", "quantity"): lazy("Quantity"),
    ("field:receipt_line", "price"): lazy("Price"),
    ("field:receipt_line", "amount"): lazy("Amount"),
    ("field:receipt_line", "discount"): lazy("Discount"),
    ("field:product", "sku"): lazy("SKU"),
    ("field:product", "name"): lazy("Name"),
    ("field:product", "price"): lazy("Price"),
    ("field:product", "stock"): lazy("Stock"),
    ("field:product", "category"): lazy("Category"),
    ("field:category", "code"): lazy("Code"),
    ("field:category", "name"): lazy("Name"),
    ("field:category", "parent"): lazy("Parent category"),
}

Named = FieldDefinition | Dictionary | DictionaryItem | Container | Classifier | EventSource


def display_name(kind: str, code: str | None, stored: str | None) -> str:
    """The stored name, or its translation while it is still the name the installation started with."""
    starting = STARTING_NAMES.get((kind, code or ""))
    if starting is not None and stored == str.__str__(starting):
        return str(starting)
    return stored or ""


def name_of(record: Named) -> str:
    """The name of a data-settings record as the interface shows it."""
    if isinstance(record, FieldDefinition):
        kind = f"field:{record.object}" if record.is_system else "custom"
        return display_name(kind, record.code, record.name)
    if isinstance(record, DictionaryItem):
        return display_name("dictionary_item", record.code, record.value)
    return display_name(_KINDS[type(record)], record.code, record.name)


def description_of(container: Container) -> str:
    return display_name("container_description", container.code, container.description)


_KINDS: dict[type, str] = {
    Dictionary: "dictionary",
    Container: "container",
    Classifier: "classifier",
    EventSource: "event_source",
}


# Parameters of segment conditions whose values may be starting records, and the kind of those records.
PARAMETER_KINDS = {"container": "container", "source": "event_source", "classifier": "classifier"}


def parameter_label(parameter_kind: str, stored: str) -> str:
    """The name of a value of a condition's parameter; a starting record's name translated (matched by
    the name itself, as a condition's labels carry no codes)."""
    kind = PARAMETER_KINDS.get(parameter_kind)
    for (starting_kind, _code), starting in STARTING_NAMES.items():
        if starting_kind == kind and stored == str.__str__(starting):
            return str(starting)
    return stored


def parameter_labels(labels: dict[str, str]) -> dict[str, str]:
    """Names of the ids a rule tree refers to ("container:3" → "Cart"), starting names translated."""
    return {key: parameter_label(key.partition(":")[0], name) for key, name in labels.items()}
