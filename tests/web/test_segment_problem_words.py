"""What the builder says about a broken condition: the metric by its label, in the user's language.

The metric checks answer in the API's words (English, metric keys); the builder must never show those to
a marketer. Every kind of broken condition below is checked in both interface languages.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session

from smartcomm.kit import i18n
from smartcomm.kit.errors import InvalidInput
from smartcomm.segments.metrics import registry
from smartcomm.segments.rules import parse_rules
from smartcomm.segments.service import segment_service
from smartcomm.web.segment_builder import readable_errors

LAST_90 = {"period": {"kind": "last", "n": 90, "unit": "days"}}
BROKEN: dict[str, dict[str, Any]] = {
    "operator of another type": {"metric": "contacts.subscribed", "operator": "gte", "value": 1},
    "no value": {"metric": "purchases.count", "operator": "gte", "params": LAST_90},
    "a word for a number": {"metric": "purchases.count", "operator": "gte", "value": "many"},
    "a missing parameter": {"metric": "purchases.category_count", "operator": "gte", "value": 2},
    "one value for between": {"metric": "profile.age", "operator": "between", "value": [30]},
    "an empty list": {"metric": "profile.gender", "operator": "in", "value": []},
    "no days in the last": {"metric": "profile.birth_date", "operator": "in_last", "value": {"n": 0}},
    "an unknown metric": {"metric": "purchases.nonexistent", "operator": "gte", "value": 1},
    "a period ending first": {
        "metric": "purchases.count",
        "operator": "gte",
        "value": 1,
        "params": {"period": {"kind": "between", "start": "2026-02-01", "end": "2026-01-01"}},
    },
    "an audience by name": {
        "metric": "audiences.member",
        "operator": "is_true",
        "params": {"audience": "VIP"},
    },
    "an unknown channel": {
        "metric": "contacts.subscribed",
        "operator": "is_true",
        "params": {"category": "1", "channel": "pigeon"},
    },
    "a date that is none": {"metric": "profile.birth_date", "operator": "before", "value": "soon"},
    "a number beyond any amount": {"metric": "purchases.amount", "operator": "gte", "value": "1e30"},
    "a thousand years back": {"metric": "purchases.last_date", "operator": "in_last", "value": {"n": 400000}},
    "a category by a name": {
        "metric": "purchases.category_count",
        "operator": "gte",
        "value": 1,
        "params": {"category": {"name": "Dairy"}},
    },
}
METRIC_KEY = re.compile(r"\b[a-z]+\.[a-z_]+\b")


def problems(session: Session, condition: dict[str, Any], language: str) -> dict[str, str]:
    raw = {"version": 1, "root": {"type": "group", "op": "and", "children": [condition]}}
    with i18n.language(language):
        try:
            segment_service.check(session, parse_rules(raw))
        except InvalidInput as error:
            return readable_errors(session, raw, {e.field: e.message for e in error.errors})
    raise AssertionError("the condition was accepted")


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_condition_is_named_by_its_label_in_english(session: Session, case: str) -> None:
    (message,) = problems(session, BROKEN[case], "en").values()
    assert not METRIC_KEY.search(message), message
    assert "operator '" not in message and "parameter '" not in message, message


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_condition_is_explained_in_russian(session: Session, case: str) -> None:
    (message,) = problems(session, BROKEN[case], "ru").values()
    assert not METRIC_KEY.search(message), message
    # Russian words only: Latin letters may appear in a value the user typed, not in the sentence.
    sentence = re.sub(r"«[^»]*»", "", message)
    assert re.search(r"[а-яА-Я]", sentence) and not re.search(r"[A-Za-z]{3,}", sentence), message


def test_the_label_of_the_metric_is_quoted(session: Session) -> None:
    (english,) = problems(session, BROKEN["no value"], "en").values()
    (russian,) = problems(session, BROKEN["no value"], "ru").values()
    label = registry.get("purchases.count", segment_service.context(session)).label
    assert english == f"Enter a value for “{label}”"
    with i18n.language("ru"):
        assert russian == f"Введите значение для условия «{label}»"
