"""POST /api/v1/events answers alike on its plain route and on the FastAPI route (which takes the
requests carrying an Idempotency-Key): same statuses, same bodies, same errors naming the same fields."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.api.event_intake import EventIntakeRoute
from smartcomm.models import Event
from tests.api.conftest import ApiClient
from tests.events.conftest import make_customer

_keys = itertools.count()

BAD_BODIES: list[tuple[str, bytes]] = [
    ("broken JSON", b'{"events": [{"name": "visit"'),
    ("empty body", b""),
    ("no events", b"{}"),
    ("empty list", b'{"events": []}'),
    ("not an object", b"[1, 2]"),
    ("bad time", b'{"events": [{"name": "visit", "occurred_at": "yesterday"}]}'),
    ("no name", b'{"events": [{"name": "visit"}, {"customer_external_id": "C-1"}]}'),
    ("unknown field", b'{"events": [{"name": "visit", "colour": "red"}]}'),
    ("NUL in a name", b'{"events": [{"name": "vis\\u0000it"}]}'),
    ("id beyond 64 bits", b'{"events": [{"name": "visit", "customer_id": 99999999999999999999999}]}'),
    ("NaN in the context", b'{"events": [{"name": "visit", "context": {"rating": NaN}}]}'),
    (
        "context too deep",
        b'{"events": [{"name": "visit", "context": {"a": {"b": {"c": {"d": {"e": [1]}}}}}}]}',
    ),
    ("context too large", b'{"events": [{"name": "visit", "context": {"note": "%s"}}]}' % (b"x" * 17000)),
]
# Bodies that cannot even be read as JSON data: FastAPI answers 400, and so must the plain route.
UNREADABLE_BODIES: list[tuple[str, bytes]] = [
    ("not UTF-8", b'{"events": [{"name": "\xff\xfe"}]}'),
    (
        "nested beyond recursion",
        b'{"events": [{"name": "visit", "context": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
    ),
]


def post(api: ApiClient, body: bytes, *, keyed: bool, **headers: str) -> tuple[int, Any]:
    """Post raw bytes; `keyed` sends a fresh Idempotency-Key, which the FastAPI route answers."""
    key = f"key-{next(_keys)}" if keyed else None
    response = api.post(
        "/api/v1/events", content=body, key=key, headers={"Content-Type": "application/json", **headers}
    )
    return response.status_code, response.json()


@pytest.mark.parametrize(("case", "body"), BAD_BODIES, ids=[case for case, _ in BAD_BODIES])
def test_bad_bodies_get_the_same_errors_on_both_routes(
    api: ApiClient, session: Session, case: str, body: bytes
) -> None:
    plain, keyed = post(api, body, keyed=False), post(api, body, keyed=True)

    assert plain[0] == 422, plain
    assert plain == keyed
    assert session.scalar(select(func.count()).select_from(Event)) == 0


@pytest.mark.parametrize(("case", "body"), UNREADABLE_BODIES, ids=[case for case, _ in UNREADABLE_BODIES])
def test_unreadable_bodies_get_the_same_400_on_both_routes(
    api: ApiClient, session: Session, case: str, body: bytes
) -> None:
    plain, keyed = post(api, body, keyed=False), post(api, body, keyed=True)

    assert plain[0] == 400, plain
    assert plain == keyed
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_bad_values_are_refused_naming_their_field_on_both_routes(api: ApiClient) -> None:
    named = dict(BAD_BODIES)
    expected = {
        "NUL in a name": ("events[0].name", "nul_character"),
        "id beyond 64 bits": ("events[0].customer_id", "less_than_equal"),
        "NaN in the context": ("events[0].context", "finite_number"),
        "context too deep": ("events[0].context", "json_too_deep"),
        "context too large": ("events[0].context", "json_too_large"),
    }
    for case, (field, code) in expected.items():
        for keyed in (False, True):
            status, body = post(api, named[case], keyed=keyed)
            assert (status, [(e["field"], e["code"]) for e in body["errors"]]) == (422, [(field, code)]), case


def test_the_error_names_the_event_and_its_field(api: ApiClient) -> None:
    status, body = post(api, BAD_BODIES[6][1], keyed=False)

    assert status == 422
    assert [error["field"] for error in body["errors"]] == ["events[1].name"]


def test_a_good_batch_is_stored_the_same_way_on_both_routes(api: ApiClient, session: Session) -> None:
    make_customer(session, "C-1")
    events = b'{"events": [{"name": "visit", "customer_external_id": "C-1", "message_id": "%s"}]}'

    plain = post(api, events % b"m-1", keyed=False)
    keyed = post(api, events % b"m-2", keyed=True)
    again = post(api, events % b"m-1", keyed=False)

    assert plain == keyed == (200, {"accepted": 1, "duplicates": 0})
    assert again == (200, {"accepted": 0, "duplicates": 1})
    assert session.scalar(select(func.count()).select_from(Event)) == 2


def test_tokens_are_checked_the_same_way_on_both_routes(api: ApiClient, client: TestClient) -> None:
    body = b'{"events": [{"name": "visit"}]}'
    for headers in ({"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        plain, keyed = post(api, body, keyed=False, **headers), post(api, body, keyed=True, **headers)
        assert plain[0] == 401, plain
        assert plain == keyed


def test_the_plain_route_leaves_keyed_and_non_json_requests_to_the_api_route() -> None:
    route = EventIntakeRoute()

    def scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
        return {"type": "http", "method": "POST", "path": "/api/v1/events", "headers": list(headers)}

    json_type = (b"content-type", b"application/json; charset=utf-8")
    assert route.matches(scope(json_type))[0].name == "FULL"
    assert route.matches(scope(json_type, (b"idempotency-key", b"k-1")))[0].name == "NONE"
    assert route.matches(scope((b"content-type", b"text/plain")))[0].name == "NONE"
    assert route.matches(scope())[0].name == "NONE"
