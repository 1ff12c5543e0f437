"""Render contexts for a batch of customers: what templates see, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import NotFound
from smartcomm.personalization.context import context_builder
from smartcomm.personalization.sample import TEST_EXTERNAL_ID, sample_customer_context
from smartcomm.personalization.views import ClientView
from tests.personalization.helpers import render
from tests.personalization.shop import build_template_shop


@contextmanager
def counted_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    connection = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_a_customer_context_holds_profile_receipts_and_containers(session: Session) -> None:
    shop = build_template_shop(session, customers=1)
    context = context_builder.for_customers(session, [shop.customers["C-1"]], {"event": {"order": "A-7"}})
    variables = context[shop.customers["C-1"]].variables
    template = (
        "{{ client.first_name }} {{ client.last_name }}, {{ client.age }}"
        " · размер {{ client.custom.shoe_size }}"
        " · {{ client.receipt_count }} {{ client.receipt_count|plural('чек', 'чека', 'чеков') }}"
        " на {{ client.total_amount|money }}\n"
        "{% for r in receipts %}{{ r.number }} {{ r.store }} {{ r.total|money }}:"
        "{% for line in r.lines %} {{ line.name }}×{{ line.quantity|number }}{% endfor %}\n{% endfor %}"
        "В корзине: {% for p in containers.cart.products %}{{ p.name }} ({{ p.link }})"
        "{% if not loop.last %}, "
        "{% endif %}{% endfor %} · заказ {{ event.order }} · {{ company }}"
    )
    output = render(template, settings=context[shop.customers["C-1"]].settings, **variables)
    lines = output.splitlines()
    assert lines[0].startswith("Мария Иванова-1, ")
    assert "размер 37 · 7 чеков на 5\xa0950,00\xa0₽" in lines[0]
    # The last five receipts, newest first, each with its lines and the products' names.
    assert [line.split()[0] for line in lines[1:6]] == ["C1-1", "C1-2", "C1-3", "C1-4", "C1-5"]
    assert lines[1] == "C1-1 MSK-1 850,00\xa0₽: Свеча ароматическая×2 Чай улун, 100 г×1"
    assert lines[6] == (
        # The most recently added first.
        "В корзине: Кружка «Утро» (https://shop.example/p/mug-1), Чай улун, 100 г (https://shop.example/p/tea-1)"
        " · заказ A-7 · Уют"
    )


def test_a_customer_with_no_history_gets_empty_lists_not_errors(session: Session) -> None:
    shop = build_template_shop(session, customers=0)
    context = context_builder.for_customers(session, [shop.customers["EMPTY"]])[shop.customers["EMPTY"]]
    template = (
        "{{ client.first_name }}|{{ client.last_name }}|{{ receipts|length }}|{{ containers.cart.count }}"
    )
    assert render(template, **context.variables) == "Пётр||0|0"


def test_the_number_of_queries_does_not_grow_with_the_batch(session: Session) -> None:
    shop = build_template_shop(session, customers=12)
    ids = [shop.customers[f"C-{n}"] for n in range(1, 13)]
    with counted_statements(session) as for_two:
        two = context_builder.for_customers(session, ids[:2])
    with counted_statements(session) as for_twelve:
        twelve = context_builder.for_customers(session, ids)
    assert len(two) == 2
    assert len(twelve) == 12
    assert len(for_twelve) == len(for_two)
    assert len(for_two) <= 8


def test_unknown_ids_are_left_out(session: Session) -> None:
    shop = build_template_shop(session, customers=1)
    found = context_builder.for_customers(session, [shop.customers["C-1"], 999_999])
    assert list(found) == [shop.customers["C-1"]]


def test_the_test_customer_has_every_field_and_is_not_stored(session: Session) -> None:
    build_template_shop(session, customers=1)
    context = sample_customer_context(session)
    client = context.variables["client"]
    assert isinstance(client, ClientView)
    empty = [name for name in ClientView.template_attributes if getattr(client, name, None) in (None, "", {})]
    assert empty == []
    assert client.custom == {"shoe_size": 42}
    assert client.first_name == "Анна"  # the project's language is Russian
    assert context.variables["receipts"][0].lines[0].image.startswith("https://shop.example/img/")
    assert context.variables["containers"]["cart"].products
    assert context.customer_id is None
    with pytest.raises(NotFound):  # never stored among the customers
        customer_service.get_by_external_id(session, TEST_EXTERNAL_ID)
