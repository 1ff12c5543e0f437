"""The Orders pages over HTTP: hidden with the module off, the list with its filters, totals and paging,
the profile's Orders tab, the import page, and Settings → Order statuses (the switch, adding, editing and
refusing to delete a status in use)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import Customer, Order, OrderStatus
from smartcomm.orders.book import StatusBook
from smartcomm.orders.writer import LineRecord, OrderRecord, OrderWriter
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.factories import make_user
from tests.orders.conftest import count, enable_orders
from tests.web.test_customers_pages import counted_statements


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    return client


def write(session: Session, customer: Customer, count_: int, **codes: str) -> None:
    """Orders ORD-0…, one a day back from now, each of one 100.00 line."""
    book = StatusBook.load(session)
    statuses = {s.dimension + ":" + s.code: s.id for s in session.scalars(select(OrderStatus))}
    now = datetime.now(UTC)
    records = [
        OrderRecord(
            f"ORD-{n}",
            customer.id,
            now - timedelta(days=n),
            Decimal("100"),
            status_ids={d: statuses[f"{d}:{c}"] for d, c in codes.items()},
            lines=[LineRecord("COF", Decimal(1), Decimal(100), Decimal(100), name="Coffee")],
        )
        for n in range(count_)
    ]
    OrderWriter(session, book).write(records, publish_events=False)


def test_with_the_module_off_the_pages_and_the_menu_entry_are_hidden(
    client: UIClient, session: Session, anna: Customer
) -> None:
    signed_in(client, session, "administrator")
    home = client.get("/customers")
    assert 'href="/orders"' not in home.text and 'href="/settings/order-statuses"' in home.text
    assert client.get("/orders").status_code == 404
    assert client.get("/orders/import").status_code == 404
    profile = client.get(f"/customers/{anna.id}")
    assert 'id="tab-orders"' not in profile.text


def test_a_marketer_filters_and_pages_the_orders(client: UIClient, session: Session, anna: Customer) -> None:
    enable_orders(session)
    write(session, anna, 30, general="new", payment="paid")
    session.commit()
    signed_in(client, session, "marketer")

    page = client.get("/orders")
    assert page.status_code == 200
    assert 'href="/orders"' in page.text  # the menu entry
    assert page.text.count('data-order="ORD-') == 25 and 'data-total="orders">30<' in page.text
    assert 'data-total="amount">' in page.text and 'id="orders-chart-data"' in page.text
    assert 'data-status="paid"' in page.text and "Coffee" in page.text
    assert 'id="import-orders"' not in page.text  # importing is for administrators
    second = client.get("/orders", params={"page": 2})
    assert second.text.count('data-order="ORD-') == 5

    cancelled = session.scalars(select(OrderStatus).where(OrderStatus.code == "cancelled")).one()
    none = client.get("/orders", params={"general": cancelled.id})
    assert 'data-total="orders">0<' in none.text and "No orders match these filters" in none.text
    today = datetime.now(UTC).date()
    recent = client.get("/orders", params={"start": (today - timedelta(days=2)).isoformat(), "q": "ORD"})
    assert 'data-total="orders">' in recent.text and recent.text.count('data-order="ORD-') in (2, 3, 4)
    fragment = client.get(
        "/orders", params={"q": "ORD-1"}, headers={"HX-Request": "true", "HX-Target": "orders-results"}
    )
    assert "<html" not in fragment.text and fragment.text.count('data-order="ORD-1') == 11  # ORD-1, ORD-10…19
    nonsense = client.get("/orders", params={"general": "x", "start": "never", "customer": "9" * 30})
    assert nonsense.status_code == 200


def test_the_profile_shows_the_customers_orders(client: UIClient, session: Session, anna: Customer) -> None:
    enable_orders(session)
    write(session, anna, 2, general="completed", delivery="delivered")
    session.commit()
    signed_in(client, session, "operator")
    profile = client.get(f"/customers/{anna.id}", params={"tab": "orders"})
    assert 'id="tab-orders"' in profile.text and 'id="customer-orders"' in profile.text
    assert 'data-order="ORD-0"' in profile.text and 'data-status="delivered"' in profile.text


def test_an_administrator_imports_a_file_and_sees_bad_rows_by_line(
    client: UIClient, session: Session, anna: Customer
) -> None:
    enable_orders(session)
    session.commit()
    signed_in(client, session, "administrator")
    assert "customer_external_id" in client.get("/orders/import").text
    sample = client.get("/orders/import/sample.csv")
    assert sample.headers["content-type"].startswith("text/csv") and "W-1001" in sample.text

    good = "number;customer_external_id;created_at;sku;price\nW-1;C-1;2026-05-01 10:00;A;10\n"
    done = client.submit("/orders/import", files={"file": ("orders.csv", good.encode(), "text/csv")})
    assert done.status_code == 200 and 'data-status="done"' in done.text
    assert 'data-count="created">1<' in done.text
    bad = "number;customer_external_id;created_at;sku;price\nW-2;NOBODY;2026-05-01 10:00;A;10\n"
    refused = client.submit("/orders/import", files={"file": ("orders.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422 and 'data-row="2"' in refused.text
    assert count(session, Order) == 1
    assert client.submit("/orders/import").status_code == 422


def test_an_administrator_turns_the_module_on_and_manages_statuses(
    client: UIClient, session: Session, anna: Customer
) -> None:
    signed_in(client, session, "administrator")
    settings = client.get("/settings/order-statuses")
    assert settings.status_code == 200 and 'data-enabled="false"' in settings.text
    assert client.submit("/settings/order-statuses/module", {"enabled": "true"}).status_code == 303
    assert settings_service.read(session, GeneralSettings).orders_enabled is True

    created = client.submit(
        "/settings/order-statuses",
        {"dimension": "delivery", "code": "returned", "name": "Returned", "include_in_analytics": "false"},
    )
    assert created.status_code == 303, created.text
    status = session.scalars(select(OrderStatus).where(OrderStatus.code == "returned")).one()
    assert (status.dimension, status.include_in_analytics, status.position) == ("delivery", False, 5)
    duplicate = client.submit(
        "/settings/order-statuses", {"dimension": "delivery", "code": "returned", "name": "x"}
    )
    assert duplicate.status_code == 409 and 'data-error-for="code"' in duplicate.text

    client.submit(f"/settings/order-statuses/{status.id}/analytics", {"include_in_analytics": "true"})
    session.refresh(status)
    assert status.include_in_analytics is True

    write(session, anna, 1, delivery="returned")
    session.commit()
    edit = client.get(f"/settings/order-statuses/{status.id}")
    assert "1 order is in this status" in edit.text
    refused = client.submit(f"/settings/order-statuses/{status.id}/delete")
    assert refused.status_code == 303 and session.get(OrderStatus, status.id) is not None
    saved = client.submit(
        f"/settings/order-statuses/{status.id}",
        {
            "name": "Sent back",
            "code": "sent_back",
            "include_in_analytics": "true",
            "is_final": "true",
            "position": "1",
        },
    )
    assert saved.status_code == 303
    session.refresh(status)
    assert (status.name, status.code, status.is_final) == ("Sent back", "sent_back", True)


def test_an_analyst_reads_the_orders_but_not_the_order_statuses(client: UIClient, session: Session) -> None:
    signed_in(client, session, "analyst")
    assert client.get("/settings/order-statuses").status_code == 403
    enable_orders(session)
    session.commit()
    assert client.get("/orders").status_code == 200


def test_the_list_and_the_tab_cost_the_same_statements_however_many_orders(
    client: UIClient, session: Session, anna: Customer
) -> None:
    enable_orders(session)
    write(session, anna, 2, general="new")
    session.commit()
    signed_in(client, session, "marketer")
    with counted_statements(session) as few:
        client.get("/orders")
        client.get(f"/customers/{anna.id}", params={"tab": "orders"})
    write(session, anna, 20, delivery="shipped", payment="paid")  # replaces the two, adds eighteen
    session.commit()
    with counted_statements(session) as many:
        client.get("/orders")
        client.get(f"/customers/{anna.id}", params={"tab": "orders"})
    assert len(few) == len(many)
