"""Bad input never makes a 5xx, and nothing oversized is stored.

Request bodies have a size limit (413 before anything is read), JSON kept as sent has a size and depth
limit, numbers must fit the database (64-bit ids, page numbers, finite amounts), text must hold no NUL
characters, a signed token must name a user id; each refusal is a 4xx naming the field, and writes
nothing. What still gets through to the database as an impossible value is a 400, in the API and in the
back office.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.api.body_limit import too_large_body
from smartcomm.config import config
from smartcomm.kit.security import JWT_ALGORITHM, JWT_AUDIENCE
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, Event, FieldDefinition, Receipt, WebEvent
from tests.api.conftest import ApiClient
from tests.conftest import UIClient
from tests.events.conftest import make_customer
from tests.factories import make_user
from tests.tracking.conftest import basic, shop  # noqa: F401 (the fixture)

TEN_MB = 10 * 1024 * 1024
BEYOND_64_BITS = 2**64 + 1


def rows(session: Session, model: type[object]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def errors(response: object) -> list[tuple[str | None, str]]:
    body = response.json()  # type: ignore[attr-defined]
    return [(error["field"], error["code"]) for error in body["errors"]]


# ---------------------------------------------------------------- body size


def test_a_10_mb_write_is_refused_with_413_and_nothing_is_stored(api: ApiClient, session: Session) -> None:
    make_customer(session, "C-1")
    context = {"note": "x" * TEN_MB}
    body = json.dumps({"events": [{"name": "visit", "customer_external_id": "C-1", "context": context}]})

    response = api.post("/api/v1/events", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.content == too_large_body(config.api_max_body_bytes)
    assert response.json()["errors"][0]["title"].endswith(f"the limit is {config.api_max_body_bytes} bytes")
    assert rows(session, Event) == 0


def test_a_chunked_body_without_length_is_counted_and_cut_at_the_limit(
    api: ApiClient, session: Session
) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b'{"customers": [{"external_id": "C-1", "first_name": "'
        for _ in range(12):  # 12 MB in 1 MB pieces, no Content-Length
            sent.append(1)
            yield b"x" * (1024 * 1024)
        yield b'"}]}'

    response = api.post(
        "/api/v1/customers/batch", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "body_too_large"
    assert rows(session, Customer) == 0


def test_the_segment_intake_has_the_same_limit(client: UIClient, session: Session, shop) -> None:  # noqa: F811
    body = json.dumps({"batch": [{"type": "identify", "userId": "C-1", "traits": {"x": "y" * TEN_MB}}]})

    response = client.post(
        "/v1/batch", content=body, headers={**basic(shop.write_key), "Content-Type": "application/json"}
    )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (413, "body_too_large")
    assert rows(session, Customer) == 0


def test_a_segment_sdk_batch_of_500_kb_and_a_batch_of_100_events_fit(
    api: ApiClient,
    client: UIClient,
    session: Session,
    shop,  # noqa: F811
) -> None:
    make_customer(session, "C-1")
    messages = [{"type": "track", "userId": "C-1", "event": "Viewed", "properties": {"p": "x" * 5000}}] * 95
    sdk_batch = json.dumps({"batch": messages})
    events = [{"name": "visit", "customer_external_id": "C-1", "context": {"p": "x" * 15000}}] * 100

    tracked = client.post(
        "/v1/batch", content=sdk_batch, headers={**basic(shop.write_key), "Content-Type": "application/json"}
    )
    stored = api.post("/api/v1/events", json={"events": events})

    assert len(sdk_batch) > 480_000 and len(json.dumps({"events": events})) > 1_500_000
    assert (tracked.status_code, stored.status_code) == (200, 200)
    assert rows(session, Event) == 195


# ---------------------------------------------------------------- JSON kept as sent


def test_web_event_context_is_capped_in_size_and_depth(api: ApiClient, session: Session) -> None:
    too_large = {"kind": "visit", "visitor_id": "v-1", "context": {"a": "x" * 16_400}}
    too_deep = {"kind": "visit", "visitor_id": "v-1", "context": {"a": {"b": {"c": {"d": {"e": {}}}}}}}
    fits = {"kind": "visit", "visitor_id": "v-1", "context": {"a": {"b": {"c": {"d": {"e": 1}}}}}}

    refused = api.post("/api/v1/web-events", json={"web_events": [fits, too_large, too_deep]})
    accepted = api.post("/api/v1/web-events", json={"web_events": [fits]})

    assert refused.status_code == 422
    assert errors(refused) == [
        ("web_events[1].context", "json_too_large"),
        ("web_events[2].context", "json_too_deep"),
    ]
    assert accepted.status_code == 200
    assert rows(session, WebEvent) == 1


def test_segment_traits_and_properties_are_capped(client: UIClient, session: Session, shop) -> None:  # noqa: F811
    headers = {**basic(shop.write_key), "Content-Type": "application/json"}
    traits = {"type": "identify", "userId": "C-1", "traits": {"bio": "x" * 20_000}}
    properties = {"type": "track", "userId": "C-1", "event": "Viewed", "properties": {"v": float("nan")}}

    refused = client.post("/v1/batch", content=json.dumps({"batch": [traits, properties]}), headers=headers)

    assert refused.status_code == 422
    fields = {field for field, _code in errors(refused)}
    assert fields == {"batch[0].traits", "batch[1].properties"}
    assert rows(session, Customer) == 0


def test_custom_field_values_are_capped_by_type(api: ApiClient, session: Session) -> None:
    session.add_all(
        [
            FieldDefinition(object="customer", code="note", name="Note", type="string"),
            FieldDefinition(object="customer", code="visits", name="Visits", type="integer"),
            FieldDefinition(object="customer", code="score", name="Score", type="decimal"),
        ]
    )
    session.commit()
    custom = {"note": "x" * 1001, "visits": BEYOND_64_BITS, "score": "1e999"}

    refused = api.put("/api/v1/customers/C-1", json={"custom": custom})
    accepted = api.put("/api/v1/customers/C-1", json={"custom": {"note": "x" * 1000, "visits": 2**63 - 1}})

    assert refused.status_code == 422
    assert sorted(field for field, _code in errors(refused)) == [
        "custom.note",
        "custom.score",
        "custom.visits",
    ]
    assert accepted.status_code == 201
    assert accepted.json()["custom"] == {"note": "x" * 1000, "visits": 2**63 - 1}


# ---------------------------------------------------------------- numbers the database cannot hold


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/segments/{BEYOND_64_BITS}", "segment_id"),
        (f"/api/v1/receipts/{BEYOND_64_BITS}", "receipt_id"),
        (f"/api/v1/audiences/{BEYOND_64_BITS}/members", "audience_id"),
        ("/api/v1/segments?page=100000000000000000000", "page"),
        ("/api/v1/stores?page=99999999999", "page"),
        ("/api/v1/audit-entries?user_id=100000000000000000000", "user_id"),
        ("/api/v1/customers/C-1/events?size=501", "size"),
    ],
)
def test_numbers_beyond_what_the_database_holds_are_refused_by_name(
    api: ApiClient, url: str, field: str
) -> None:
    response = api.get(url)

    assert response.status_code == 422
    assert [name for name, _code in errors(response)] == [field]


def test_non_finite_and_huge_amounts_are_refused_by_name(api: ApiClient, session: Session) -> None:
    make_customer(session, "C-1")
    receipt = (
        '{"number": "R1", "store": "S1", "customer_external_id": "C-1",'
        ' "purchased_at": "2026-05-01T10:00:00Z", "total": %s, "lines": [{"sku": "A", "price": %s}]}'
    )
    for total, price in (("NaN", "1"), ("1", "Infinity"), ("1e999", "-Infinity")):
        response = api.post(
            "/api/v1/receipts", content=receipt % (total, price), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422, (total, price)
        assert {field for field, _code in errors(response)} <= {"total", "lines[0].price"}
    assert rows(session, Receipt) == 0


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"metric": "purchases.count", "operator": "gt", "value": BEYOND_64_BITS}, "root.children[0]"),
        ({"metric": "purchases.amount", "operator": "gt", "value": "1e999"}, "root.children[0]"),
        ({"metric": "purchases.amount", "operator": "gt", "value": "NaN"}, "root.children[0]"),
        ({"metric": "purchases.days_since_last", "operator": "lt", "value": 10**12}, "root.children[0]"),
        ({"metric": "profile.age", "operator": "gte", "value": 5000}, "root.children[0]"),
        (
            {"metric": "purchases.last_date", "operator": "in_last", "value": {"n": 10**9, "unit": "days"}},
            "root.children[0]",
        ),
        (
            {"metric": "audiences.member", "operator": "is_true", "params": {"audience": BEYOND_64_BITS}},
            "root.children[0]",
        ),
        (
            {
                "metric": "purchases.count",
                "operator": "gt",
                "value": 1,
                "params": {"store": str(BEYOND_64_BITS)},
            },
            "root.children[0]",
        ),
    ],
)
def test_rule_values_that_cannot_be_compared_are_refused_by_their_path(
    api: ApiClient, condition: dict[str, object], field: str
) -> None:
    response = api.post("/api/v1/segments/preview", json={"root": {"children": [condition]}})

    assert response.status_code == 422
    assert [name for name, _code in errors(response)] == [field]


def test_a_json_infinity_in_a_rule_value_is_refused(api: ApiClient) -> None:
    body = '{"root": {"children": [{"metric": "purchases.amount", "operator": "gt", "value": 1e999}]}}'

    response = api.post(
        "/api/v1/segments/preview", content=body, headers={"Content-Type": "application/json"}
    )

    assert (response.status_code, errors(response)) == (
        422,
        [("root.children[0].condition.value", "finite_number")],
    )


# ---------------------------------------------------------------- text and tokens


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("put", "/api/v1/customers/C-1", {"last_name": "Iv\x00anov"}, "last_name"),
        (
            "post",
            "/api/v1/customers/batch",
            {"customers": [{"external_id": "C\x00-1"}]},
            "customers[0].external_id",
        ),
        ("post", "/api/v1/audiences", {"name": "V\x00IP"}, "name"),
        ("post", "/api/v1/stores/batch", {"stores": [{"code": "S1", "name": "Mall\x00"}]}, "stores[0].name"),
        ("get", "/api/v1/customers/C%00-1", None, "external_id"),
        ("get", "/api/v1/segments?q=a%00b", None, "q"),
    ],
)
def test_nul_characters_are_refused_in_names_and_ids(
    api: ApiClient, session: Session, method: str, url: str, body: object, field: str
) -> None:
    response = api.request(method.upper(), url, json=body) if body is not None else api.get(url)

    assert response.status_code == 422
    assert [name for name, _code in errors(response)] == [field]
    assert rows(session, Customer) == 0


def signed(claims: dict[str, object]) -> str:
    now = utcnow()
    payload = {"aud": JWT_AUDIENCE, "iat": now, "exp": now + timedelta(minutes=5), **claims}
    return jwt.encode(payload, config.effective_secret_key, algorithm=JWT_ALGORITHM)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "admin", "ver": 1},
        {"sub": str(BEYOND_64_BITS), "ver": 1},
        {"sub": "-1", "ver": 1},
        {"sub": "USER", "ver": "1"},
        {"ver": 1},
    ],
    ids=["text subject", "huge subject", "negative subject", "text version", "no subject"],
)
def test_a_signed_token_that_names_no_user_is_a_401(
    client: UIClient, session: Session, claims: dict[str, object]
) -> None:
    user, _ = make_user(session, role="api")
    claims = {key: (str(user.id) if value == "USER" else value) for key, value in claims.items()}

    response = client.get("/api/v1/segments", headers={"Authorization": f"Bearer {signed(claims)}"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "unauthorized"


def test_a_token_whose_version_is_not_the_users_number_is_a_401(client: UIClient, session: Session) -> None:
    user, _ = make_user(session, role="api")
    good = signed({"sub": str(user.id), "ver": user.session_version})
    text_version = signed({"sub": str(user.id), "ver": str(user.session_version)})

    assert client.get("/api/v1/segments", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    assert (
        client.get("/api/v1/segments", headers={"Authorization": f"Bearer {text_version}"}).status_code == 401
    )


# ---------------------------------------------------------------- the last line of defence; the back office


def test_the_back_office_answers_impossible_ids_and_pages_without_a_5xx(
    client: UIClient, session: Session, backend: str
) -> None:
    user, password = make_user(session, role="administrator")
    client.sign_in(user.email, password)
    huge = str(BEYOND_64_BITS)
    expected = {
        f"/customers/{huge}": 400,
        f"/segments/{huge}": 400,
        f"/audiences/{huge}": 400,
        f"/customers/{huge}?receipts_page={huge}": 400,
        "/customers?page=1e99": 422,
        f"/customers?page={huge}": 200,
        f"/segments?page={huge}": 200,
        f"/settings/history?page={huge}": 200,
        # SQLite compares text with NUL; PostgreSQL refuses it, and the refusal is a 400 too.
        "/customers?q=a%00b": 200 if backend == "sqlite" else 400,
    }

    statuses = {url: client.get(url).status_code for url in expected}

    assert statuses == expected


def test_a_client_that_leaves_while_sending_its_body_gets_no_server_error(app, api: ApiClient) -> None:
    """wrk and impatient clients close the connection mid-body: the request ends quietly, nothing logged
    as a server error and nothing answered."""
    sent: list[dict[str, object]] = []
    arrivals = iter(
        [
            {"type": "http.request", "body": b'{"events": [', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, object]:
        return next(arrivals)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/events",
        "raw_path": b"/api/v1/events",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {api.token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    assert not [m for m in sent if m.get("status", 0) >= 500]  # type: ignore[operator]
