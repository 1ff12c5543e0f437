"""Promo code and poll metrics of the segment builder: codes issued (of a group, in a period), codes
redeemed, polls taken and options chosen — on hand-made data with every member pinned, on random data
against the plain-Python reading of docs/segments.md (tests/segments/oracle.py), and over the API, where a
condition naming a group, poll, question, row or option that does not exist is refused naming it.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import Poll, Segment
from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.describe import DescribedCondition
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.api.conftest import ApiClient, api_client
from tests.delivery.helpers import make_customer
from tests.segments.oracle import Oracle
from tests.segments.promo_poll_data import answer, make_code, make_group, make_poll, write_promo_polls

ACTOR = Actor.system("tests")
# 31 March 2027, 12:00 in Moscow.
NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
LAST_WEEK = {"kind": "last", "n": 7, "unit": "days"}
EVERYONE = {"anna", "boris", "vera", "gleb", "dina"}
ISSUED, FROM_GROUP, REDEEMED = (
    "promocodes.issued_count",
    "promocodes.issued_from_group",
    "promocodes.redeemed",
)
TOOK, CHOSE = "polls.took", "polls.chose"


def days_ago(days: int, hour: int = 6) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=hour)


@dataclass
class Data:
    ids: dict[str, int]  # external id → customer id
    spring: int  # promo code groups
    autumn: int
    taste: int  # polls
    other: int

    def name(self, customer_id: int) -> str:
        return {v: k for k, v in self.ids.items()}[customer_id]


@pytest.fixture
def data(session: Session) -> Data:
    """Codes: Anna got two SPRING codes (2 and 40 days ago; the older one redeemed yesterday) and an AUTUMN
    code 10 days ago; Boris an AUTUMN code 30 days ago, redeemed 20 days ago; Vera a SPRING code 5 days ago,
    blocked since; an active SPRING code belongs to nobody. Polls: Anna answered the taste survey 2 days
    ago, Boris 20 days ago; Vera answered another poll whose question and option ids are the same."""
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "Europe/Moscow"})
    ids = {name: make_customer(session, external_id=name).id for name in sorted(EVERYONE)}
    anna, boris, vera = ids["anna"], ids["boris"], ids["vera"]
    spring, autumn = make_group(session, "SPRING"), make_group(session, "AUTUMN")
    make_code(session, spring, anna, issued_at=days_ago(2))
    make_code(session, spring, anna, issued_at=days_ago(40), redeemed_at=days_ago(1))
    make_code(session, autumn, anna, issued_at=days_ago(10))
    make_code(session, autumn, boris, issued_at=days_ago(30), redeemed_at=days_ago(20))
    make_code(session, spring, vera, issued_at=days_ago(5), blocked=True)
    make_code(session, spring)
    taste, other = make_poll(session), make_poll(session, "Other poll")
    answer(
        session,
        taste,
        anna,
        {"q1": "a2", "q2": ["b1", "b2"], "q3": {"r1": "m2", "r2": "m1"}, "q4": "Great"},
        days_ago(2),
    )
    answer(session, taste, boris, {"q1": "a1", "q2": ["b3"], "q3": {"r1": "m1", "r2": "m2"}}, days_ago(20))
    answer(session, other, vera, {"q1": "a2"}, days_ago(1))
    return Data(ids, spring.id, autumn.id, taste.id, other.id)


def where(
    metric: str, operator: str, value: Any = None, negate: bool = False, **params: Any
) -> dict[str, Any]:
    condition = {"metric": metric, "operator": operator, "params": params, "negate": negate}
    return condition if value is None else {**condition, "value": value}


def selected(session: Session, data: Data, *conditions: dict[str, Any]) -> set[str]:
    """Names of the customers a root group of the conditions selects; the oracle must agree."""
    rules = SegmentRules.model_validate({"root": {"children": list(conditions)}})
    by_sql = set(session.scalars(compile_rules(rules, segment_service.context(session, NOW))))
    assert by_sql == Oracle.load(session, NOW, "Europe/Moscow").matching(rules)
    return {data.name(customer_id) for customer_id in by_sql}


# ---------------------------------------------------------------- promo codes


@pytest.mark.parametrize(
    ("operator", "value", "params", "expected"),
    [
        ("gte", 2, {}, {"anna"}),
        ("eq", 0, {}, {"gleb", "dina"}),  # the code nobody holds counts for nobody
        ("lt", 2, {}, {"boris", "vera", "gleb", "dina"}),
        ("between", [1, 1], {}, {"boris", "vera"}),
        ("gt", 0, {"group": "spring"}, {"anna", "vera"}),  # a blocked code was still issued
        ("eq", 2, {"group": "spring"}, {"anna"}),
        ("eq", 1, {"group": "spring", "period": LAST_WEEK}, {"anna", "vera"}),
        ("gte", 1, {"group": "AUTUMN"}, {"anna", "boris"}),  # a group named by its code
        ("gte", 1, {"period": {"kind": "last", "n": 14}}, {"anna", "vera"}),
        (
            "eq",
            0,
            {"period": {"kind": "between", "start": "2027-03-20", "end": "2027-03-22"}},
            EVERYONE - {"anna"},
        ),
    ],
)
def test_promo_codes_issued_are_counted(
    session: Session, data: Data, operator: str, value: Any, params: dict[str, Any], expected: set[str]
) -> None:
    groups = {"spring": data.spring}
    params = {k: groups.get(v, v) if k == "group" else v for k, v in params.items()}
    assert selected(session, data, where(ISSUED, operator, value, **params)) == expected


def test_issued_a_code_from_a_group(session: Session, data: Data) -> None:
    assert selected(session, data, where(FROM_GROUP, "is_true", group=data.spring)) == {"anna", "vera"}
    assert selected(session, data, where(FROM_GROUP, "is_false", group=data.spring)) == {
        "boris",
        "gleb",
        "dina",
    }
    assert selected(session, data, where(FROM_GROUP, "is_true", group=str(data.autumn))) == {"anna", "boris"}
    last_two_weeks = {"kind": "last", "n": 14}
    assert selected(
        session, data, where(FROM_GROUP, "is_true", group=data.autumn, period=last_two_weeks)
    ) == {"anna"}


def test_redeemed_a_promo_code(session: Session, data: Data) -> None:
    assert selected(session, data, where(REDEEMED, "is_true")) == {"anna", "boris"}
    assert selected(session, data, where(REDEEMED, "is_false")) == {"vera", "gleb", "dina"}
    assert selected(session, data, where(REDEEMED, "is_true", group="SPRING")) == {"anna"}
    # The period is of the redemption: Anna's SPRING code was issued 40 days ago but redeemed yesterday.
    assert selected(session, data, where(REDEEMED, "is_true", period=LAST_WEEK)) == {"anna"}
    assert selected(session, data, where(REDEEMED, "is_true", negate=True, group=data.autumn)) == (
        EVERYONE - {"boris"}
    )


# ---------------------------------------------------------------- polls


def test_took_a_poll(session: Session, data: Data) -> None:
    assert selected(session, data, where(TOOK, "is_true", poll=data.taste)) == {"anna", "boris"}
    assert selected(session, data, where(TOOK, "is_true", poll=data.taste, period=LAST_WEEK)) == {"anna"}
    assert selected(session, data, where(TOOK, "is_true", poll=f"POLL-{data.other}")) == {"vera"}
    assert selected(session, data, where(TOOK, "is_false", poll=data.taste)) == {"vera", "gleb", "dina"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # Vera chose a2 for q1 too, but in another poll.
        ({"question": "q1", "options": ["a2"]}, {"anna"}),
        ({"question": "q1", "options": "a1,a2"}, {"anna", "boris"}),  # any of them, as the builder sends it
        ({"question": "q2", "options": ["b2", "b3"]}, {"anna", "boris"}),
        ({"question": "q2", "options": ["b1"]}, {"anna"}),
        ({"question": "q3", "options": ["m2"]}, {"anna", "boris"}),  # a matrix: any of its rows
        ({"question": "q3", "row": "r1", "options": ["m2"]}, {"anna"}),
        ({"question": "q3", "row": "r2", "options": ["m2"]}, {"boris"}),
        ({"question": "q1", "options": ["a1"], "period": LAST_WEEK}, set()),
        (
            {"question": "q1", "options": ["a1"], "period": {"kind": "last", "n": 1, "unit": "months"}},
            {"boris"},
        ),
    ],
)
def test_chose_an_option_in_a_poll(
    session: Session, data: Data, params: dict[str, Any], expected: set[str]
) -> None:
    assert selected(session, data, where(CHOSE, "is_true", poll=data.taste, **params)) == expected
    assert selected(session, data, where(CHOSE, "is_false", poll=data.taste, **params)) == EVERYONE - expected
    negated = where(CHOSE, "is_true", negate=True, poll=data.taste, **params)
    assert selected(session, data, negated) == EVERYONE - expected


def test_conditions_combine_with_others(session: Session, data: Data) -> None:
    took_no_code = [
        where(TOOK, "is_true", poll=data.taste),
        where(REDEEMED, "is_false", group=data.spring),
    ]
    assert selected(session, data, *took_no_code) == {"boris"}


@pytest.mark.parametrize("seed", [1, 2])
def test_random_codes_and_answers_agree_with_a_plain_reading(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "Asia/Vladivostok"})
    customers = [make_customer(session).id for _ in range(30)]
    found = write_promo_polls(
        session, rng, customers, lambda: NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
    )
    oracle = Oracle.load(session, NOW, "Asia/Vladivostok")
    context = segment_service.context(session, NOW)
    checked = 0
    for condition in _random_conditions(found.groups, found.polls):
        rules = SegmentRules.model_validate({"root": {"children": [condition]}})
        assert set(session.scalars(compile_rules(rules, context))) == oracle.matching(rules), condition
        checked += 1
    assert checked > 50


def _random_conditions(groups: dict[int, str], polls: dict[int, str]) -> Iterator[dict[str, Any]]:
    periods = [None, LAST_WEEK, {"kind": "last", "n": 1, "unit": "months"}]
    for group in [None, *groups, *groups.values()]:
        for period in periods:
            params = {k: v for k, v in (("group", group), ("period", period)) if v is not None}
            for operator, value in (("eq", 0), ("gte", 1), ("gte", 2), ("between", [1, 2])):
                yield where(ISSUED, operator, value, **params)
            yield where(REDEEMED, "is_true", **params)
            if group is not None:
                yield where(FROM_GROUP, "is_false", **params)
    for poll in [*polls, *polls.values()]:
        for period in periods:
            extra = {"period": period} if period else {}
            yield where(TOOK, "is_true", poll=poll, **extra)
            for question, options, row in (
                ("q1", ["a1"], None),
                ("q2", ["b1", "b3"], None),
                ("q3", ["m1"], "r2"),
            ):
                yield where(CHOSE, "is_true", poll=poll, question=question, options=options, **extra)
                if row:
                    yield where(CHOSE, "is_true", poll=poll, question=question, row=row, options=options)


def test_a_per_customer_refresh_reads_a_new_answer(session: Session, data: Data) -> None:
    rules = {"root": {"children": [where(CHOSE, "is_true", poll=data.other, question="q1", options=["a1"])]}}
    with time_machine.travel(NOW, tick=False):
        segment = segment_service.create(session, ACTOR, SegmentIn(name="Tea drinkers", rules=rules))
        segment_service.build(session, segment.id, "manual")
        other = session.get_one(Poll, data.other)
        answer(session, other, data.ids["dina"], {"q1": "a1"}, NOW)

        changes = segment_service.refresh_customers(session, [data.ids["dina"], data.ids["anna"]])

    assert (changes[segment.id].entered, changes[segment.id].exited) == (1, 0)


# ---------------------------------------------------------------- over the API


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)


def _segments(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Segment)) or 0)


BAD_CONDITIONS = [
    (where(FROM_GROUP, "is_true"), "root.children[0]", "'group'"),
    (where(FROM_GROUP, "is_true", group=999_999), "root.children[0].params.group", "promo code group"),
    (where(REDEEMED, "is_true", group="NOPE"), "root.children[0].params.group", "'NOPE'"),
    (where(ISSUED, "gte", "many"), "root.children[0]", "'many'"),
    (where(TOOK, "is_true", poll=999_999), "root.children[0].params.poll", "no poll"),
    (where(TOOK, "is_true", poll="POLL-0"), "root.children[0].params.poll", "'POLL-0'"),
    (
        where(CHOSE, "is_true", poll="TASTE", question="q9", options=["a1"]),
        "root.children[0].params.question",
        "q9",
    ),
    (
        where(CHOSE, "is_true", poll="TASTE", question="q4", options=["a1"]),
        "root.children[0].params.question",
        "q4",
    ),
    (
        where(CHOSE, "is_true", poll="TASTE", question="q3", row="r9", options=["m1"]),
        "root.children[0].params.row",
        "r9",
    ),
    (
        where(CHOSE, "is_true", poll="TASTE", question="q1", options=["a1", "zz"]),
        "root.children[0].params.options",
        "zz",
    ),
    (where(CHOSE, "is_true", poll="TASTE", question="q1"), "root.children[0]", "'options'"),
    (
        where(CHOSE, "is_true", poll="TASTE", question="q1", options=["no way"]),
        "root.children[0].params.options",
        "no way",
    ),
    (where(CHOSE, "gte", 1, poll="TASTE", question="q1", options=["a1"]), "root.children[0]", "'gte'"),
]


@pytest.mark.parametrize(("condition", "field", "words"), BAD_CONDITIONS)
def test_a_bad_condition_is_refused_naming_it_and_nothing_is_saved(
    api: ApiClient, session: Session, data: Data, condition: dict[str, Any], field: str, words: str
) -> None:
    condition = copy.deepcopy(condition)
    if condition["params"].get("poll") == "TASTE":
        condition["params"]["poll"] = data.taste
    rules = {"root": {"children": [condition]}}

    preview = api.post("/api/v1/segments/preview", json=rules)
    created = api.post("/api/v1/segments", json={"name": "Broken", "rules": rules})

    for response in (preview, created):
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["field"] == field and words in error["title"], error
    assert _segments(session) == 0


def test_a_segment_of_those_who_chose_an_option_is_built(
    api: ApiClient, session: Session, data: Data
) -> None:
    session.commit()
    chose = where(CHOSE, "is_true", poll=f"POLL-{data.taste}", question="q3", row="r1", options=["m2"])
    rules = {"root": {"children": [chose]}}

    created = api.post("/api/v1/segments", json={"name": "Like our prices", "rules": rules})

    assert created.status_code == 201, created.text
    assert api.get(f"/api/v1/segments/{created.json()['id']}").json()["member_count"] == 1


# ---------------------------------------------------------------- the builder's pickers and words


def test_the_pickers_offer_a_polls_choice_questions_then_their_rows_and_options(
    session: Session, data: Data
) -> None:
    def offered(kind: str, query: str = "", **within: str) -> list[tuple[str, str]]:
        return [(o.value, o.label) for o in segment_service.lookup(session, kind, query, within)]

    poll = str(data.taste)
    assert offered("poll_question", poll=poll) == [
        ("q1", "Tea or coffee?"),
        ("q2", "What do you add?"),
        ("q3", "Rate our shop"),
    ]  # not the open question, nor the text block
    assert offered("poll_question", "rate", poll=f"POLL-{data.taste}") == [("q3", "Rate our shop")]
    assert offered("poll_row", poll=poll, question="q3") == [("r1", "Prices"), ("r2", "Service")]
    assert offered("poll_row", poll=poll, question="q1") == []
    assert offered("poll_option", "o", poll=poll, question="q3") == [("m1", "Poor"), ("m2", "Good")]
    assert offered("poll_option", poll="999999", question="q1") == []
    assert offered("poll", "taste") == [(str(data.taste), "Taste survey")]
    assert offered("promocode_group", "autumn") == [(str(data.autumn), "Autumn offer")]


def test_the_rules_in_words_name_the_poll_its_question_row_and_options(session: Session, data: Data) -> None:
    chose = where(CHOSE, "is_true", poll=data.taste, question="q3", row="r1", options="m2,m1")
    issued = where(FROM_GROUP, "is_true", group=data.spring)
    rules = SegmentRules.model_validate({"root": {"children": [chose, issued]}})

    described = segment_service.describe(session, rules)

    conditions = [child for child in described.children if isinstance(child, DescribedCondition)]
    words = [" ".join(str(token[1]) for token in condition.tokens) for condition in conditions]
    assert words[0].startswith("Chose option in poll Taste survey Rate our shop Prices Good, Poor"), words
    assert words[1].startswith("Issued a code from group Spring offer"), words
