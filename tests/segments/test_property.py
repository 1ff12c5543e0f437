"""Property: on random data, the compiled SQL selects exactly the customers the oracle does.

The oracle (`oracle.py`) reads `docs/segments.md` literally in plain Python; every example writes a random
data set through the services inside a savepoint, draws rule trees over its real ids and values, and
compares the customer ids of the one SQL statement with the oracle's, on the backend chosen by `--db`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.metrics import registry
from smartcomm.segments.metrics.base import CompileContext
from smartcomm.segments.rules import Condition, Group, SegmentRules
from smartcomm.segments.service import segment_service
from tests.segments.dataset import CUSTOM_FIELDS, NOWS, ZONES, build_dataset
from tests.segments.oracle import OPERATORS, Oracle, metric_definition
from tests.segments.rulegen import ALL_KEYS, PARAMS, HypothesisChooser, RandomChooser, RuleDrawer

TREES_PER_DATA_SET = 8
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # A failing example is explained condition by condition; shrinking whole data sets takes too long.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """Everything written inside is rolled back, so each example starts from the same empty base."""
    nested = session.begin_nested()
    try:
        yield
    finally:
        nested.rollback()
        session.expunge_all()


def sql_ids(session: Session, rules: SegmentRules, context: CompileContext) -> set[int]:
    return set(session.scalars(compile_rules(rules, context)))


def leaves(group: Group) -> Iterator[Condition]:
    for child in group.children:
        yield from leaves(child) if isinstance(child, Group) else [child]


def explain(session: Session, rules: SegmentRules, context: CompileContext, oracle: Oracle) -> str:
    """The first condition on which SQL and oracle differ, with the customers' values (for the report)."""
    for leaf in leaves(rules.root):
        single = SegmentRules.model_validate({"root": {"children": [leaf.model_dump()]}})
        expected, got = oracle.matching(single), sql_ids(session, single, context)
        if expected != got:
            differing = sorted(expected ^ got)[:5]
            values = {cid: oracle.value(leaf.metric, leaf.params, cid) for cid in differing}
            return (
                f"condition {leaf.model_dump()} at today={oracle.today} ({context.zone}):\n"
                f"  only oracle: {sorted(expected - got)}\n  only SQL: {sorted(got - expected)}\n"
                f"  oracle values: {values}"
            )
    return "every condition agrees alone; the combination differs"


def check(session: Session, oracle: Oracle, context: CompileContext, rules: SegmentRules) -> None:
    expected = oracle.matching(rules)
    got = sql_ids(session, rules, context)
    assert got == expected, explain(session, rules, context, oracle) + f"\nrules: {rules.model_dump_json()}"


@SETTINGS
@given(data=st.data())
def test_compiled_sql_selects_what_the_document_says(session: Session, data: st.DataObject) -> None:
    seed = data.draw(st.integers(0, 2**32 - 1), label="data seed")
    now = data.draw(st.sampled_from(NOWS), label="now")
    zone = data.draw(st.sampled_from(ZONES), label="time zone")
    with savepoint(session):
        dataset = build_dataset(session, random.Random(seed), now, zone)
        context = segment_service.context(session, now)
        assert context.zone == zone
        oracle = Oracle.load(session, now, zone)
        drawer = RuleDrawer(HypothesisChooser(data), dataset, oracle)
        for _ in range(TREES_PER_DATA_SET):
            check(session, oracle, context, drawer.rules())


def test_the_oracle_knows_every_registered_metric_its_operators_and_parameters() -> None:
    """A metric added to the registry fails here until the oracle and the rule generator know it."""
    context = CompileContext(now=datetime(2026, 1, 1), custom_types=CUSTOM_FIELDS)
    static = {metric.key: metric for metric in registry.static_metrics()}
    keys = set(static) | {f"custom.{code}" for code in CUSTOM_FIELDS}
    assert keys == set(ALL_KEYS)
    for key in sorted(keys):
        declared = registry.get(key, context).allowed_operators
        assert set(declared) == set(OPERATORS[metric_definition(key, CUSTOM_FIELDS).kind]), key
    for key, metric in static.items():
        declared_params = {f"{spec.name}{'!' if spec.required else ''}" for spec in metric.params}
        generated = {spec.replace("mailing_category", "category") for spec in PARAMS.get(key, ())}
        assert declared_params == generated, key


@pytest.mark.parametrize(("now", "zone"), [(NOWS[0], ZONES[1]), (NOWS[1], ZONES[0])])
def test_every_metric_with_every_operator_agrees(session: Session, now: datetime, zone: str) -> None:
    """A sweep: each metric with each of its operators, several values, alone and negated."""
    rng = random.Random(f"{now.isoformat()} {zone}")
    dataset = build_dataset(session, rng, now, zone)
    context = segment_service.context(session, now)
    oracle = Oracle.load(session, now, zone)
    drawer = RuleDrawer(RandomChooser(rng), dataset, oracle)
    problems = []
    for key in ALL_KEYS:
        for operator in OPERATORS[metric_definition(key, CUSTOM_FIELDS).kind]:
            for _ in range(2):
                rules = SegmentRules.model_validate({"root": {"children": [drawer.condition(key, operator)]}})
                if oracle.matching(rules) != sql_ids(session, rules, context):
                    problems.append(explain(session, rules, context, oracle))
    assert not problems, "\n".join(problems[:10])
