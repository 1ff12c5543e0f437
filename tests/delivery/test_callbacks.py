"""Provider callbacks: a Viber aggregator on loopback takes the Viber leg of a cascade; its delivery receipt
arrives at /callbacks/viber/{provider}: the message is delivered and its SMS leg cancelled. A callback
without the provider's secret is refused and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.channels.service import channel_provider_service
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.models import Message
from tests.api.conftest import ApiClient
from tests.channels.http_server import Answer, HttpServer, http_server
from tests.delivery.helpers import ACTOR, history, make_customer


@pytest.fixture
def aggregator(session: Session) -> Iterator[tuple[HttpServer, int]]:
    with http_server(lambda request: Answer(200, {"message_id": "VB-1"})) as server:
        form = {
            "name": "Aggregator",
            "url": server.url,
            "token": "v-tok",
            "sender_name": "Shop",
            "id_path": "message_id",
            "callback_secret": "s3cret",
            "callback_status_path": "state",
        }
        provider = channel_provider_service.create(session, ACTOR, "viber", "aggregator", form)
        channel_provider_service.set_active(session, ACTOR, provider.id, True)
        session.commit()
        yield server, provider.id


def cascade(api: ApiClient, customer_id: int) -> tuple[int, int]:
    body = {
        "channel": "sms_viber",
        "customer": {"id": customer_id},
        "content": {"channel": "viber", "text": "Your order is ready"},
        "sms": {"content": {"channel": "sms", "text": "Your order is ready"}},
    }
    viber, sms = api.post("/api/v1/messages", json=body).json()["messages"]
    return viber["id"], sms["id"]


def test_a_delivery_receipt_delivers_the_viber_message_and_cancels_the_sms(
    session: Session, api: ApiClient, client: TestClient, aggregator: tuple[HttpServer, int]
) -> None:
    server, provider_id = aggregator
    viber_id, sms_id = cascade(api, make_customer(session).id)
    assert [request.json()["text"] for request in server.requests] == ["Your order is ready"]
    receipt = json.dumps([{"id": "VB-1", "state": "delivered"}, {"id": "unknown", "state": "delivered"}])
    answer = client.post(
        f"/callbacks/viber/{provider_id}", content=receipt, headers={"X-Callback-Token": "s3cret"}
    )
    assert answer.status_code == 200 and answer.json() == {"received": 2, "applied": 1}
    session.expire_all()
    viber, sms = session.get(Message, viber_id), session.get(Message, sms_id)
    assert viber is not None and viber.status == Status.DELIVERED and viber.provider_message_id == "VB-1"
    assert sms is not None and (sms.status, sms.reason) == (Status.CANCELLED, Reason.CASCADE_DELIVERED)
    assert history(session, viber_id) == ["planned", "sent", "delivered"]


def test_a_callback_without_the_secret_is_refused_and_changes_nothing(
    session: Session, api: ApiClient, client: TestClient, aggregator: tuple[HttpServer, int]
) -> None:
    _, provider_id = aggregator
    viber_id, _ = cascade(api, make_customer(session).id)
    receipt = json.dumps({"id": "VB-1", "state": "delivered"})
    answer = client.post(
        f"/callbacks/viber/{provider_id}", content=receipt, headers={"X-Callback-Token": "nope"}
    )
    assert answer.status_code == 403
    assert client.post(f"/callbacks/sms/{provider_id}", content=receipt).status_code == 404
    session.expire_all()
    viber = session.get(Message, viber_id)
    assert viber is not None and viber.status == Status.SENT
