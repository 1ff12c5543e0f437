"""The mailing editor's form: posted fields named after the schema's paths (`sender.address`,
`variants[1].subject`, `attribution_rule.criteria.min_amount`) become the service's input, and a
mailing becomes the values the form shows. Errors are keyed by the same paths, so each is shown next to
its field whether pydantic or the service found it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import to_zone
from smartcomm.mailings.schemas import MailingCreate, MailingUpdate
from smartcomm.models import Mailing
from smartcomm.web.forms import FormErrors, field_errors

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_PART = re.compile(r"^([A-Za-z_]+)(?:\[(\d+)\])?$")
_SKU_SEPARATORS = re.compile(r"[\s,;]+")
BAD_MOMENT = lazy("Enter a date and time.")
# The mailing's fields the form shows as they are stored.
SHOWN_FIELDS = (
    *("name", "channel", "category_id", "template_version_id", "sms_template_version_id", "segment_id"),
    *("include_audience_ids", "exclude_audience_ids", "control_percent", "control_audience_id"),
    *("control_strata", "lifetime_hours", "rate_per_minute", "deliver_immediately"),
    *("exclude_global_control", "failure_limit", "watcher_group_ids", "ab_test", "attribution_rule"),
)


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"sender.name": "Shop", "variants[0].share": "50"}` → `{"sender": {"name": "Shop"},
    "variants": {0: {"share": "50"}}}` (list items keyed by their index until `_lists` orders them)."""
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        node, parts = nested, path.split(".")
        for position, part in enumerate(parts):
            found = _PART.match(part)
            if found is None:
                break
            last = position == len(parts) - 1
            name, index = found.group(1), found.group(2)
            if index is not None:
                node = node.setdefault(name, {}).setdefault(int(index), {})
                continue
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
    return nested


def payload(flat: dict[str, Any], channel: str, zone: str) -> tuple[dict[str, Any], FormErrors]:
    """The service's input from the posted form (switches resolved, the local time converted), and the
    errors of what could not even be read."""
    data, errors = nest(flat), {}
    data.pop("channel", None)
    ab_on, ab_auto = _on(data.pop("ab_enabled", None)), _on(data.pop("ab_auto", None))
    control_mode = data.pop("control_mode", None) or "percent"
    window = (data.get("attribution_rule") or {}).get("window") or "default"
    variants = [_variant(v, channel) for _, v in sorted((data.pop("variants", None) or {}).items())]
    data["variants"] = (
        [v for v in variants if any(value is not None for value in v.values())] if ab_on else []
    )
    data["ab_test"] = (data.get("ab_test") or None) if ab_on and ab_auto else None
    if control_mode == "audience":
        data["control_percent"] = 0
    else:
        data["control_audience_id"] = None
    data["sender"] = _sender(data.get("sender") or {}, channel)
    data["utm"] = {key: value for key, value in (data.get("utm") or {}).items() if value} or None
    data["attribution_rule"] = _rule(data.get("attribution_rule") or {}, window)
    for name in ("include_audience_ids", "exclude_audience_ids", "control_strata", "watcher_group_ids"):
        data[name] = data.get(name) or []
    if channel != "sms_viber":
        data["sms_template_version_id"] = None
    moment = data.get("scheduled_at")
    try:
        data["scheduled_at"] = _aware(moment, zone) if moment else None
    except ValueError:
        errors["scheduled_at"] = str(BAD_MOMENT)
        data["scheduled_at"] = None
    return data, errors


def validate_create(data: dict[str, Any]) -> tuple[MailingCreate | None, FormErrors]:
    try:
        return MailingCreate.model_validate(data), {}
    except ValidationError as error:
        return None, field_errors(error)


def validate_update(data: dict[str, Any]) -> tuple[MailingUpdate | None, FormErrors]:
    data = {key: value for key, value in data.items() if key != "channel"}
    try:
        return MailingUpdate.model_validate(data), {}
    except ValidationError as error:
        return None, field_errors(error)


def form_values(mailing: Mailing, zone: str) -> dict[str, Any]:
    """What the form shows for a saved mailing, in the shape `payload` reads back."""
    values: dict[str, Any] = {name: getattr(mailing, name) for name in SHOWN_FIELDS}
    values["sender"] = dict(mailing.sender or {})
    values["utm"] = dict(mailing.utm or {})
    values["variants"] = [dict(v) | {"share": _plain_number(v.get("share"))} for v in mailing.variants or []]
    values["scheduled_at"] = (
        to_zone(mailing.scheduled_at, zone).strftime(LOCAL_FORMAT) if mailing.scheduled_at else ""
    )
    return values | ui_switches(values)


def posted_values(flat: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """What the form shows again after a refusal: what was typed, switches included."""
    values = dict(data)
    values["scheduled_at"] = flat.get("scheduled_at") or ""
    values["ab_enabled"] = _on(flat.get("ab_enabled"))
    values["ab_auto"] = _on(flat.get("ab_auto"))
    values["control_mode"] = flat.get("control_mode") or "percent"
    values["variants"] = data.get("variants") or []
    values["ab_test"] = data.get("ab_test") or nest(flat).get("ab_test") or {}
    values["attribution_rule"] = nest(flat).get("attribution_rule") or {}
    return values


def ui_switches(values: dict[str, Any]) -> dict[str, Any]:
    rule = values.get("attribution_rule") or {}
    criteria = rule.get("criteria") or {}
    return {
        "ab_enabled": bool(values.get("variants")),
        "ab_auto": bool(values.get("ab_test")),
        "control_mode": "audience" if values.get("control_audience_id") else "percent",
        "attribution_rule": rule | {"window": rule.get("window") or "default", "criteria": criteria},
    }


def new_values(channel: str) -> dict[str, Any]:
    """A new mailing's form: nobody in the control group, the global control group excluded."""
    values: dict[str, Any] = {
        "channel": channel,
        "control_percent": 0,
        "exclude_global_control": True,
        "deliver_immediately": False,
        "sender": {},
        "utm": {},
        "variants": [],
        "ab_test": None,
        "attribution_rule": None,
        "include_audience_ids": [],
        "exclude_audience_ids": [],
        "control_strata": [],
        "watcher_group_ids": [],
        "scheduled_at": "",
    }
    return values | ui_switches(values)


def skus_text(values: dict[str, Any]) -> str:
    criteria = (values.get("attribution_rule") or {}).get("criteria") or {}
    skus = criteria.get("skus") or []
    return ", ".join(skus) if isinstance(skus, list) else str(skus)


# --- helpers ---------------------------------------------------------------------------------------------


def _on(value: Any) -> bool:
    return str(value).lower() in ("true", "on", "1")


def _variant(raw: dict[str, Any], channel: str) -> dict[str, Any]:
    variant = {
        "template_version_id": raw.get("template_version_id"),
        "sms_template_version_id": raw.get("sms_template_version_id") if channel == "sms_viber" else None,
        "subject": raw.get("subject") if channel == "email" else None,
        "sender": _sender(raw.get("sender") or {}, channel),
        "share": raw.get("share"),
    }
    return variant


def _sender(raw: dict[str, Any], channel: str) -> dict[str, Any] | None:
    names = ("name", "address", "reply_to") if channel == "email" else ("name",)
    sender = {name: raw.get(name) for name in names if raw.get(name)}
    return sender or None


def _rule(raw: dict[str, Any], window: str) -> dict[str, Any] | None:
    if window == "default":
        return None
    rule: dict[str, Any] = {"window": window}
    if window == "days":
        rule["days"] = raw.get("days")
    elif window == "range":
        rule["date_from"], rule["date_to"] = raw.get("date_from"), raw.get("date_to")
    criteria = dict(raw.get("criteria") or {})
    skus = criteria.get("skus")
    if isinstance(skus, str):
        criteria["skus"] = [s for s in _SKU_SEPARATORS.split(skus) if s]
    criteria = {key: value for key, value in criteria.items() if value not in (None, "", [])}
    if criteria and window != "off":
        rule["criteria"] = criteria
    return rule


def _aware(local: str, zone: str) -> datetime:
    """A `datetime-local` value read in the project time zone."""
    moment = datetime.strptime(local[:16], LOCAL_FORMAT)
    return moment.replace(tzinfo=ZoneInfo(zone))


def _plain_number(value: Any) -> Any:
    """50.0 shows as 50."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
