"""smartcomm's own points ("Award points"): awarded once per key whoever asks again (also two at the same
time), the balance kept on every award, audited when a person or an API client awards them, and the API
to read and award them."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.kit.db import Database
from smartcomm.kit.errors import InvalidInput, NotFound
from smartcomm.loyalty.schemas import Source
from smartcomm.loyalty.service import loyalty_service
from smartcomm.models import AuditEntry, LoyaltyAccount, PointsEntry
from tests.api.conftest import ApiClient
from tests.loyalty.conftest import counts, events, member

CAMPAIGN = Source("campaign", "7", "node-3")
URL = "/api/v1/customers"


def balance(session: Session, customer_id: int) -> int:
    account = session.get(LoyaltyAccount, customer_id, populate_existing=True)
    return account.points_balance if account else 0


def test_points_are_awarded_once_per_key(session: Session) -> None:
    anna = member(session)
    assert loyalty_service.award_points(session, anna.id, 50, "campaign:7:node-3:1", "Welcome", CAMPAIGN)
    assert not loyalty_service.award_points(session, anna.id, 50, "campaign:7:node-3:1", "Welcome", CAMPAIGN)
    later = Source("campaign", "7", "node-9")
    assert loyalty_service.award_points(session, anna.id, -20, "campaign:7:node-9:1", None, later)
    session.commit()

    assert balance(session, anna.id) == 30
    entries = session.scalars(select(PointsEntry).order_by(PointsEntry.id)).all()
    assert [(e.points, e.reason, e.source_kind, e.source_id, e.part) for e in entries] == [
        (50, "Welcome", "campaign", "7", "node-3"),
        (-20, None, "campaign", "7", "node-9"),
    ]
    assert [(e.customer_id, e.payload["points"]) for e in events(session, "points.awarded")] == [
        (anna.id, 50),
        (anna.id, -20),
    ]
    assert (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "award_points")
        )
        == 0
    )


def test_a_person_awarding_points_is_audited(session: Session) -> None:
    anna = member(session)
    operator = Actor("user", None, "Senior marketer")
    loyalty_service.award_points(session, anna.id, 15, "manual:abc", "Apology", Source("user", "1"), operator)
    session.commit()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "award_points")).one()
    assert (entry.object_type, entry.object_id, entry.actor_label) == (
        "customer",
        str(anna.id),
        "Senior marketer",
    )
    assert entry.changes["points"] == [None, 15] and entry.changes["reason"] == [None, "Apology"]


@pytest.mark.parametrize(
    ("points", "key", "reason", "field"),
    [
        (0, "k-1", None, "points"),
        (10**13, "k-1", None, "points"),
        (5, "", None, "key"),
        (5, "k" * 201, None, "key"),
        (5, "k-1", "r" * 501, "reason"),
    ],
)
def test_bad_awards_are_refused_naming_the_field(
    session: Session, points: int, key: str, reason: str | None, field: str
) -> None:
    anna = member(session)
    before = counts(session)
    with pytest.raises(InvalidInput) as refused:
        loyalty_service.award_points(session, anna.id, points, key, reason, CAMPAIGN)
    assert [error.field for error in refused.value.errors] == [field]
    assert counts(session) == before
    with pytest.raises(NotFound):
        loyalty_service.award_points(session, anna.id + 1000, 5, "k-2", None, CAMPAIGN)


def test_two_awards_with_one_key_at_the_same_time_award_once(live_database: Database) -> None:
    with live_database.session() as session:
        anna = member(session)
    start = threading.Barrier(2)
    outcomes: list[bool] = []

    def award() -> None:
        with live_database.session() as session:
            start.wait()
            outcomes.append(loyalty_service.award_points(session, anna.id, 25, "race", None, CAMPAIGN))
            session.commit()

    threads = [threading.Thread(target=award) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [False, True]
    with live_database.session() as session:
        assert balance(session, anna.id) == 25
        assert session.scalar(select(func.count()).select_from(PointsEntry)) == 1


# ---------------------------------------------------------------- the API


def test_the_api_awards_points_once_per_key_and_lists_them(api: ApiClient, session: Session) -> None:
    anna = member(session, "C-1")
    first = api.post(f"{URL}/C-1/points", json={"points": 100, "reason": "Survey"}, key="order-1")
    assert first.status_code == 201, first.text
    assert (first.json()["points"], first.json()["key"], first.json()["source_kind"]) == (
        100,
        "api:order-1",
        "api",
    )

    replayed = api.post(f"{URL}/C-1/points", json={"points": 100, "reason": "Survey"}, key="order-1")
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    # The same key in the body under another header (the header's answer long forgotten): the first entry.
    again = api.post(f"{URL}/C-1/points", json={"points": 100, "key": "order-1"}, key="retry-2")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = api.post(f"{URL}/C-1/points", json={"points": 5, "key": "order-1"}, key="retry-3")
    assert other.status_code == 409 and "key" in other.text
    api.post(f"{URL}/C-1/points", json={"points": -30, "key": "refund-1"})

    listed = api.get(f"{URL}/C-1/points")
    assert listed.status_code == 200
    body = listed.json()
    assert (body["balance"], body["total"]) == (70, 2)
    assert [item["points"] for item in body["items"]] == [-30, 100]
    assert balance(session, anna.id) == 70
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "award_points")).all()
    assert [entry.changes["points"][1] for entry in audited] == [100, -30]


def test_the_api_refuses_awards_without_a_key_or_with_zero_points(api: ApiClient, session: Session) -> None:
    member(session, "C-1")
    before = counts(session)
    no_key = api.post(f"{URL}/C-1/points", json={"points": 10})
    assert no_key.status_code == 422 and '"key"' in no_key.text
    zero = api.post(f"{URL}/C-1/points", json={"points": 0}, key="z-1")
    assert zero.status_code == 422 and '"points"' in zero.text
    unknown = api.post(f"{URL}/C-404/points", json={"points": 10}, key="u-1")
    assert unknown.status_code == 404
    assert api.get(f"{URL}/C-404/points").status_code == 404
    assert counts(session) == before
