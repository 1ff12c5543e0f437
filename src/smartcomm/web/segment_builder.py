"""The segment builder component shared by the segment pages and the customer-list filter."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.datasettings.display import parameter_labels
from smartcomm.kit import i18n
from smartcomm.kit.errors import InvalidInput
from smartcomm.segments.catalog import CHANNELS
from smartcomm.segments.describe import word_problem
from smartcomm.segments.rules import (
    MAX_DEPTH,
    SegmentRules,
    loose_conditions,
    parse_rules,
    plain_reference_tree,
)
from smartcomm.segments.service import segment_service
from smartcomm.web.forms import FormErrors
from smartcomm.web.templating import currency_symbol

LOOKUP_URL = "/segments/lookup/"


def read_rules_text(text: Any) -> Any:
    """The builder's JSON as data (an unreadable text becomes an empty tree; validation then says why)."""
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text) if isinstance(text, str) and text.strip() else {}
    except json.JSONDecodeError:
        return {}


def condition_number(path: str) -> str:
    """A path in the tree as people count conditions: root.children[1].children[0] → "2.1"."""
    return ".".join(str(int(index) + 1) for index in re.findall(r"\[(\d+)\]", path))


def problems_of(errors: FormErrors) -> list[tuple[str, str, str]]:
    """(condition number, path, message) of the errors about the rule tree."""
    return [(condition_number(path), path, text) for path, text in errors.items() if path.startswith("root")]


def readable_errors(session: Session, raw: Any, errors: FormErrors) -> FormErrors:
    """The problems of the conditions as the builder shows them: metrics by their labels, translated."""
    if not any(_about_rules(path) for path in errors):
        return errors
    metrics = {metric.key: metric for metric in segment_service.catalogue(session)}
    return {
        path: word_problem(message, metric_at(raw, path), metrics) if _about_rules(path) else message
        for path, message in errors.items()
    }


def _about_rules(path: str) -> bool:
    return path == "rules" or path.startswith("root")


def metric_at(raw: Any, path: str) -> str | None:
    """The metric key of the condition at `path` (root.children[1].children[0]) of a raw tree, if any."""
    node = raw.get("root") if isinstance(raw, dict) else None
    for index in re.findall(r"\[(\d+)\]", path):
        children = node.get("children") if isinstance(node, dict) else None
        node = children[int(index)] if isinstance(children, list) and int(index) < len(children) else None
    metric = node.get("metric") if isinstance(node, dict) else None
    return metric if isinstance(metric, str) else None


def builder_config(
    request: Request, session: Session, raw: Any, errors: FormErrors, builder: str = "builder"
) -> dict[str, Any]:
    """What the builder component starts from: the catalogue, the tree, names of its ids and its errors."""
    raw = plain_reference_tree(raw)  # the builder picks rows by id: rows named by key show by their id
    catalogue = segment_service.catalogue(session)
    return {
        "id": builder,
        "catalogue": [metric.model_dump() for metric in catalogue],
        "rules": raw if isinstance(raw, dict) else {},
        "labels": parameter_labels(segment_service.labels(session, loose_conditions(raw), catalogue)),
        "errors": {path: text for path, text in errors.items() if path.startswith("root")},
        "channels": [{"value": code, "label": str(label)} for code, label in CHANNELS.items()],
        "currency": currency_symbol(request.state.general.currency, i18n.current_language()),
        "lookupUrl": LOOKUP_URL,
        "maxDepth": MAX_DEPTH,
    }


@dataclass
class CustomerFilter:
    """The customer-list filter: the builder's state and, once applied, the rules that restrict the list."""

    builder: dict[str, Any]
    text: str = ""
    rules: SegmentRules | None = None
    problems: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.rules is not None


def customer_filter(
    request: Request, session: Session, principal: Principal, text: str
) -> CustomerFilter | None:
    """The filter of the customer list for users who may use segments (None for the others)."""
    if not principal.can(Permission.SEGMENTS_VIEW):
        return None
    raw, errors = read_rules_text(text), {}
    rules: SegmentRules | None = None
    try:
        parsed = parse_rules(raw)
        if parsed.conditions():
            segment_service.check(session, parsed)
            rules = parsed
    except InvalidInput as error:
        translate = i18n.gettext_  # messages of the rule checks, in the interface language
        errors = {e.field: translate(e.message) for e in error.errors} or {"root": translate(error.message)}
        errors = readable_errors(session, raw, errors)
    return CustomerFilter(
        builder=builder_config(request, session, raw, errors, builder="filter"),
        text=json.dumps(raw, ensure_ascii=False) if rules is not None else "",
        rules=rules,
        problems=problems_of(errors),
    )
