"""The changes of the action history as people read them: field labels, rules in words, formatted values.

Audit rows keep what changed as stored ({field key: [before, after]}, values as JSON). The history page
shows each change under the field's label (the name of a customer field as Settings → Fields shows it,
a custom field by its name, a subscription by its category and channel), yes/no for flags, dates in the
project time zone, roles and languages by name, a segment's conditions in words, and folds long values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Role
from smartcomm.datasettings.display import name_of, parameter_labels
from smartcomm.kit import i18n
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import AuditEntry, Container, FieldDefinition, MailingCategory
from smartcomm.segments.catalog import CHANNELS
from smartcomm.segments.describe import DescribedGroup, describe
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.service import segment_service

# Texts longer than this are folded: the first words show, the rest opens on a click.
FOLD_AT = 80
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")

LABELS: dict[str, LazyString] = {
    "name": lazy("Name"),
    "description": lazy("Description"),
    "code": lazy("Code"),
    "rules": lazy("Conditions"),
    "email": lazy("E-mail"),
    "phone": lazy("Phone"),
    "full_name": lazy("Full name"),
    "role": lazy("Role"),
    "language": lazy("Interface language"),
    "is_active": lazy("Active"),
    "expires_on": lazy("Access until"),
    "password": lazy("Password"),
    "allow_email": lazy("E-mail allowed"),
    "allow_sms": lazy("SMS allowed"),
    "allow_viber": lazy("Viber allowed"),
    "allow_push": lazy("Push allowed"),
    "push_tokens": lazy("Push tokens"),
    "format": lazy("Format"),
    "members": lazy("Members"),
    "member_count": lazy("Members now"),
    "added": lazy("Added"),
    "removed": lazy("Removed"),
    "already_members": lazy("Already members"),
    "not_members": lazy("Not members"),
    "unknown": lazy("Unknown ids"),
    "unmatched": lazy("Rows that matched nobody"),
    "segment": lazy("Segment"),
    "file": lazy("File"),
    "id_type": lazy("Ids in the file"),
    "rows": lazy("Rows"),
    "kind": lazy("Kind"),
    "imported_rows": lazy("Rows imported"),
    "error_rows": lazy("Rows with errors"),
    "classifier": lazy("Classifier"),
    "trigger": lazy("Started by"),
    "object": lazy("Object"),
    "type": lazy("Type"),
    "group": lazy("Group"),
    "show_in_profile": lazy("Shown in the profile"),
    "stored_values": lazy("Stored values"),
    "domain": lazy("Domain"),
    "write_key": lazy("Write key"),
    "for_tracker": lazy("Used by the tracker"),
    "customers_holding_items": lazy("Customers holding items"),
    "created": lazy("Created"),
    "replaced": lazy("Replaced"),
    "accepted": lazy("Accepted"),
    "duplicates": lazy("Duplicates"),
    "customers": lazy("Customers"),
    "receipts": lazy("Receipts"),
    "receipt_lines": lazy("Receipt lines"),
    "events": lazy("Events"),
    "visitors": lazy("Visitors"),
    "web_sessions": lazy("Web sessions"),
    "web_events": lazy("Web events"),
    "container_states": lazy("Containers"),
    "container_items": lazy("Container items"),
    "subscriptions": lazy("Subscriptions"),
    "company_name": lazy("Company name"),
    "logo_file_id": lazy("Logo"),
    "time_zone": lazy("Time zone"),
    "currency": lazy("Currency"),
    "default_language": lazy("Default language"),
    "sms_default_country": lazy("Default country of phone numbers"),
    "rebuild_interval_hours": lazy("Rebuild every (hours)"),
    "period_days": lazy("Period (days)"),
    "base_segment_id": lazy("Base segment"),
    "runs_per_day": lazy("Calculations a day"),
    "purchase_event": lazy("Purchase event"),
    "abandoned_cart_minutes": lazy("Cart is abandoned after (minutes)"),
    "abandoned_cart_keep_days": lazy("Keep abandoned carts for (days)"),
    "orders_enabled": lazy("Orders"),
    "manager_email_field": lazy("Manager e-mail field"),
    "reentry_minutes": lazy("Re-entry"),
    "exit_rules": lazy("Exit rules"),
    "exclude_global_control": lazy("Exclude the global control group"),
    "enabled": lazy("Effect measurement"),
    "source": lazy("How the group is formed"),
    "percent": lazy("Share of the base, %"),
    "cap": lazy("At most, customers"),
    "months": lazy("Stay duration, months"),
    "strata": lazy("Stratify by"),
    "seed": lazy("Seed"),
}
# What "name" means for each kind of record (a person's name elsewhere).
NAME_LABELS: dict[str, LazyString] = {
    "segment": lazy("Segment name"),
    "audience": lazy("Audience name"),
    "field": lazy("Display name"),
}
# Who the system acted as (stored as the actor's label), in the interface language.
SYSTEM_ACTORS: dict[str, LazyString] = {
    "command line": lazy("command line"),
    "demo data": lazy("demo data"),
    "first run": lazy("first run"),
    "installation": lazy("installation"),
    "activity expiration": lazy("activity expiration"),
    "data import": lazy("data import"),
    "audience import": lazy("audience import"),
    "global control group": lazy("global control group redraw"),
}
ROLE_KEYS = {"role"}
LANGUAGE_KEYS = {"language", "default_language"}


@dataclass(frozen=True)
class Value:
    """One side of a change: `kind` is empty, text, long (folded) or rules (with the worded tree)."""

    kind: str
    text: str = ""
    rules: DescribedGroup | None = None


@dataclass(frozen=True)
class Change:
    label: str
    before: Value
    after: Value


@dataclass
class _Names:
    """What the labels of one page of history need, read once: customer fields, categories, containers."""

    customer_fields: dict[str, str] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    containers: dict[str, str] = field(default_factory=dict)


class ChangeReader:
    """Turns the changes of a page of audit rows into labelled, formatted before/after pairs."""

    def __init__(self, session: Session, format_moment: Callable[[datetime], str]) -> None:
        self.session = session
        self.format_moment = format_moment
        self._names: _Names | None = None
        self._metrics: dict[str, Any] | None = None

    def read(self, entries: Sequence[AuditEntry]) -> dict[int, list[Change]]:
        """The readable changes of each entry, by entry id."""
        return {entry.id: self.changes(entry) for entry in entries}

    def changes(self, entry: AuditEntry) -> list[Change]:
        rows: list[Change] = []
        for key, pair in (entry.changes or {}).items():
            before, after = _pair(pair)
            if key == "custom" and isinstance(before or after, dict):
                rows += self._custom(before or {}, after or {})
            else:
                rows.append(
                    Change(
                        self.label(entry.object_type, key), self.value(key, before), self.value(key, after)
                    )
                )
        return rows

    # --- labels ----------------------------------------------------------------------------------------

    def label(self, object_type: str, key: str) -> str:
        if object_type == "customer":
            found = self._customer_label(key)
            if found is not None:
                return found
        if object_type == "dictionary" and key.startswith("items."):
            return i18n.gettext_("Item “%(code)s”") % {"code": key.removeprefix("items.")}
        known = NAME_LABELS.get(object_type) if key == "name" else None
        known = known or LABELS.get(key)
        return str(known) if known is not None else key.replace("_", " ").capitalize()

    def _customer_label(self, key: str) -> str | None:
        names = self.names()
        if key in names.customer_fields:
            return names.customer_fields[key]
        if key.startswith("containers."):
            code = key.removeprefix("containers.")
            return i18n.gettext_("Container “%(name)s”") % {"name": names.containers.get(code, code)}
        code, _dot, channel = key.rpartition(".")
        if code and channel in CHANNELS:
            category = names.categories.get(code, code)
            return i18n.gettext_("Subscription “%(category)s” · %(channel)s") % {
                "category": category,
                "channel": str(CHANNELS[channel]),
            }
        return None

    def _custom(self, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
        fields = self.names().customer_fields
        return [
            Change(
                fields.get(f"custom.{code}", code),
                self.value(code, before.get(code)),
                self.value(code, after.get(code)),
            )
            for code in sorted(set(before) | set(after))
            if before.get(code) != after.get(code)
        ]

    def names(self) -> _Names:
        if self._names is None:
            self._names = _read_names(self.session)
        return self._names

    # --- values ----------------------------------------------------------------------------------------

    def value(self, key: str, raw: Any) -> Value:
        if raw is None or raw == "" or raw == [] or raw == {}:
            return Value("empty", "—")
        if key == "rules" and isinstance(raw, dict):
            return self._rules(raw)
        return _text(self._plain(key, raw))

    def _plain(self, key: str, raw: Any) -> str:
        if isinstance(raw, bool):
            return i18n.gettext_("Yes") if raw else i18n.gettext_("No")
        if key in ROLE_KEYS and isinstance(raw, str):
            return _role(raw)
        if key in LANGUAGE_KEYS and isinstance(raw, str):
            return i18n.LANGUAGES.get(raw, raw)
        if isinstance(raw, int | float | Decimal):
            return _number(raw)
        if isinstance(raw, str):
            return self._string(raw)
        if isinstance(raw, dict) and all(isinstance(v, str | int | float) for v in raw.values()):
            return ", ".join(
                f"{k} × {v}" if key.startswith("containers.") else f"{k}: {v}" for k, v in raw.items()
            )
        return json.dumps(raw, ensure_ascii=False)

    def _string(self, raw: str) -> str:
        if ISO_MOMENT.fullmatch(raw):
            try:
                return self.format_moment(datetime.fromisoformat(raw.replace("Z", "+00:00")))
            except ValueError:
                return raw
        if ISO_DAY.fullmatch(raw):
            try:
                return _day(date.fromisoformat(raw))
            except ValueError:
                return raw
        return raw

    def _rules(self, raw: dict[str, Any]) -> Value:
        try:
            rules = SegmentRules.model_validate(raw)
        except ValidationError:
            return _text(json.dumps(raw, ensure_ascii=False))
        catalogue = segment_service.catalogue(self.session)
        conditions = [condition for _path, condition in rules.conditions()]
        names = parameter_labels(segment_service.labels(self.session, conditions, catalogue))
        return Value("rules", rules=describe(rules, {metric.key: metric for metric in catalogue}, names))


def actor_name(entry: AuditEntry) -> str:
    """Who made the change: a person as recorded, the system's own roles translated."""
    known = SYSTEM_ACTORS.get(entry.actor_label) if entry.actor_kind == "system" else None
    return str(known) if known is not None else entry.actor_label


def _pair(pair: Any) -> tuple[Any, Any]:
    if isinstance(pair, list | tuple) and len(pair) == 2:
        return pair[0], pair[1]
    return None, pair


def _text(text: str) -> Value:
    return Value("long" if len(text) > FOLD_AT else "text", text)


def _role(code: str) -> str:
    try:
        return str(Role(code).label)
    except ValueError:
        return code


def _number(value: int | float | Decimal) -> str:
    return str(format_decimal(value, locale=i18n.current_language()))


def _day(value: date) -> str:
    return str(format_date(value, format="medium", locale=i18n.current_language()))


def _read_names(session: Session) -> _Names:
    fields = session.scalars(select(FieldDefinition).where(FieldDefinition.object == "customer"))
    customer_fields = {
        (field.code if field.is_system else f"custom.{field.code}"): name_of(field) for field in fields
    }
    categories: dict[str, str] = dict(
        session.execute(select(MailingCategory.code, MailingCategory.name)).all()
    )
    containers = {container.code: name_of(container) for container in session.scalars(select(Container))}
    return _Names(customer_fields, categories, containers)
