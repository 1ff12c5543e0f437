"""The metric catalogue: what the builder and the API offer — every metric with its group, value type,
operators in words, parameters and choices, custom customer fields included, in the configured order."""

from __future__ import annotations

from collections.abc import Sequence

from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.models import FieldDefinition
from smartcomm.segments.metrics import CompileContext, Metric, ValueType, registry
from smartcomm.segments.schemas import ChoiceOut, MetricOut, OperatorOut, ParamOut

# Groups in the order the builder lists them (by their untranslated names); others follow.
GROUP_ORDER = (
    "Profile",
    "Custom fields",
    "Contacts and consent",
    "Purchases",
    "Orders",
    "Bonuses and points",
    "Events",
    "Site and app",
    "Containers",
    "Communications",
    "Promo codes",
    "Polls",
    "Audiences and segments",
    "RFM",
)

OPERATOR_LABELS: dict[str, LazyString] = {
    "eq": lazy("equals"),
    "ne": lazy("does not equal"),
    "gt": lazy("is greater than"),
    "gte": lazy("is at least"),
    "lt": lazy("is less than"),
    "lte": lazy("is at most"),
    "between": lazy("is between"),
    "contains": lazy("contains"),
    "not_contains": lazy("does not contain"),
    "starts_with": lazy("starts with"),
    "in": lazy("is one of"),
    "not_in": lazy("is none of"),
    "empty": lazy("is empty"),
    "not_empty": lazy("is not empty"),
    "on": lazy("is on"),
    "before": lazy("is before"),
    "after": lazy("is after"),
    "in_last": lazy("is in the last"),
    "not_in_last": lazy("is not in the last"),
    "is_true": lazy("yes"),
    "is_false": lazy("no"),
}
# Words that read better for some value types than the general ones above.
TYPE_OPERATOR_LABELS: dict[ValueType, dict[str, LazyString]] = {
    ValueType.STRING: {"eq": lazy("is"), "ne": lazy("is not")},
    ValueType.ENUM: {"in": lazy("is"), "not_in": lazy("is not")},
    ValueType.DATE: {"empty": lazy("is not set"), "not_empty": lazy("is set")},
    ValueType.DATETIME: {"empty": lazy("is not set"), "not_empty": lazy("is set")},
}
CHANNELS: dict[str, LazyString] = {
    "email": lazy("E-mail"),
    "sms": lazy("SMS"),
    "viber": lazy("Viber"),
    "push": lazy("Push"),
}


def operator_label(value_type: ValueType, operator: str) -> str:
    label = TYPE_OPERATOR_LABELS.get(value_type, {}).get(operator) or OPERATOR_LABELS.get(operator)
    return str(label) if label is not None else operator


def msgid(text: str) -> str:
    """The untranslated text of a label (a LazyString translates when turned into str)."""
    return str.__str__(text)


def metric_out(metric: Metric, label: str | None = None, group: str | None = None) -> MetricOut:
    return MetricOut(
        key=metric.key,
        label=label or str(metric.label),
        group=group or str(metric.group),
        value_type=metric.value_type.value,
        operators=[
            OperatorOut(key=op, label=operator_label(metric.value_type, op))
            for op in metric.allowed_operators
        ],
        params=[
            ParamOut(name=spec.name, label=str(spec.label), kind=spec.kind, required=spec.required)
            for spec in metric.params
        ],
        choices=[ChoiceOut(value=value, label=str(text)) for value, text in metric.choices],
        unit=str(metric.unit) if metric.unit is not None else None,
    )


def build_catalogue(fields: Sequence[FieldDefinition], context: CompileContext) -> list[MetricOut]:
    """Every metric for the builder; `fields` are the customer field definitions in the builder's order."""
    system = {f.code: (position, f) for position, f in enumerate(fields) if f.is_system}
    entries: list[tuple[tuple[int, int, int], MetricOut]] = []
    for index, metric in enumerate(registry.static_metrics()):
        position, label = index + len(fields), None
        code = metric.key.removeprefix("profile.")
        if metric.key.startswith("profile.") and code in system:
            position, field = system[code]
            # A system field renamed in Settings → Fields shows its new name; otherwise the translated one.
            label = field.name if field.name != msgid(metric.label) else None
        entries.append(((_group_rank(metric.group), position, index), metric_out(metric, label)))
    entries.extend(_custom_entries(fields, context))
    return [entry for _rank, entry in sorted(entries, key=lambda item: item[0])]


def _custom_entries(
    fields: Sequence[FieldDefinition], context: CompileContext
) -> list[tuple[tuple[int, int, int], MetricOut]]:
    entries = []
    for position, field in enumerate(fields):
        if field.is_system or field.code not in context.custom_types:
            continue
        metric = registry.get(f"custom.{field.code}", context)
        entries.append(((_group_rank(metric.group), position, 0), metric_out(metric, field.name)))
    return entries


def _group_rank(group: str) -> int:
    name = msgid(group)
    return GROUP_ORDER.index(name) if name in GROUP_ORDER else len(GROUP_ORDER)


def channel_label(channel: str) -> str:
    label = CHANNELS.get(channel)
    return str(label) if label is not None else channel
