"""The profile's "Loyalty operations" card: a Senior marketer awards points and asks for bonuses by hand
(a form sent twice acts once, bad input comes back with the field's message and writes nothing) and sends
a failed accrual again; a Marketer sees the card without its buttons and is refused the actions. The
loyalty system's address and secret are one card of the General settings."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.kit.signed_delivery import MAX_ATTEMPTS
from smartcomm.models import AuditEntry, LoyaltyRequest, PointsEntry
from tests.conftest import UIClient
from tests.factories import make_user
from tests.loyalty.conftest import connect, counts, member
from tests.webhooks.conftest import LoyaltySystem

HX = {"HX-Request": "true", "HX-Target": "loyalty-card"}


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    session.commit()
    client.sign_in(user.email, password)
    return client


def test_a_senior_marketer_awards_points_once_per_form(client: UIClient, session: Session) -> None:
    anna = member(session, first_name="Anna")
    senior = signed_in(client, session, "senior_marketer")
    page = senior.get(f"/customers/{anna.id}").text
    assert 'id="award-points"' in page and 'id="accrue-bonuses"' in page
    key = re.search(r'id="points-form".*?name="key" value="([0-9a-f]+)"', page, re.S)
    assert key is not None

    form = {"points": "25", "reason": "Apology", "key": key.group(1)}
    first = senior.submit(f"/customers/{anna.id}/points", form, headers=HX)
    assert first.status_code == 204 and first.headers["HX-Redirect"] == f"/customers/{anna.id}"
    assert senior.submit(f"/customers/{anna.id}/points", form, headers=HX).status_code == 204  # sent twice

    [entry] = session.scalars(select(PointsEntry)).all()
    assert (entry.points, entry.reason, entry.source_kind, entry.key) == (
        25,
        "Apology",
        "user",
        f"manual:{key.group(1)}",
    )
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "award_points")).one()
    assert audit.object_id == str(anna.id)
    shown = senior.get(f"/customers/{anna.id}").text
    assert 'data-operation="points"' in shown and "+25" in shown and 'data-kpi="points-balance">25<' in shown


def test_bad_input_comes_back_in_the_card_and_writes_nothing(client: UIClient, session: Session) -> None:
    anna = member(session)
    senior = signed_in(client, session, "senior_marketer")
    before = counts(session)
    zero = senior.submit(f"/customers/{anna.id}/points", {"points": "0", "key": "k" * 12}, headers=HX)
    assert zero.status_code == 422 and 'id="loyalty-card"' in zero.text
    assert "give a whole number other than 0" in zero.text and 'id="f-points"' in zero.text
    word = senior.submit(f"/customers/{anna.id}/accruals", {"amount": "lots", "key": "k" * 12}, headers=HX)
    assert word.status_code == 422 and 'class="form-control is-invalid" id="f-amount"' in word.text
    assert counts(session) == before


def test_a_senior_marketer_asks_for_bonuses_and_sends_a_failed_request_again(
    client: UIClient, session: Session, loyalty: LoyaltySystem
) -> None:
    connect(session, loyalty.url)
    anna = member(session)
    senior = signed_in(client, session, "senior_marketer")
    form = {"amount": "300", "comment": "Birthday gift", "key": "a" * 32}
    assert senior.submit(f"/customers/{anna.id}/accruals", form, headers=HX).status_code == 204
    [request] = session.scalars(select(LoyaltyRequest)).all()
    assert (request.status, request.amount, request.source_kind) == ("delivered", 300, "user")
    assert loyalty.received[0].signed_correctly

    session.execute(update(LoyaltyRequest).values(status="failed", attempts=MAX_ATTEMPTS, error="HTTP 503"))
    session.commit()
    page = senior.get(f"/customers/{anna.id}").text
    assert 'data-status="failed"' in page and "HTTP 503" in page and "data-send-again" in page
    again = senior.submit(f"/customers/{anna.id}/accruals/{request.id}/send-again", headers=HX)
    assert again.status_code == 204
    session.refresh(request)
    assert (request.status, request.attempts) == ("delivered", 1) and len(loyalty.received) == 2


def test_a_marketer_sees_the_card_but_may_not_operate(client: UIClient, session: Session) -> None:
    anna = member(session)
    marketer = signed_in(client, session, "marketer")
    page = marketer.get(f"/customers/{anna.id}").text
    assert 'id="loyalty-card"' in page and 'id="bonuses-card"' in page
    assert 'id="award-points"' not in page and 'id="points-form"' not in page
    before = counts(session)
    refused = marketer.submit(f"/customers/{anna.id}/points", {"points": "5", "key": "k" * 12})
    assert refused.status_code == 403
    assert (
        marketer.submit(f"/customers/{anna.id}/accruals", {"amount": "5", "key": "k" * 12}).status_code == 403
    )
    assert counts(session) == before


def test_the_loyalty_system_is_one_card_of_the_general_settings(admin_client: UIClient) -> None:
    page = admin_client.get("/settings/general").text
    card = page[page.index('id="loyalty-system-settings"') :]
    assert 'id="f-webhook_url"' in card and 'id="f-webhook_secret"' in card
    delivery = page[page.index('id="delivery-settings"') : page.index('id="loyalty-system-settings"')]
    assert "webhook" not in delivery
