"""The one line a node card shows under its title ("Wait 3 days", "E-mail: Welcome (v4)"), and its outputs.

Kinds the product knows well have a sentence of their own; any other kind shows its first settings that
differ from the defaults ("Limit: 100 · Period: month"), so a new kind reads sensibly on the canvas at once.
Names of templates, segments and the like are read in one query per kind of name for the whole graph.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.campaigns import nodes as registry
from smartcomm.campaigns.palette import OPTION_LABELS, fields_of, output_label, outputs_of
from smartcomm.kit import i18n
from smartcomm.kit.i18n import gettext_, ngettext
from smartcomm.models import Audience, MailingCategory, MessageTemplate, MessageTemplateVersion, Poll, Segment

# The settings fields that name rows, and where their names come from.
NAMED_FIELDS = {
    "template_version_id": "templates",
    "sms_template_version_id": "templates",
    "segment_id": "segments",
    "audience_id": "audiences",
    "poll_id": "polls",
    "category_id": "categories",
}
SHOWN_SETTINGS = 2  # how many settings the generic line names


@dataclass
class Names:
    """Display names of the rows a graph's settings name, by table."""

    templates: dict[int, str] = field(default_factory=dict)
    segments: dict[int, str] = field(default_factory=dict)
    audiences: dict[int, str] = field(default_factory=dict)
    polls: dict[int, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)

    def of(self, table: str, value: Any) -> str | None:
        found: dict[int, str] = getattr(self, table)
        return found.get(value) if isinstance(value, int) else None


def names_for(session: Session, graph_nodes: Iterable[dict[str, Any]]) -> Names:
    """The names of every row the nodes' settings name (one query per table)."""
    wanted: dict[str, set[int]] = {table: set() for table in set(NAMED_FIELDS.values())}
    for node in graph_nodes:
        settings = node.get("settings") if isinstance(node, dict) else None
        for key, value in (settings if isinstance(settings, dict) else {}).items():
            if key in NAMED_FIELDS and _row_id(value):
                wanted[NAMED_FIELDS[key]].add(value)
    return Names(
        templates=_templates(session, wanted["templates"]),
        segments=_pairs(session, Segment, wanted["segments"]),
        audiences=_pairs(session, Audience, wanted["audiences"]),
        polls=_pairs(session, Poll, wanted["polls"]),
        categories=_pairs(session, MailingCategory, wanted["categories"]),
    )


def _row_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _templates(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    statement = (
        select(MessageTemplateVersion.id, MessageTemplate.name, MessageTemplateVersion.number)
        .join(MessageTemplate, MessageTemplate.id == MessageTemplateVersion.template_id)
        .where(MessageTemplateVersion.id.in_(sorted(ids)))
    )
    return {int(i): f"{name} (v{number})" for i, name, number in session.execute(statement)}


def _pairs(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    statement = select(model.id, model.name).where(model.id.in_(sorted(ids)))
    return {int(i): str(n) for i, n in session.execute(statement)}


def describe(graph_nodes: Iterable[dict[str, Any]], names: Names) -> dict[str, dict[str, Any]]:
    """Per node id: its outputs with their labels, and the line its card shows."""
    described = {}
    for node in graph_nodes:
        kind = registry.kind(str(node.get("kind")))
        if kind is None or not isinstance(node.get("id"), str):
            continue
        given = node.get("settings")
        settings: dict[str, Any] = given if isinstance(given, dict) else {}
        outputs = outputs_of(kind, settings)
        described[node["id"]] = {
            "outputs": outputs,
            "output_labels": {output: output_label(kind, output) for output in outputs},
            "summary": summary(kind, settings, names),
        }
    return described


def summary(kind: registry.NodeKind, settings: dict[str, Any], names: Names) -> str:
    special = SUMMARIES.get(kind.name)
    try:
        text = special(settings, names) if special is not None else None
    except (TypeError, ValueError, KeyError, AttributeError):  # settings half-way through typing
        text = None
    return text if text is not None else _generic(kind, settings, names)


# --- the kinds with a sentence of their own ------------------------------------------------------------


def _wait(settings: dict[str, Any], _: Names) -> str:
    amount, unit = int(settings.get("amount", 1)), str(settings.get("unit", "days"))
    forms = {
        "minutes": ngettext("%(num)s minute", "%(num)s minutes", amount),
        "hours": ngettext("%(num)s hour", "%(num)s hours", amount),
        "days": ngettext("%(num)s day", "%(num)s days", amount),
        "weeks": ngettext("%(num)s week", "%(num)s weeks", amount),
    }
    return gettext_("Wait %(span)s") % {"span": forms[unit] % {"num": _number(amount)}}


def _wait_until(settings: dict[str, Any], _: Names) -> str | None:
    if not settings.get("date"):
        return gettext_("Choose the date")
    return gettext_("Until %(moment)s") % {"moment": _moment(settings["date"], settings.get("hour", 10))}


def _send(channel_label: str) -> Callable[[dict[str, Any], Names], str]:
    def line(settings: dict[str, Any], names: Names) -> str:
        template = names.of("templates", settings.get("template_version_id"))
        if template is None:
            return gettext_("Choose the template")
        text = f"{gettext_(channel_label)}: {template}"
        fallback = names.of("templates", settings.get("sms_template_version_id"))
        if settings.get("viber_cascade") and fallback:
            text = f"Viber: {template} → SMS: {fallback}"
        return text

    return line


def _filter(settings: dict[str, Any], _: Names) -> str:
    conditions = _count_conditions((settings.get("rules") or {}).get("root") or {})
    if not conditions:
        return gettext_("No conditions: everyone goes to “yes”")
    return ngettext("%(num)s condition", "%(num)s conditions", conditions) % {"num": conditions}


def _count_conditions(group: dict[str, Any]) -> int:
    total = 0
    for child in group.get("children") or []:
        is_group = isinstance(child, dict) and (child.get("type") == "group" or "children" in child)
        total += _count_conditions(child) if is_group else 1
    return total


def _cheque(settings: dict[str, Any], _: Names) -> str:
    parts = []
    if settings.get("minimum_total") not in (None, ""):
        parts.append(gettext_("From %(amount)s") % {"amount": _number(float(settings["minimum_total"]), 2)})
    stores = len(settings.get("store_ids") or [])
    if stores:
        parts.append(ngettext("in %(num)s store", "in %(num)s stores", stores) % {"num": stores})
    return " · ".join(parts) if parts else gettext_("Any receipt")


def _event(settings: dict[str, Any], _: Names) -> str:
    name = str(settings.get("name") or "").strip()
    return f"“{name}”" if name else gettext_("Name the event")


def _date(settings: dict[str, Any], names: Names) -> str:
    if not settings.get("date"):
        return gettext_("Choose the date")
    who = names.of("segments", settings.get("segment_id")) or gettext_("every customer")
    return f"{_moment(settings['date'], settings.get('hour', 0))} · {who}"


SUMMARIES: dict[str, Callable[[dict[str, Any], Names], str | None]] = {
    "action.wait": _wait,
    "action.wait_until": _wait_until,
    "action.send_email": _send("E-mail"),
    "action.send_sms": _send("SMS"),
    "action.send_push": _send("Push"),
    "action.filter": _filter,
    "trigger.cheque_issued": _cheque,
    "trigger.event_occurred": _event,
    "trigger.date_has_come": _date,
}


# --- any other kind ----------------------------------------------------------------------------------


def _generic(kind: registry.NodeKind, settings: dict[str, Any], names: Names) -> str:
    parts = []
    for spec in _fields(kind.name, i18n.current_language()):
        value = settings.get(spec["name"])
        if value in (None, "", [], {}) or value == spec.get("default"):
            continue
        parts.append(f"{spec['label']}: {_shown(spec, value, names)}")
        if len(parts) == SHOWN_SETTINGS:
            break
    return " · ".join(parts)


@lru_cache(maxsize=512)
def _fields(kind_name: str, language: str) -> list[dict[str, Any]]:
    """A kind's form (its labels translated: one entry per language)."""
    found = registry.kind(kind_name)
    return fields_of(found) if found is not None else []


def _shown(spec: dict[str, Any], value: Any, names: Names) -> str:
    table = NAMED_FIELDS.get(spec["name"])
    if table is not None:
        return names.of(table, value) or f"#{value}"
    if spec["widget"] == "switch":
        return gettext_("yes") if value else gettext_("no")
    if spec["widget"] == "select" and str(value) in OPTION_LABELS:
        return str(OPTION_LABELS[str(value)])
    if spec["widget"] == "rules":
        return str(_count_conditions((value or {}).get("root") or {}))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value[:5]) + ("…" if len(value) > 5 else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in list(value.items())[:3])
    return str(value)[:60]


def _number(value: float, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=i18n.current_language()))


def _moment(day: Any, hour: Any) -> str:
    shown = format_date(date.fromisoformat(str(day)), format="medium", locale=i18n.current_language())
    return f"{shown}, {int(hour):02d}:00"
