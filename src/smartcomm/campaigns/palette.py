"""What the canvas knows of every node kind: its palette entry (family, label, icon, outputs) and the form of
its settings, made from the kind's pydantic model.

The form is read off the model's JSON schema: numbers, text, dates, choices and switches become plain
inputs; the fields the product knows get their own widget (the segment builder for `rules`, the template
picker for `template_version_id`, selects of segments, audiences, polls, mailing categories), listed by kind
and field, so that a field of the same name in another kind is never taken for them (a new kind with such
a field joins its widget's list). Labels come from the field's own `title` when the kind gives one, else
from the names below, so a new kind gets readable labels without any editor code.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from smartcomm.campaigns import nodes as registry
from smartcomm.kit.i18n import LazyString, gettext_, lazy

GROUPS = {"trigger": lazy("Triggers"), "action": lazy("Actions")}
# Palette sections in the order shown; a family not listed goes at the end of its group.
FAMILIES: dict[str, LazyString] = {
    "purchases": lazy("Purchases"),
    "orders": lazy("Orders"),
    "customers": lazy("Customers"),
    "events": lazy("Events"),
    "site": lazy("Site"),
    "absence": lazy("Absence"),
    "dates": lazy("Dates"),
    "segments": lazy("Segments"),
    "polls": lazy("Polls"),
    "catalogue": lazy("Catalogue"),
    "loyalty": lazy("Loyalty"),
    "chaining": lazy("Campaigns"),
    "messages": lazy("Messages"),
    "flow": lazy("Flow"),
    "audiences": lazy("Audiences"),
    "staff": lazy("Staff"),
    "limits": lazy("Limits"),
    "tests": lazy("Tests"),
}
FIELD_LABELS: dict[str, LazyString] = {
    "amount": lazy("Amount"),
    "unit": lazy("Unit"),
    "date": lazy("Date"),
    "hour": lazy("Hour"),
    "rules": lazy("Conditions"),
    "template_version_id": lazy("Template"),
    "sms_template_version_id": lazy("SMS template"),
    "category_id": lazy("Mailing category"),
    "deliver_immediately": lazy("Ignore the customer's send-time window"),
    "lifetime_hours": lazy("Message lifetime, hours"),
    "sender_name": lazy("Sender name"),
    "sender_address": lazy("Sender address"),
    "reply_to": lazy("Reply-to"),
    "viber_cascade": lazy("Viber first, SMS when Viber does not arrive"),
    "minimum_total": lazy("Minimum receipt total"),
    "store_ids": lazy("Stores (ids)"),
    "name": lazy("Event name"),
    "context": lazy("Context values"),
    "segment_id": lazy("Segment"),
    "audience_id": lazy("Target audience"),
    "poll_id": lazy("Poll"),
    "limit": lazy("Limit"),
    "period": lazy("Period"),
    "percent": lazy("Share, %"),
    "variants": lazy("Variants"),
    "metric": lazy("Winner by"),
    "points": lazy("Points"),
    "title": lazy("Title"),
    "text": lazy("Text"),
    "image_url": lazy("Image URL"),
    "button_text": lazy("Button text"),
    "button_url": lazy("Button URL"),
    "days": lazy("Days"),
    "offset_days": lazy("Offset, days"),
    "comment": lazy("Comment"),
    "address": lazy("E-mail address"),
    "body": lazy("Text"),
    "email": lazy("Also by e-mail"),
    "user_ids": lazy("Staff users (ids)"),
    "email_node": lazy("The “Send e-mail” node"),
    "filter_node": lazy("The “Filter customers” node"),
    "settle_hours": lazy("Wait for the status, hours"),
}
# Where one kind's field means something else than the same name elsewhere.
KIND_FIELD_LABELS: dict[tuple[str, str], LazyString] = {
    ("action.wait", "amount"): lazy("How long"),
}
FIELD_HINTS: dict[str, LazyString] = {
    "deliver_immediately": lazy("Send at once, even at night in the customer's time zone."),
    "lifetime_hours": lazy("A message not sent by then is not sent at all."),
    "store_ids": lazy("Empty: any store."),
    "segment_id": lazy("Empty: every customer."),
    "sms_template_version_id": lazy("Sent to those Viber did not reach."),
}
OPTION_LABELS: dict[str, LazyString] = {
    "minutes": lazy("minutes"),
    "hours": lazy("hours"),
    "days": lazy("days"),
    "weeks": lazy("weeks"),
    "months": lazy("months"),
    "day": lazy("day"),
    "week": lazy("week"),
    "month": lazy("month"),
    "total": lazy("in total"),
    "opens": lazy("opens"),
    "clicks": lazy("clicks"),
    "orders": lazy("orders"),
    # Scheduled and catalogue triggers.
    "years": lazy("years"),
    "birthday": lazy("birthday"),
    "registration": lazy("registration"),
    "first_order": lazy("first order"),
    "last_order": lazy("last order"),
    "daily": lazy("every day"),
    "weekly": lazy("on weekdays"),
    "monthly": lazy("on a day of the month"),
    "created_at": lazy("order placed"),
    "delivery_at": lazy("delivery date"),
    "down": lazy("down"),
    "up": lazy("up"),
    "any": lazy("either way"),
}
OUTPUT_LABELS: dict[str, LazyString] = {
    "yes": lazy("Yes"),
    "no": lazy("No"),
    "over": lazy("Over the limit"),
    "control": lazy("Control group"),
    "undelivered": lazy("Undelivered"),
    "delivered": lazy("Delivered, not read"),
    "opened": lazy("Read, no click"),
    "clicked": lazy("Clicked"),
}
# The triggers that run at an hour of the day for every customer or a segment's members.
_SCHEDULED_TRIGGERS = (
    "trigger.anniversary",
    "trigger.bonus_expiration",
    "trigger.date_come_for_cheque",
    "trigger.date_come_for_client",
    "trigger.date_come_for_order",
    "trigger.date_has_come",
    "trigger.days_since_last_visit",
    "trigger.days_since_order",
    "trigger.days_since_receipt",
    "trigger.days_since_registration",
    "trigger.repeat_date",
)
_MESSAGE_ACTIONS = ("action.send_email", "action.send_push", "action.send_sms")
# Fields with a widget of their own (everything else is read off its JSON type): (field, widget) -> the
# kinds whose field it is. A name alone is not enough: another kind's `node` is no watched campaign's node.
_WIDGET_KINDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("rules", "rules"): ("trigger.customer_registered_filtered", "action.filter"),
    ("template_version_id", "template"): _MESSAGE_ACTIONS,
    ("sms_template_version_id", "template"): ("action.send_sms",),
    ("segment_id", "segment"): (
        *_SCHEDULED_TRIGGERS,
        *("trigger.segment_changed", "trigger.system_event", "action.select_segment"),
    ),
    ("audience_id", "audience"): ("trigger.audience_changed", "action.audience", "action.control_group"),
    ("poll_id", "poll"): ("trigger.poll_completed", "action.limit_poll"),
    ("category_id", "category"): _MESSAGE_ACTIONS,
    ("hour", "hour"): (*_SCHEDULED_TRIGGERS, "action.wait_until"),
    ("email_node", "node"): ("action.check_email_status",),
    ("filter_node", "node"): ("action.refresh_filter",),
    # "Action worked": another campaign, and one of its nodes (listed once the campaign is chosen).
    ("campaign_id", "campaign"): ("trigger.action_worked",),
    ("node", "watched_node"): ("trigger.action_worked",),
}
SPECIAL_WIDGETS: dict[tuple[str, str], str] = {
    (kind, field): widget for (field, widget), kinds in _WIDGET_KINDS.items() for kind in kinds
}
# A field naming another node of the same graph: the kinds it may name.
NODE_KINDS = {"email_node": ["action.send_email"], "filter_node": ["action.filter"]}
# A field shown only while a switch beside it is on.
SHOWN_WHEN = {"sms_template_version_id": "viber_cascade"}
EMAIL_ONLY = frozenset({"sender_address", "reply_to"})


def entries(modules: frozenset[str]) -> list[dict[str, Any]]:
    """Every kind as the palette shows it: triggers first, families in the product's order."""
    found = [entry(kind, modules) for kind in registry.kinds().values()]
    order = list(FAMILIES)
    return sorted(
        found,
        key=lambda e: (
            e["group"] != "trigger",
            order.index(e["family"]) if e["family"] in order else len(order),
            e["label"],
        ),
    )


def entry(kind: registry.NodeKind, modules: frozenset[str]) -> dict[str, Any]:
    defaults = default_settings(kind)
    outputs = outputs_of(kind, defaults)
    return {
        "name": kind.name,
        "group": kind.group,
        "group_label": str(GROUPS.get(kind.group, kind.group)),
        "family": kind.family,
        "family_label": family_label(kind.family),
        "label": str(kind.label),
        "description": str(kind.description),
        "icon": kind.icon,
        "channel": getattr(kind, "channel", None),
        "needs": kind.needs,
        "available": kind.needs is None or kind.needs in modules,
        "outputs": outputs,
        "output_labels": {output: output_label(kind, output) for output in outputs},
        "defaults": defaults,
        "fields": fields_of(kind),
        "settings_schema": kind.settings_model.model_json_schema(),
    }


def family_label(family: str) -> str:
    label = FAMILIES.get(family)
    return str(label) if label is not None else family.replace("_", " ").capitalize()


def output_label(kind: registry.NodeKind, output: str) -> str:
    if output in OUTPUT_LABELS:
        return str(OUTPUT_LABELS[output])
    if len(output) == 1 and output.isalpha():  # A/B variants: a, b, c…
        return gettext_("Variant %(name)s") % {"name": output.upper()}
    return str(kind.output_label(output))


def outputs_of(kind: registry.NodeKind, settings: dict[str, Any]) -> list[str]:
    """The kind's outputs for these settings (its defaults' when the settings do not parse yet)."""
    for candidate in (settings, default_settings(kind)):
        try:
            return kind.outputs(kind.parse(candidate))
        except Exception:  # noqa: S112 (any settings a user is half-way through typing)
            continue
    try:
        return kind.outputs(None)
    except Exception:
        return [registry.OUT]


def default_settings(kind: registry.NodeKind) -> dict[str, Any]:
    """The settings a new node starts with: each field's default, when it has one."""
    model = kind.settings_model
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            continue
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        if value not in (None, False, [], {}):
            values[name] = _plain(value)
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool, list, dict)):
        return value
    return str(value)


# --- the settings form -------------------------------------------------------------------------------


def fields_of(kind: registry.NodeKind) -> list[dict[str, Any]]:
    """The form of a kind's settings: one entry per field, in the model's order."""
    model = kind.settings_model
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    channel = getattr(kind, "channel", None)
    found = []
    for name, prop in schema.get("properties", {}).items():
        if name in EMAIL_ONLY and channel not in (None, "email"):
            continue
        field = _field(kind, name, prop, defs, name in required)
        known = KIND_FIELD_LABELS.get((kind.name, name))
        if known is not None and not (model.model_fields.get(name) and model.model_fields[name].title):
            field["label"] = str(known)
        found.append(field)
    return found


def _field(
    kind: registry.NodeKind, name: str, prop: dict[str, Any], defs: dict[str, Any], required: bool
) -> dict[str, Any]:
    model, channel = kind.settings_model, getattr(kind, "channel", None)
    spec, nullable = _unwrap(prop, defs)
    info = model.model_fields.get(name)
    field: dict[str, Any] = {
        "name": name,
        "label": _label(name, info.title if info is not None else None),
        "hint": _hint(name, info.description if info is not None else None),
        "required": required,
        "nullable": nullable,
        "default": prop.get("default"),
        "widget": SPECIAL_WIDGETS.get((kind.name, name)) or _widget(spec),
    }
    if field["widget"] == "template":
        field["channel"] = "sms" if name == "sms_template_version_id" else channel
    if name in NODE_KINDS:
        field["node_kinds"] = NODE_KINDS[name]
    if name in SHOWN_WHEN:
        field["shown_when"] = SHOWN_WHEN[name]
    field.update(_limits(spec))
    if "enum" in spec:
        field["options"] = [{"value": value, "label": _option_label(value)} for value in spec["enum"]]
    return field


def _unwrap(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The field's own schema without `anyOf [X, null]` and `$ref`, and whether it may be null."""
    nullable = False
    spec = prop
    if "anyOf" in spec:
        options = [option for option in spec["anyOf"] if option.get("type") != "null"]
        nullable = len(options) < len(spec["anyOf"])
        numeric = [option for option in options if option.get("type") in ("number", "integer")]
        spec = numeric[0] if numeric else options[0] if options else {}
    if "$ref" in spec:
        spec = defs.get(spec["$ref"].rsplit("/", 1)[-1], {})
    if "allOf" in spec and len(spec["allOf"]) == 1:
        spec = _unwrap(spec["allOf"][0], defs)[0]
    if "const" in spec:
        spec = {**spec, "enum": [spec["const"]]}
    return spec, nullable


def _widget(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    if "enum" in spec:
        return "select"
    if kind == "boolean":
        return "switch"
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        return {"date": "date", "date-time": "datetime", "time": "time"}.get(spec.get("format", ""), "text")
    if kind == "array" and spec.get("items", {}).get("type") in ("integer", "string"):
        return "tags"
    if kind == "object" and spec.get("additionalProperties", {}).get("type") == "string":
        return "pairs"
    return "json"


def _limits(spec: dict[str, Any]) -> dict[str, Any]:
    limits = {}
    for key, name in (("minimum", "min"), ("maximum", "max"), ("maxLength", "max_length")):
        if key in spec and abs(spec[key]) < 10**15:
            limits[name] = spec[key]
    if spec.get("type") == "integer":
        limits["step"] = 1
    if spec.get("type") == "array":
        limits["item_type"] = spec.get("items", {}).get("type")
    return limits


def _label(name: str, title: str | None) -> str:
    if title:
        return gettext_(title)
    known = FIELD_LABELS.get(name)
    return str(known) if known is not None else name.replace("_", " ").capitalize()


def _hint(name: str, description: str | None) -> str:
    if description:
        return gettext_(description)
    known = FIELD_HINTS.get(name)
    return str(known) if known is not None else ""


def _option_label(value: Any) -> str:
    known = OPTION_LABELS.get(str(value))
    return str(known) if known is not None else str(value).replace("_", " ")
