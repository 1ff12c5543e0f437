"""Display names of audit actions, object types and actor kinds."""

from __future__ import annotations

from smartcomm.kit.i18n import LazyString, lazy

ACTION_LABELS: dict[str, LazyString] = {
    "create": lazy("Created"),
    "update": lazy("Changed"),
    "delete": lazy("Deleted"),
    "login": lazy("Signed in"),
    "logout": lazy("Signed out"),
    "end_sessions": lazy("Signed out other sessions"),
    "lock": lazy("Locked after failed sign-ins"),
    "expire": lazy("Expired"),
    "reset_password": lazy("Password reset"),
    "change_password": lazy("Password changed"),
    "token": lazy("API token issued"),
    "upsert": lazy("Loaded"),
    "subscriptions": lazy("Subscriptions changed"),
    "import": lazy("Imported"),
    "reorder": lazy("Reordered"),
    "add_members": lazy("Members added"),
    "remove_members": lazy("Members removed"),
    "build": lazy("Build started"),
    "export": lazy("Exported"),
    "run_again": lazy("Run again"),
    "test_send": lazy("Test message sent"),
    "send": lazy("Message sent"),
    "simulate": lazy("Simulated in the sandbox"),
    "confirm_email": lazy("E-mail confirmed"),
}

ACTION_CLASSES: dict[str, str] = {
    "create": "bg-green-lt",
    "update": "bg-blue-lt",
    "delete": "bg-red-lt",
    "lock": "bg-orange-lt",
    "expire": "bg-orange-lt",
    "reset_password": "bg-purple-lt",
    "change_password": "bg-purple-lt",
}

OBJECT_LABELS: dict[str, LazyString] = {
    "user": lazy("User"),
    "settings": lazy("Settings"),
    "customer": lazy("Customer"),
    "customer_batch": lazy("Customers (batch)"),
    "receipt_batch": lazy("Receipts (batch)"),
    "product_batch": lazy("Products (batch)"),
    "category_batch": lazy("Categories (batch)"),
    "store_batch": lazy("Stores (batch)"),
    "event_batch": lazy("Events (batch)"),
    "import": lazy("Data import"),
    "field": lazy("Field"),
    "dictionary": lazy("Dictionary"),
    "mailing_category": lazy("Mailing category"),
    "classifier": lazy("Classifier"),
    "event_source": lazy("Event source"),
    "container": lazy("Container"),
    "segment": lazy("Segment"),
    "audience": lazy("Target audience"),
    "rfm": lazy("RFM analysis"),
    "audience_import": lazy("Audience import"),
    "channel_provider": lazy("Channel provider"),
    "watcher_group": lazy("Watcher group"),
    "message": lazy("Message"),
}

ACTOR_KIND_LABELS: dict[str, LazyString] = {
    "user": lazy("staff user"),
    "api": lazy("API client"),
    "system": lazy("system"),
    "customer": lazy("the customer"),
}
