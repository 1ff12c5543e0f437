"""Concurrent POST /api/v1/events on a real server: requests share commits, yet each is answered alone."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from smartcomm.kit.db import Database, session_scope
from smartcomm.kit.security import issue_api_token
from smartcomm.models import AuditEntry, Event
from tests.events.conftest import make_customer
from tests.factories import make_user, run_apart

REQUESTS = 30


def prepare(customers: int) -> str:
    with session_scope() as session:
        for number in range(customers):
            make_customer(session, f"C-{number}")
        user, _ = make_user(session, role="api", full_name="Shop backend")
        token, _ = issue_api_token(user.id, user.session_version)
    return token


def events_of(request: int, *, customer: str | None = None) -> dict[str, list[dict[str, object]]]:
    return {
        "events": [
            {
                "name": "app_opened",
                "customer_external_id": customer or f"C-{(request + n) % 5}",
                "message_id": f"r{request}-e{n}",
            }
            for n in range(3)
        ]
    }


async def post_all(
    base_url: str, token: str, bodies: list[dict[str, list[dict[str, object]]]]
) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        return await asyncio.gather(*(client.post("/api/v1/events", json=body) for body in bodies))


def test_concurrent_requests_each_get_their_own_answer(live_server: str, live_database: Database) -> None:
    token = prepare(customers=5)
    bodies = [events_of(n) for n in range(REQUESTS)]
    bodies[7] = events_of(7, customer="NOBODY")  # names an unknown customer: refused, nothing stored
    bodies[12]["events"][0]["message_id"] = "r3-e0"  # repeats an event of request 3

    responses = run_apart(post_all(live_server, token, bodies))

    refused = responses[7]
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "events[0].customer_external_id"
    answers = [r.json() for n, r in enumerate(responses) if n != 7]
    assert all(r.status_code == 200 for n, r in enumerate(responses) if n != 7)
    # Of the two requests sending r3-e0, whichever was written first stored it.
    assert sorted((responses[3].json()["duplicates"], responses[12].json()["duplicates"])) == [0, 1]
    assert sum(answer["accepted"] for answer in answers) == (REQUESTS - 1) * 3 - 1
    with session_scope(read_only=True) as session:
        stored = set(session.scalars(select(Event.message_id)))
        batches = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.object_type == "event_batch")
        )
    assert not any(message_id.startswith("r7-") for message_id in stored)
    assert len(stored) == (REQUESTS - 1) * 3 - 1
    assert batches == REQUESTS - 1  # one history row per stored request
