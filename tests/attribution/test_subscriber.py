"""Through the real path: a transactional e-mail sent over the API, opened by its recipient through the
pixel, then a receipt posted over the API — the outbox's subscriber attributes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from smartcomm.attribution.service import attribution_service
from smartcomm.delivery.tokens import open_pixel_url
from smartcomm.delivery.tracking import links, recorder
from smartcomm.kit.time import utcnow
from smartcomm.personalization.renderer import renderer
from tests.api.conftest import ApiClient, api_client
from tests.attribution.helpers import pairs
from tests.delivery.helpers import email_template
from tests.delivery.helpers import make_customer as make_contactable_customer

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


@pytest.fixture(autouse=True)
def hits_written_inline() -> Iterator[None]:
    recorder.inline = True
    renderer.forget()
    links.forget()
    yield
    recorder.inline = False
    renderer.forget()
    links.forget()


def send_email(session: Session, api: ApiClient, external_id: str) -> int:
    make_contactable_customer(session, external_id=external_id)
    version = email_template(session)
    session.commit()
    body = {"channel": "email", "customer": {"external_id": external_id}, "template_id": version.template_id}
    response = api.post("/api/v1/messages", json=body)
    assert response.status_code == 202, response.text
    return int(response.json()["messages"][0]["id"])


def open_pixel(api: ApiClient, message_id: int, user_agent: str | None) -> None:
    path = open_pixel_url(message_id).split("://", 1)[1].split("/", 1)[1]
    headers = {"User-Agent": user_agent} if user_agent else {"User-Agent": ""}
    assert api.client.get(f"/{path}", headers=headers).status_code == 200


def post_receipt(api: ApiClient, external_id: str, number: str) -> int:
    receipt = {
        "number": number,
        "store": "S1",
        "customer_external_id": external_id,
        "purchased_at": (utcnow() + timedelta(minutes=5)).isoformat(),
        "lines": [{"sku": "A", "quantity": "2", "price": "60.25"}],
    }
    response = api.post("/api/v1/receipts", json=receipt)
    assert response.status_code == 200, response.text
    [receipt_id] = response.json()["ids"]
    return int(receipt_id)


@pytest.fixture
def api(client, session: Session) -> Iterator[ApiClient]:  # type: ignore[no-untyped-def]
    yield api_client(client, session)


def test_a_receipt_after_a_person_opened_a_transactional_email_is_attributed_to_it(
    session: Session, api: ApiClient
) -> None:
    message_id = send_email(session, api, "ERP-1")
    open_pixel(api, message_id, BROWSER)

    receipt_id = post_receipt(api, "ERP-1", "R-1")

    assert [(r, m, c, kind, channel, amount) for r, m, c, kind, _, channel, amount, _ in pairs(session)] == [
        (receipt_id, message_id, True, "transactional", "email", Decimal("120.50"))
    ]
    summary = attribution_service.summary(session, "transactional", api.user.id)  # the API client sent it
    assert (summary.receipts, summary.buyers, summary.amount) == (1, 1, Decimal("120.50"))


def test_a_receipt_after_a_machine_fetched_the_pixel_is_not_attributed(
    session: Session, api: ApiClient
) -> None:
    message_id = send_email(session, api, "ERP-2")
    open_pixel(api, message_id, None)  # no user agent: a machine

    post_receipt(api, "ERP-2", "R-2")

    assert pairs(session) == []
