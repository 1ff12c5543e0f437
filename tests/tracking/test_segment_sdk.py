"""The stock Segment Python SDK sends to a running smartcomm as if it were Segment."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import segment.analytics as analytics
from sqlalchemy import select

from smartcomm.kit.db import Database
from smartcomm.models import Customer, Event, EventSource, Receipt, WebEvent


@pytest.fixture
def sdk(live_server: str, live_database: Database) -> Iterator[None]:
    """The SDK's module-level client pointed at the live server with a web shop's write key."""
    with live_database.session() as session:
        source = EventSource(code="web-shop", name="Web shop", write_key="sdk-write-key")
        session.add(source)
        session.commit()
    analytics.default_client = None
    analytics.write_key, analytics.host, analytics.sync_mode = "sdk-write-key", live_server, True
    yield
    analytics.default_client = None
    analytics.write_key, analytics.host, analytics.sync_mode = None, None, False


@pytest.mark.usefixtures("sdk")
def test_the_segment_sdk_feeds_customers_events_pages_and_receipts(live_database: Database) -> None:
    analytics.page(anonymous_id="anon-7", name="Home", properties={"url": "https://shop.example/"})
    analytics.identify(
        "C-7",
        {"email": "olga@example.com", "firstName": "Olga", "lastName": "Smirnova"},
        anonymous_id="anon-7",
    )
    analytics.track("C-7", "Signed Up", {"plan": "gold"})
    analytics.page("C-7", name="Catalog", properties={"url": "https://shop.example/catalog"})
    analytics.track(
        "C-7",
        "Order Completed",
        {"order_id": "W-7", "total": 1500, "products": [{"sku": "MUG", "quantity": 3, "price": 500}]},
    )

    with live_database.session() as session:
        olga = session.scalars(select(Customer).where(Customer.external_id == "C-7")).one()
        assert (olga.first_name, olga.last_name, olga.email) == ("Olga", "Smirnova", "olga@example.com")
        signed_up = session.scalars(select(Event).where(Event.name == "Signed Up")).one()
        assert (signed_up.customer_id, signed_up.context) == (olga.id, {"plan": "gold"})
        pages = session.execute(
            select(WebEvent.kind, WebEvent.section, WebEvent.customer_id).order_by(WebEvent.id)
        )
        assert [tuple(row) for row in pages] == [
            ("visit", "Home", olga.id),  # anonymous until the identify call
            ("section_view", "Catalog", olga.id),
            ("order_complete", None, olga.id),
        ]
        receipt = session.scalars(select(Receipt)).one()
        assert (receipt.number, receipt.customer_id, receipt.total) == ("W-7", olga.id, Decimal("1500.00"))
        assert (olga.receipt_count, olga.total_amount) == (1, Decimal("1500.00"))
