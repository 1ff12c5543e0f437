"""The orders CSV import: one row per line with the order's columns repeated; a good file creates (or
replaces) its orders and publishes one event; a bad one is reported by line and column and writes
nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Customer, Order, OrderLine, OrderStatusChange, Store
from smartcomm.orders.importer import OrderImport
from smartcomm.orders.repository import ordered_items
from tests.events.conftest import make_product
from tests.orders.conftest import ACTOR, count
from tests.outbox.conftest import latest_event_id, published

HEADER = (
    "number;customer_external_id;created_at;store;general_status;payment_status;delivery_type;city;"
    "delivery_cost;sku;name;quantity;price;line_discount;bonus_redeemed\n"
)
GOOD = (
    HEADER
    + """\
W-1;C-1;2026-05-01 10:30;web;new;awaiting_payment;courier;Kazan;300;COF-250;Coffee 250 g;2;450,00;;
W-2;C-2;2026-05-02T09:00:00+03:00;;completed;paid;pickup;;;MUG;Mug;1;990;90;100
W-1;C-1;2026-05-01 10:30;web;new;awaiting_payment;courier;Kazan;300;MUG;Mug;1;990;;
"""
)


def run(session: Session, tmp_path: Path, text: str, name: str = "orders.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return OrderImport(session, ACTOR).run(path, name)


def test_a_good_file_creates_its_orders_and_publishes_one_event(
    session: Session, tmp_path: Path, anna: Customer, boris: Customer
) -> None:
    coffee = make_product(session, "COF-250", "Coffee", "450", ("coffee", "Coffee"))
    mark = latest_event_id(session)

    result = run(session, tmp_path, GOOD)
    session.commit()

    assert (result.status, result.rows, result.orders, result.created, result.replaced) == (
        "done",
        3,
        2,
        2,
        0,
    )
    first = session.scalars(select(Order).where(Order.number == "W-1")).one()
    assert (first.customer_id, first.total, first.delivery_cost, first.city) == (
        anna.id,
        Decimal("2190.00"),  # 2 × 450 + 990 + 300 delivery
        Decimal("300.00"),
        "Kazan",
    )
    assert first.created_at.isoformat() == "2026-05-01T07:30:00+00:00"  # Moscow, the project's zone
    assert session.get(Store, first.store_id).code == "web"
    second = session.scalars(select(Order).where(Order.number == "W-2")).one()
    assert (second.total, second.cash_part, second.store_id) == (Decimal("900.00"), Decimal("900.00"), None)
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == second.id)).all()
    assert [(ln.amount, ln.cash_part) for ln in lines] == [(Decimal("900.00"), Decimal("800.00"))]
    assert ordered_items(session, [first.id, second.id]) == {
        first.id: [(coffee.id, coffee.category_id), (None, None)],
        second.id: [(None, None)],
    }
    assert count(session, OrderStatusChange) == 4
    [event] = published(session, after=mark)
    assert (event.kind, event.payload) == (
        "orders.imported",
        {"customer_ids": sorted([anna.id, boris.id]), "created": 2, "replaced": 0},
    )
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "order_import")).one()
    assert (entry.action, entry.changes) == ("import", {"created": [None, 2], "replaced": [None, 0]})


def test_importing_the_same_file_again_replaces_the_orders(
    session: Session, tmp_path: Path, anna: Customer, boris: Customer
) -> None:
    run(session, tmp_path, GOOD)
    again = run(session, tmp_path, GOOD)
    assert (again.created, again.replaced) == (0, 2)
    assert (count(session, Order), count(session, OrderLine), count(session, OrderStatusChange)) == (2, 3, 4)


def test_bad_rows_are_reported_by_line_and_nothing_is_written(
    session: Session, tmp_path: Path, anna: Customer
) -> None:
    bad = """number,customer_external_id,created_at,general_status,delivery_type,sku,price,quantity
W-1,C-1,2026-05-01 10:30,new,courier,A,10,1
W-2,NOBODY,2026-05-01 10:30,,,A,10,1
W-3,C-1,yesterday,shipped,drone,A,-5,0
W-1,C-1,2026-05-02 10:30,new,courier,B,10,1
W-4,C-1,2026-05-01 10:30,,,,10,1,extra
"""
    mark = latest_event_id(session)
    result = run(session, tmp_path, bad)
    assert result.status == "rejected"
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "customer_external_id"),
        (4, "created_at"),
        (4, "delivery_type"),
        (4, "general_status"),
        (4, "price"),
        (4, "quantity"),
        (5, "number"),
        (6, "row"),
    ]
    assert result.error_rows == 4
    assert (count(session, Order), count(session, OrderLine), count(session, Store)) == (0, 0, 0)
    assert published(session, after=mark) == []


def test_a_file_with_a_wrong_header_is_refused_as_a_whole(session: Session, tmp_path: Path) -> None:
    result = run(session, tmp_path, "number;customer;sku\nW-1;C-1;A\n")
    assert result.status == "rejected"
    assert {(e.row, e.column) for e in result.errors} == {
        (1, "customer"),
        (1, "customer_external_id"),
        (1, "created_at"),
        (1, "price"),
    }
    empty = run(session, tmp_path, "number;customer_external_id;created_at;sku;price\n", "empty.csv")
    assert [e.message for e in empty.errors] == ["the file has a header but no rows"]
    assert count(session, Order) == 0
