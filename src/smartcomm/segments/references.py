"""Rows named by key in a rule tree: categories, products, stores, audiences, segments and mailings.

A condition may name such a row by its id (`"category": 12`) or by a key that means the same row in every
installation: `{"code": "dairy"}` for a category (`"classifier"` may name its catalogue, the main one
otherwise), `{"sku": "A-100"}` for a product (same), `{"code": "MSK-01"}` for a store, `{"name": "VIP"}`
for an audience, a segment or a mailing. When the rules are saved (or previewed) every key is looked up
and the id found is written beside it (`{"code": "dairy", "id": 12}`); from then on the segment is
evaluated by that id, so renaming the audience later changes nothing. An `id` sent beside a key is
replaced (the key wins: it came from another installation). A key that names nothing is refused, naming
the parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.errors import FieldError, InvalidInput
from smartcomm.models import Audience, Category, Classifier, Mailing, Product, Segment, Store
from smartcomm.models.catalog import SYSTEM_CLASSIFIER_CODE
from smartcomm.segments.metrics import registry
from smartcomm.segments.metrics.base import text_lower
from smartcomm.segments.rules import (
    CLASSIFIED_KINDS,
    REFERENCE_KEYS,
    Condition,
    SegmentRules,
    reference_id,
)

MAX_KEY_LENGTH = 200


class ReferenceRepository:
    """The ids of rows named by key (text keys compare exactly, names in any case)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ids(self, kind: str, key: str, classifier: str | None) -> list[int]:
        statement = {
            "category": lambda: select(Category.id).where(
                Category.code == key, Category.classifier_id == self._classifier(classifier)
            ),
            "product": lambda: select(Product.id).where(
                Product.sku == key, Product.classifier_id == self._classifier(classifier)
            ),
            "store": lambda: select(Store.id).where(Store.code == key),
            "audience": lambda: select(Audience.id).where(text_lower(Audience.name) == key.lower()),
            "segment": lambda: select(Segment.id).where(text_lower(Segment.name) == key.lower()),
            "mailing": lambda: select(Mailing.id).where(text_lower(Mailing.name) == key.lower()),
        }[kind]()
        return list(self.session.scalars(statement.limit(2)))

    def segments(self) -> list[Segment]:
        return list(self.session.scalars(select(Segment).order_by(Segment.name, Segment.id)))

    def _classifier(self, code: str | None) -> Any:
        wanted = code or SYSTEM_CLASSIFIER_CODE
        return select(Classifier.id).where(Classifier.code == wanted).scalar_subquery()


def resolve_references(session: Session, rules: SegmentRules) -> None:
    """Write the id of every row the tree names by key beside its key; InvalidInput names each key that
    names nothing (or more than one row)."""
    repository = ReferenceRepository(session)
    errors = [
        problem
        for path, condition in rules.conditions()
        for problem in _condition_problems(repository, path, condition)
    ]
    if errors:
        raise InvalidInput("The segment conditions name rows that do not exist", errors)


def _resolve_condition(repository: ReferenceRepository, path: str, condition: Condition) -> list[FieldError]:
    kinds = _reference_kinds(condition.metric)
    problems = []
    for name, value in condition.params.items():
        kind = kinds.get(name)
        if kind is None or not isinstance(value, Mapping):
            continue
        problem = _resolve(repository, kind, value, condition.params, name)
        if problem is not None:
            problems.append(FieldError(f"{path}.params.{name}", problem, "unknown"))
    return problems


def _condition_problems(repository: ReferenceRepository, path: str, condition: Condition) -> list[FieldError]:
    # Rows are checked once the keys they may be named by resolved.
    return _resolve_condition(repository, path, condition) or _check_rows(repository.session, path, condition)


def _check_rows(session: Session, path: str, condition: Condition) -> list[FieldError]:
    """What a metric's own check finds about the rows its parameters name (a poll and its options …)."""
    metric = next((m for m in registry.static_metrics() if m.key == condition.metric), None)
    check = getattr(metric, "check_rows", None)
    if check is None:
        return []
    return [
        FieldError(f"{path}.params.{name}", problem, "unknown") for name, problem in check(session, condition)
    ]


def _reference_kinds(metric_key: str) -> dict[str, str]:
    """Parameter name -> kind, for the parameters of the metric that may name a row by key."""
    metric = next((m for m in registry.static_metrics() if m.key == metric_key), None)
    if metric is None:
        return {}
    return {spec.name: spec.kind for spec in metric.params if spec.kind in REFERENCE_KEYS}


def _resolve(
    repository: ReferenceRepository, kind: str, value: Mapping[str, Any], params: dict[str, Any], name: str
) -> str | None:
    """Resolves one key object in place (params[name] gets the id beside the key); a problem as text."""
    field = REFERENCE_KEYS[kind]
    allowed = {field, "id", *(("classifier",) if kind in CLASSIFIED_KINDS else ())}
    unexpected = sorted(set(value) - allowed)
    if unexpected:
        return f"unexpected field {unexpected[0]!r}: give {{{field!r}: …}} or an id"
    key, classifier = value.get(field), value.get("classifier")
    if key is None:
        return None if "id" in value else f"give {{{field!r}: …}} or an id"
    if not _is_key(key) or (classifier is not None and not _is_key(classifier)):
        return f"{field} must be text of 1 to {MAX_KEY_LENGTH} characters"
    found = repository.ids(kind, key, classifier)
    if len(found) != 1:
        where = f" in the classifier {classifier!r}" if classifier else ""
        return f"no {kind} with the {field} {key!r}{where}" if not found else f"several {kind}s named {key!r}"
    params[name] = {**value, "id": found[0]}
    return None


def _is_key(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_KEY_LENGTH


def segments_naming(session: Session, kind: str, row_id: int) -> list[Segment]:
    """The segments whose conditions name this row (by id, or by a key resolved to it), by name.

    What a row's deletion checks first, as deleting an audience or a segment does: a condition naming a
    row that is gone would silently select nobody."""
    return [
        segment
        for segment in ReferenceRepository(session).segments()
        if row_id in _named_ids(segment.rules, kind)
    ]


def _named_ids(tree: Any, kind: str) -> set[int]:
    found: set[int] = set()
    for _path, condition in SegmentRules.model_validate(tree).conditions():
        for name, value in condition.params.items():
            if _reference_kinds(condition.metric).get(name) != kind:
                continue
            try:
                row_id = reference_id(value)
            except ValueError:
                continue
            if row_id is not None:
                found.add(row_id)
    return found
