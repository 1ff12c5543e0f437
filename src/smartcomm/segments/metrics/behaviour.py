"""Behaviour metrics: customer events (with a context filter), web events and containers."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, String, exists, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from smartcomm.kit.i18n import lazy
from smartcomm.models import (
    Container,
    ContainerItem,
    ContainerState,
    Customer,
    Event,
    EventSource,
    Product,
    WebEvent,
    WebSession,
)
from smartcomm.segments.metrics.base import (
    MAX_DAYS,
    PERIOD,
    CompileContext,
    Metric,
    MetricError,
    ParamSpec,
    ValueType,
    compare,
    param,
    param_id,
    per_customer,
    period_of,
    registry,
    text_lower,
)
from smartcomm.segments.metrics.profile import days_since
from smartcomm.segments.metrics.purchases import category_subtree
from smartcomm.segments.rules import Condition

EVENTS = lazy("Events")
WEB = lazy("Site and app")
CONTAINERS = lazy("Containers")

EVENT = ParamSpec("event", lazy("Event name"), "event", True)
CONTEXT = ParamSpec("context", lazy("Context filter (key = value)"), "context")
SOURCE = ParamSpec("source", lazy("Event source"), "source")
CONTAINER = ParamSpec("container", lazy("Container"), "container", True)


def _time_filters(column: Any, condition: Condition, context: CompileContext) -> list[Any]:
    start, end = context.period_bounds(period_of(condition))
    return [f for f in (column >= start if start else None, column < end if end else None) if f is not None]


def _context_filters(condition: Condition) -> list[Any]:
    """`context` = {"key": "...", "value": "..."} or a list of them: all must match (compared as text)."""
    raw = param(condition, "context")
    if not raw:
        return []
    items = raw if isinstance(raw, list) else [raw]
    filters = []
    for item in items:
        if not isinstance(item, dict) or not item.get("key"):
            raise MetricError("a context filter needs a key and a value")
        filters.append(text_lower(context_text(str(item["key"]))) == str(item.get("value", "")).lower())
    return filters


class _ContextText(FunctionElement[str]):
    """One member of the event context as text: strings as sent, numbers and yes/no as JSON spells them.

    Arguments: the portable text extraction, the JSON column and the SQLite path of the member. SQLite's
    json_extract reads yes/no as 1/0, so there the JSON type decides first.
    """

    type = String()
    name = "context_text"
    inherit_cache = True


@compiles(_ContextText)
def _context_text(element: _ContextText, compiler: Any, **kw: Any) -> str:
    portable = next(iter(element.clauses))
    return str(compiler.process(portable, **kw))


@compiles(_ContextText, "sqlite")
def _context_text_sqlite(element: _ContextText, compiler: Any, **kw: Any) -> str:
    portable, column, path = (compiler.process(clause, **kw) for clause in element.clauses)
    kind = f"json_type({column}, {path})"
    return f"(CASE WHEN {kind} IN ('true', 'false') THEN {kind} ELSE {portable} END)"


def context_text(key: str) -> Any:
    path = literal("$." + json.dumps(key), String())
    return _ContextText(Event.context[key].as_string(), Event.context, path)


def _event_filters(condition: Condition, context: CompileContext) -> list[Any]:
    name = str(param(condition, "event", True))
    return [
        Event.name == name,
        *_time_filters(Event.occurred_at, condition, context),
        *_context_filters(condition),
    ]


def _build_event_count(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    filters = _event_filters(condition, context)
    return per_customer(Event.customer_id, func.count(), 0, filters, EVENT_COUNT, condition, context)


EVENT_COUNT = registry.register(
    Metric(
        "events.count",
        lazy("Event occurred (times)"),
        EVENTS,
        ValueType.INTEGER,
        _build_event_count,
        params=(EVENT, PERIOD, CONTEXT),
    )
)


def _build_event_days(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    """Days since the last such event; compared through the customer's latest event time."""
    name = str(param(condition, "event", True))
    latest = (
        select(func.max(Event.occurred_at))
        .where(Event.customer_id == Customer.id, Event.name == name, *_context_filters(condition))
        .scalar_subquery()
    )
    return days_since(latest, EVENT_DAYS, condition, context)


EVENT_DAYS = registry.register(
    Metric(
        "events.days_since_last",
        lazy("Days since the event"),
        EVENTS,
        ValueType.INTEGER,
        _build_event_days,
        params=(EVENT, CONTEXT),
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)


# ---------------------------------------------------------------- web events


def _source_filter(condition: Condition, column: Any = WebEvent.source_id) -> list[Any]:
    source = param(condition, "source")
    if source in (None, ""):
        return []
    source_id = param_id(condition, "source")
    if source_id is not None:
        return [column == source_id]
    return [column.in_(select(EventSource.id).where(EventSource.code == str(source)))]


def _web_metric(key: str, label: Any, kind: str, target: Any, specs: tuple[ParamSpec, ...]) -> Metric:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        filters = [WebEvent.kind == kind, *_time_filters(WebEvent.occurred_at, condition, context)]
        filters += _source_filter(condition) + ([target(condition)] if target else [])
        return per_customer(WebEvent.customer_id, func.count(), 0, filters, metric, condition, context)

    metric = Metric(key, label, WEB, ValueType.INTEGER, build, params=(*specs, PERIOD, SOURCE))
    return registry.register(metric)


def _viewed_product(condition: Condition) -> Any:
    product = param(condition, "product")
    if product in (None, ""):
        return WebEvent.product_id.is_not(None)
    product_id = param_id(condition, "product")
    if product_id is not None:
        return WebEvent.product_id == product_id
    return WebEvent.product_id.in_(select(Product.id).where(Product.sku == str(product)))


def _viewed_category(condition: Condition) -> Any:
    if param(condition, "category") in (None, ""):
        return WebEvent.category_id.is_not(None)
    return WebEvent.category_id.in_(category_subtree(condition))


def _viewed_section(condition: Condition) -> Any:
    section = param(condition, "section")
    return WebEvent.section == str(section) if section not in (None, "") else WebEvent.section.is_not(None)


def _build_visits(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    """Visits are sessions started in the period: by a visit or a login, or by returning after 30 idle
    minutes; a visit event inside a running session is not another visit."""
    filters = [
        *_time_filters(WebSession.started_at, condition, context),
        *_source_filter(condition, WebSession.source_id),
    ]
    return per_customer(WebSession.customer_id, func.count(), 0, filters, VISITS, condition, context)


VISITS = registry.register(
    Metric(
        "web.visits",
        lazy("Visits to the site or app"),
        WEB,
        ValueType.INTEGER,
        _build_visits,
        params=(PERIOD, SOURCE),
    )
)
_web_metric(
    "web.product_views",
    lazy("Product views"),
    "product_view",
    _viewed_product,
    (ParamSpec("product", lazy("Product (any when empty)"), "product"),),
)
_web_metric(
    "web.category_views",
    lazy("Category views"),
    "category_view",
    _viewed_category,
    (ParamSpec("category", lazy("Category (any when empty)"), "category"),),
)
_web_metric(
    "web.section_views",
    lazy("Section views"),
    "section_view",
    _viewed_section,
    (ParamSpec("section", lazy("Section name (any when empty)"), "text"),),
)


def _build_days_since_visit(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    latest = (
        select(func.max(WebEvent.occurred_at)).where(WebEvent.customer_id == Customer.id).scalar_subquery()
    )
    return days_since(latest, DAYS_SINCE_VISIT, condition, context)


DAYS_SINCE_VISIT = registry.register(
    Metric(
        "web.days_since_last_visit",
        lazy("Days since the last visit"),
        WEB,
        ValueType.INTEGER,
        _build_days_since_visit,
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)


# ---------------------------------------------------------------- containers


def _container_filter(column: Any, condition: Condition) -> Any:
    container = param(condition, "container", True)
    container_id = param_id(condition, "container")
    if container_id is not None:
        return column == container_id
    return column.in_(select(Container.id).where(Container.code == str(container)))


def _build_items(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    filters = [_container_filter(ContainerItem.container_id, condition)]
    return per_customer(ContainerItem.customer_id, func.count(), 0, filters, ITEMS, condition, context)


ITEMS = registry.register(
    Metric(
        "containers.items",
        lazy("Items in the container"),
        CONTAINERS,
        ValueType.INTEGER,
        _build_items,
        params=(CONTAINER,),
    )
)


def _contains(target: Any) -> Any:
    def build(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
        found = exists(
            select(ContainerItem.customer_id).where(
                ContainerItem.customer_id == Customer.id,
                _container_filter(ContainerItem.container_id, condition),
                target(condition),
            )
        )
        return compare(found, registry.get(condition.metric, context), condition, context)

    return build


def _contains_product(condition: Condition) -> Any:
    product = param(condition, "product", True)
    product_id = param_id(condition, "product")
    if product_id is not None:
        return ContainerItem.product_id == product_id
    return ContainerItem.product_id.in_(select(Product.id).where(Product.sku == str(product)))


def _contains_category(condition: Condition) -> Any:
    param(condition, "category", True)
    subtree = category_subtree(condition)
    return ContainerItem.product_id.in_(select(Product.id).where(Product.category_id.in_(subtree)))


registry.register(
    Metric(
        "containers.has_product",
        lazy("The container holds the product"),
        CONTAINERS,
        ValueType.BOOLEAN,
        _contains(_contains_product),
        params=(CONTAINER, ParamSpec("product", lazy("Product"), "product", True)),
    )
)
registry.register(
    Metric(
        "containers.has_category",
        lazy("The container holds a product of the category"),
        CONTAINERS,
        ValueType.BOOLEAN,
        _contains(_contains_category),
        params=(CONTAINER, ParamSpec("category", lazy("Category (with subcategories)"), "category", True)),
    )
)


def _build_days_since_change(condition: Condition, context: CompileContext) -> ColumnElement[bool]:
    changed = (
        select(ContainerState.changed_at)
        .where(
            ContainerState.customer_id == Customer.id,
            _container_filter(ContainerState.container_id, condition),
        )
        .scalar_subquery()
    )
    return days_since(changed, DAYS_SINCE_CHANGE, condition, context)


DAYS_SINCE_CHANGE = registry.register(
    Metric(
        "containers.days_since_change",
        lazy("Days since the container changed"),
        CONTAINERS,
        ValueType.INTEGER,
        _build_days_since_change,
        params=(CONTAINER,),
        unit=lazy("days"),
        limit=MAX_DAYS,
    )
)
