"""Customers → All customers and the customer profile, as operators, marketers and analysts use them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from smartcomm.audiences.schemas import AudienceIn, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.audit.actor import Actor
from smartcomm.catalog.repository import CatalogRepository
from smartcomm.customers.repository import CustomerRepository
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.models import (
    AuditEntry,
    Container,
    ContainerItem,
    ContainerState,
    Customer,
    Event,
    EventSource,
    FieldDefinition,
    MailingCategory,
    Product,
    Subscription,
    WebEvent,
)
from smartcomm.models.events import SYSTEM_SOURCE_CODE
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from tests.conftest import UIClient
from tests.factories import make_user
from tests.segments.test_query_plans import plan_lines

API = Actor("api", None, "tests")
HTMX = {"HX-Request": "true", "HX-Target": "customers-table"}


def add_customer(session: Session, external_id: str, **values: Any) -> Customer:
    customer, _ = customer_service.upsert(session, API, CustomerIn(external_id=external_id, **values))
    return customer


def add_receipt(
    session: Session,
    external_id: str,
    number: str,
    when: str,
    lines: list[tuple[str, str, str]],
    **values: Any,
) -> None:
    data = {
        "number": number,
        "store": "MSK-01",
        "customer_external_id": external_id,
        "purchased_at": when,
        "lines": [{"sku": sku, "quantity": qty, "price": price} for sku, qty, price in lines],
    }
    receipt_service.write(session, API, [ReceiptIn.model_validate(data | values)])


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role, full_name=f"Test {role}")
    client.sign_in(user.email, password)
    return client


def customer_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-customer-id="(\d+)"', html)]


def row_of(html: str, customer: Customer) -> str:
    found = re.search(rf'<tr data-customer-id="{customer.id}">.*?</tr>', html, re.S)
    assert found is not None, f"{customer.full_name} is not listed"
    return found.group(0)


@contextmanager
def counted_statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements run on the test's connection (transaction control left out)."""
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


@pytest.fixture
def operator(client: UIClient, session: Session) -> UIClient:
    return signed_in(client, session, "operator")


@pytest.fixture
def promo(session: Session) -> MailingCategory:
    category = MailingCategory(code="promo", name="Promotions")
    news = MailingCategory(code="news", name="News")
    session.add_all([category, news])
    session.flush()
    return category


# ---- the list -------------------------------------------------------------------------------------


def test_search_by_last_name_prefix_ignores_case(operator: UIClient, session: Session) -> None:
    petrova = add_customer(session, "C-1", first_name="Anna", last_name="Petrova")
    petrov = add_customer(session, "C-2", first_name="Oleg", last_name="Petrov")
    add_customer(session, "C-3", first_name="Ivan", last_name="Ivanov")

    html = operator.get("/customers?q=PETR&sort=name").text
    assert customer_ids(html) == [petrov.id, petrova.id]
    full_name = operator.get("/customers?q=anna petrova").text
    assert customer_ids(full_name) == [petrova.id]


@pytest.mark.parametrize("typed", ["иванова", "ИВАНОВА", "Иванова", "ива", "анна иванова", "АННА Иванова"])
def test_search_finds_cyrillic_names_whatever_the_case_typed(
    operator: UIClient, session: Session, typed: str
) -> None:
    anna = add_customer(session, "C-1", first_name="Анна", last_name="Иванова")
    add_customer(session, "C-2", first_name="Анна", last_name="Смирнова")
    add_customer(session, "C-3", first_name="Ivan", last_name="Ivanov")

    assert customer_ids(operator.get("/customers", params={"q": typed}).text) == [anna.id]


FULL_NAME_ORDERS = [
    "Ильин Эдуард Гертрудович",
    "ильин эдуард гертрудович",
    "ИЛЬИН ЭДУАРД ГЕРТРУДОВИЧ",
    "Эдуард Гертрудович Ильин",
    "Эдуард Ильин Гертрудович",
    "гертрудович эдуард ильин",
    "Гертрудович Ильин Эдуард",
    "Ильин Гертрудович Эдуард",
    "Эдуард Ильин",
    "ильин эдуард",
    "Ильин Гертрудович",
    "  Ильин   Эдуард  Гертрудович ",
    "Ильин Эдуард Гер",  # still being typed: the last word is a beginning
]


@pytest.mark.parametrize("typed", FULL_NAME_ORDERS)
def test_search_by_a_full_name_in_any_order_and_case(
    operator: UIClient, session: Session, typed: str
) -> None:
    eduard = add_customer(session, "C-1", first_name="Эдуард", last_name="Ильин", middle_name="Гертрудович")
    add_customer(session, "C-2", first_name="Пётр", last_name="Ильинский", middle_name="Эдуардович")
    add_customer(session, "C-3", first_name="Ольга", last_name="Ильина", middle_name="Гертрудовна")
    add_customer(session, "C-4", first_name="Гертруда", last_name="Эдуардова")

    assert customer_ids(operator.get("/customers", params={"q": typed}).text) == [eduard.id]


@pytest.mark.parametrize("typed", ["Anna Maria Lopez", "lopez anna", "MARIA ANNA LOPEZ", "Anna Lopez"])
def test_search_by_a_latin_full_name_in_any_order(operator: UIClient, session: Session, typed: str) -> None:
    anna = add_customer(session, "C-1", first_name="Anna", last_name="Lopez", middle_name="Maria")
    add_customer(session, "C-2", first_name="Maria", last_name="Lopez")
    assert customer_ids(operator.get("/customers", params={"q": typed}).text) == [anna.id]


def test_a_customer_without_a_last_name_is_found_by_the_other_parts(
    operator: UIClient, session: Session
) -> None:
    nameless = add_customer(session, "C-1", first_name="Эдуард", middle_name="Гертрудович")
    add_customer(session, "C-2", first_name="Эдуард", last_name="Ильин", middle_name="Гертрудович")
    assert customer_ids(operator.get("/customers", params={"q": "гертрудович Эдуард"}).text) == [nameless.id]


@pytest.mark.parametrize("typed", ["Ильин Эдуард Гертрудович", "Эдуард Гертрудович", "ильи"])
def test_name_searches_start_from_the_last_name_index(session: Session, typed: str) -> None:
    add_customer(session, "C-1", first_name="Эдуард", last_name="Ильин", middle_name="Гертрудович")
    bind = session.get_bind()
    # The index the search is written for (declared on the model); created here when the schema lacks it.
    session.execute(
        text("CREATE INDEX IF NOT EXISTS ix_customers_last_name_lower ON customers (lower(last_name))")
    )
    if bind.dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))  # a handful of rows: ask what it would use
    statement = select(Customer.id).where(CustomerRepository(session)._matches(typed))
    lines = plan_lines(session, statement)

    assert any("ix_customers_last_name_lower" in line for line in lines), lines
    assert not [
        line for line in lines if re.search(r"^SCAN customers|Seq Scan on customers", line.strip())
    ], lines


@pytest.mark.parametrize("typed", ["8 (916) 123-45-67", "+7 916 1234567", "79161234567", "9161234567"])
def test_search_by_phone_in_any_format_matches_the_e164_number(
    operator: UIClient, session: Session, typed: str
) -> None:
    wanted = add_customer(session, "C-1", last_name="Smirnov", phone="+7 (916) 123 45 67")
    add_customer(session, "C-2", last_name="Other", phone="+7 916 765 43 21")
    assert wanted.phone == "+79161234567"
    assert customer_ids(operator.get("/customers", params={"q": typed}).text) == [wanted.id]


def test_search_by_email_external_id_card_and_platform_id(operator: UIClient, session: Session) -> None:
    anna = add_customer(
        session, "EXT-77", last_name="Smith", email="Anna.Smith@Example.com", card_number="4000123"
    )
    other = add_customer(session, "EXT-78", last_name="Jones", email="jones@example.com")

    assert customer_ids(operator.get("/customers", params={"q": " ANNA.smith@example.COM "}).text) == [
        anna.id
    ]
    assert customer_ids(operator.get("/customers", params={"q": "EXT-77"}).text) == [anna.id]
    assert customer_ids(operator.get("/customers", params={"q": "4000123"}).text) == [anna.id]
    assert customer_ids(operator.get("/customers", params={"q": str(other.id)}).text) == [other.id]


def test_search_by_receipt_number(operator: UIClient, session: Session) -> None:
    buyer = add_customer(session, "C-1", last_name="Buyer")
    add_customer(session, "C-2", last_name="Someone")
    add_receipt(session, "C-1", "R-2026-000917", "2026-03-01T10:00:00+03:00", [("SKU-1", "1", "100")])
    assert customer_ids(operator.get("/customers?q=R-2026-000917").text) == [buyer.id]


def test_htmx_search_returns_the_table_only_and_an_empty_state(operator: UIClient, session: Session) -> None:
    add_customer(session, "C-1", last_name="Petrova")
    fragment = operator.get("/customers?q=zzz", headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "No customers match “zzz”" in fragment.text


def test_sorting_by_each_column(operator: UIClient, session: Session) -> None:
    low = add_customer(session, "C-1", last_name="Adams", registered_at="2024-05-01T00:00:00Z")
    high = add_customer(session, "C-2", last_name="Brown", registered_at="2025-05-01T00:00:00Z")
    never = add_customer(session, "C-3", last_name="Clark")
    add_receipt(session, "C-1", "R1", "2026-01-10T10:00:00Z", [("A", "1", "50")])
    add_receipt(session, "C-2", "R2", "2025-12-10T10:00:00Z", [("A", "3", "100")])
    add_receipt(session, "C-2", "R3", "2025-12-11T10:00:00Z", [("A", "1", "10")])

    expected = {
        "name": [low.id, high.id, never.id],
        "-name": [never.id, high.id, low.id],
        "-total": [high.id, low.id, never.id],
        "total": [never.id, low.id, high.id],
        "-receipts": [high.id, low.id, never.id],
        "-last_purchase": [low.id, high.id, never.id],
        "last_purchase": [high.id, low.id, never.id],
        "-registered": [high.id, low.id, never.id],
        "registered": [low.id, high.id, never.id],
    }
    for sort, ids in expected.items():
        assert customer_ids(operator.get(f"/customers?sort={sort}").text) == ids, sort


def test_paging_shows_25_a_page_and_the_base_count(operator: UIClient, session: Session) -> None:
    for number in range(30):
        add_customer(session, f"C-{number:02d}", last_name=f"Name{number:02d}")

    first = operator.get("/customers?sort=name").text
    second = operator.get("/customers?sort=name&page=2").text

    assert len(customer_ids(first)) == 25 and len(customer_ids(second)) == 5
    assert "30 customers in the base" in first
    assert "Showing 26–30 of 30" in second
    assert 'href="/customers?q=&amp;sort=name&amp;page=1"' in second


def test_list_shows_aggregates_and_marks_missing_invalid_and_landline_contacts(
    operator: UIClient, session: Session
) -> None:
    good = add_customer(session, "C-1", last_name="Good", email="good@example.com", phone="+79161234567")
    broken = add_customer(session, "C-2", last_name="Broken", email="broken@@example", phone="12")
    landline = add_customer(
        session, "C-3", last_name="Landline", email="land@example.com", phone="+7 495 123-45-67"
    )
    add_receipt(session, "C-1", "R1", "2026-02-01T10:00:00Z", [("A", "2", "1250.50")])

    html = operator.get("/customers").text
    assert 'data-warning="' not in row_of(html, good)
    assert "₽2,501.00" in row_of(html, good) or "2,501.00" in row_of(html, good)
    broken_row = row_of(html, broken)
    assert 'data-warning="email-invalid"' in broken_row and 'data-warning="phone-invalid"' in broken_row
    assert "data-landline" in row_of(html, landline) and "Landline: no SMS" in row_of(html, landline)
    assert "data-landline" not in row_of(html, good) and 'data-warning="' not in row_of(html, landline)
    missing = add_customer(session, "C-4", last_name="Missing")
    missing_row = row_of(operator.get("/customers").text, missing)
    assert 'data-warning="email-missing"' in missing_row and 'data-warning="phone-missing"' in missing_row


def test_the_list_runs_the_same_few_queries_whatever_the_page_size(
    operator: UIClient, session: Session
) -> None:
    add_customer(session, "C-00", last_name="Alone")
    with counted_statements(session) as few:
        assert operator.get("/customers").status_code == 200
    for number in range(1, 30):
        add_customer(
            session, f"C-{number:02d}", last_name=f"Name{number:02d}", email=f"c{number}@example.com"
        )
    with counted_statements(session) as many:
        assert operator.get("/customers").status_code == 200
    with counted_statements(session) as searched:
        assert operator.get("/customers?q=name").status_code == 200

    # The signed-in user, the settings, the page and its count; a search also counts the whole base.
    assert len(few) == len(many) == 4
    assert len(searched) == 5


def test_roles_without_customers_view_are_refused(client: UIClient, session: Session) -> None:
    assert signed_in(client, session, "designer").get("/customers").status_code == 403


# ---- the profile ----------------------------------------------------------------------------------


@pytest.fixture
def rich_customer(session: Session, promo: MailingCategory) -> Customer:
    """A customer with receipts and lines, events, web events, a cart and custom fields."""
    classifier = CatalogRepository(session).system_classifier()
    coffee = Product(
        classifier_id=classifier.id, sku="COF-250", name="Arabica coffee 250 g", price=Decimal("7.90")
    )
    mug = Product(classifier_id=classifier.id, sku="MUG-01", name="Ceramic mug", price=Decimal("12.00"))
    session.add_all([coffee, mug])
    session.add_all(
        [
            FieldDefinition(
                object="customer", code="pet", name="Pet's name", type="string", profile_order=20
            ),
            FieldDefinition(
                object="customer", code="vip_since", name="VIP since", type="date", profile_order=10
            ),
            FieldDefinition(
                object="customer",
                code="hidden",
                name="Internal score",
                type="integer",
                profile_order=5,
                show_in_profile=False,
            ),
        ]
    )
    session.flush()
    customer = add_customer(
        session,
        "LP-1001",
        first_name="Maria",
        last_name="Sokolova",
        gender="f",
        birth_date="1990-04-12",
        country="Russia",
        region="Moscow",
        city="Moscow",
        registered_at="2023-02-01T09:00:00Z",
        card_number="7000 1234",
        card_status="active",
        email="maria@example.com",
        phone="+7 916 111-22-33",
        custom={"pet": "Barsik", "vip_since": "2024-01-15", "hidden": 7},
    )
    add_receipt(
        session,
        "LP-1001",
        "R-100",
        "2026-01-05T12:00:00Z",
        [("COF-250", "2", "7.90"), ("UNKNOWN-9", "1", "3.00")],
        discount="1.00",
        bonus_earned="12",
    )
    add_receipt(session, "LP-1001", "R-200", "2026-02-07T18:30:00Z", [("MUG-01", "1", "12.00")])
    session.add_all(
        [
            Event(
                customer_id=customer.id,
                name="call_centre",
                occurred_at=datetime(2026, 2, 8, 10, tzinfo=UTC),
                context={"topic": "delivery", "operator": "Olga"},
            ),
            WebEvent(
                kind="product_view",
                customer_id=customer.id,
                occurred_at=datetime(2026, 2, 9, 11, tzinfo=UTC),
                product_id=mug.id,
                url="https://shop.example/mug",
                snapshot={"name": "Ceramic mug", "price": "12.00"},
            ),
            ContainerState(
                customer_id=customer.id,
                container_id=_container_id(session, "cart"),
                changed_at=datetime(2026, 2, 9, 12, tzinfo=UTC),
                item_count=1,
            ),
            ContainerItem(
                customer_id=customer.id,
                container_id=_container_id(session, "cart"),
                product_id=coffee.id,
                quantity=Decimal("3"),
                price=Decimal("7.90"),
                added_at=datetime(2026, 2, 9, 12, tzinfo=UTC),
            ),
        ]
    )
    session.flush()
    return customer


def _container_id(session: Session, code: str) -> int:
    return session.scalars(select(Container.id).where(Container.code == code)).one()


def test_profile_shows_every_section(operator: UIClient, session: Session, rich_customer: Customer) -> None:
    html = operator.get(f"/customers/{rich_customer.id}").text

    assert 'id="customer-name">Sokolova Maria' in html
    assert 'id="external-id">LP-1001' in html and f'id="platform-id">{rich_customer.id}' in html
    assert re.search(
        r'data-field="birth_date">\s*Apr 12, 1990 <span class="text-secondary">· \d\d years', html
    )
    assert 'data-kpi="receipts">2<' in html
    # Receipts newest first, each with its lines; an unknown SKU keeps its code without a product name.
    assert html.index('data-receipt="R-200"') < html.index('data-receipt="R-100"')
    lines = re.search(r'data-lines-of="R-100".*?</table>', html, re.S)
    assert lines is not None
    assert (
        "COF-250" in lines.group(0)
        and "Arabica coffee 250 g" in lines.group(0)
        and "UNKNOWN-9" in lines.group(0)
    )
    assert "+12" in html  # bonus earned
    assert 'data-event="call_centre"' in html and "delivery" in html
    assert 'data-web-event="product_view"' in html and "Ceramic mug" in html
    cart = re.search(r'data-container="cart".*?</div>\s*</div>\s*</div>', html, re.S)
    assert cart is not None and "Arabica coffee 250 g" in cart.group(0) and "× 3" in cart.group(0)
    # Custom fields in the configured profile order; hidden ones are not shown.
    assert html.index('data-custom-field="vip_since"') < html.index('data-custom-field="pet"')
    assert "Barsik" in html and "Internal score" not in html


def test_profile_sections_page_through_htmx(
    operator: UIClient, session: Session, rich_customer: Customer
) -> None:
    for number in range(12):
        add_receipt(
            session, "LP-1001", f"R-9{number:02d}", f"2025-0{1 + number % 9}-01T10:00:00Z", [("A", "1", "1")]
        )

    first = operator.get(f"/customers/{rich_customer.id}").text
    fragment = operator.get(
        f"/customers/{rich_customer.id}?receipts_page=2",
        headers={"HX-Request": "true", "HX-Target": "receipts-section"},
    ).text

    assert first.count("data-receipt=") == 10
    assert fragment.startswith('<div id="receipts-section">') and "<html" not in fragment
    assert fragment.count("data-receipt=") == 4
    assert "Showing 11–14 of 14" in fragment


def test_profile_of_an_unknown_customer_is_not_found(operator: UIClient) -> None:
    assert operator.get("/customers/987654").status_code == 404


def test_profile_warns_about_invalid_contacts_and_marks_a_landline(
    operator: UIClient, session: Session
) -> None:
    broken = add_customer(session, "C-1", last_name="Broken", email="not-an-email")
    landline = add_customer(
        session, "C-2", last_name="Desk", email="desk@example.com", phone="+7 495 123-45-67"
    )

    broken_page = operator.get(f"/customers/{broken.id}").text
    assert (
        'data-warning-chip="email-invalid"' in broken_page
        and 'data-warning-chip="phone-missing"' in broken_page
    )
    assert "Invalid e-mail: excluded from e-mail sends" in broken_page
    assert re.search(r'data-status="email">invalid<', broken_page)

    desk_page = operator.get(f"/customers/{landline.id}").text
    assert "+74951234567" in desk_page
    assert re.search(r'data-status="phone">.*?landline: no SMS', desk_page)
    assert 'data-warning-chip="email-' not in desk_page


def test_profile_query_count_does_not_grow_with_history(
    operator: UIClient, session: Session, rich_customer: Customer
) -> None:
    with counted_statements(session) as before:
        operator.get(f"/customers/{rich_customer.id}")
    for number in range(8):
        add_receipt(session, "LP-1001", f"R-5{number}", "2025-06-01T10:00:00Z", [("COF-250", "1", "7.90")])
    with counted_statements(session) as after:
        operator.get(f"/customers/{rich_customer.id}")
    assert len(before) == len(after)


# ---- editing --------------------------------------------------------------------------------------


def subscription(
    session: Session, customer: Customer, category: MailingCategory, channel: str
) -> bool | None:
    return session.scalar(
        select(Subscription.subscribed).where(
            Subscription.customer_id == customer.id,
            Subscription.category_id == category.id,
            Subscription.channel == channel,
        )
    )


def test_operator_changes_a_subscription_cell(
    operator: UIClient, session: Session, promo: MailingCategory
) -> None:
    customer = add_customer(session, "C-1", last_name="Subscriber", email="s@example.com")
    url = f"/customers/{customer.id}/subscriptions"
    headers = {"HX-Request": "true", "HX-Target": "subscriptions-section"}

    response = operator.submit(url, {"category": "promo", "channel": "sms", "value": "N"}, headers=headers)

    assert response.status_code == 200
    assert response.text.startswith('<div class="card" id="subscriptions-section">')
    assert re.search(r'data-cell="promo:sms" data-state="no"', response.text)
    assert "Subscription saved." in response.headers["HX-Trigger"]
    assert subscription(session, customer, promo, "sms") is False
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "subscriptions")).one()
    assert entry.object_id == str(customer.id) and entry.changes == {"promo.sms": [None, False]}
    assert entry.actor_label.startswith("Test operator")

    operator.submit(url, {"category": "promo", "channel": "sms", "value": "ND"}, headers=headers)
    assert subscription(session, customer, promo, "sms") is None


def test_bad_subscription_change_writes_nothing(
    operator: UIClient, session: Session, promo: MailingCategory
) -> None:
    customer = add_customer(session, "C-1", last_name="Subscriber")
    headers = {"HX-Request": "true", "HX-Target": "subscriptions-section"}
    unknown = operator.submit(
        f"/customers/{customer.id}/subscriptions",
        {"category": "nope", "channel": "sms", "value": "Y"},
        headers=headers,
    )
    bad_value = operator.submit(
        f"/customers/{customer.id}/subscriptions",
        {"category": "promo", "channel": "fax", "value": "Y"},
        headers=headers,
    )
    assert (unknown.status_code, bad_value.status_code) == (422, 422)
    assert "Unknown mailing categories" in unknown.headers["HX-Trigger"]
    assert session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert session.scalar(select(func.count()).where(AuditEntry.action == "subscriptions")) == 0


def test_marketer_sees_a_read_only_matrix_and_cannot_post(
    client: UIClient, session: Session, promo: MailingCategory
) -> None:
    customer = add_customer(session, "C-1", last_name="Subscriber", email="s@example.com")
    marketer = signed_in(client, session, "marketer")
    audit_rows = session.scalar(select(func.count()).select_from(AuditEntry))

    page = marketer.get(f"/customers/{customer.id}").text
    refused = marketer.submit(
        f"/customers/{customer.id}/subscriptions", {"category": "promo", "channel": "email", "value": "Y"}
    )
    contacts = marketer.submit(f"/customers/{customer.id}/contacts", {"email": "new@example.com"})

    assert 'data-editable="false"' in page and "hx-post" not in page
    assert 'id="edit-contacts"' not in page and 'id="permissions-form"' not in page
    assert (refused.status_code, contacts.status_code) == (403, 403)
    assert session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows
    session.refresh(customer)
    assert customer.email == "s@example.com"


@pytest.mark.parametrize("role", ["analyst", "senior_marketer", "administrator"])
def test_other_roles_open_the_list_and_the_profile(
    client: UIClient, session: Session, promo: MailingCategory, role: str
) -> None:
    customer = add_customer(session, "C-1", last_name="Visible")
    viewer = signed_in(client, session, role)
    assert customer_ids(viewer.get("/customers").text) == [customer.id]
    page = viewer.get(f"/customers/{customer.id}").text
    assert 'id="customer-name">Visible' in page
    assert ('data-editable="true"' in page) is (role == "administrator")


def test_operator_edits_contacts_with_validation(operator: UIClient, session: Session) -> None:
    customer = add_customer(
        session, "C-1", last_name="Editable", email="old@example.com", phone="+79161112233"
    )
    url = f"/customers/{customer.id}/contacts"
    headers = {"HX-Request": "true", "HX-Target": "contacts-card"}

    refused = operator.submit(url, {"email": "not an e-mail", "phone": "123"}, headers=headers)
    assert refused.status_code == 422
    assert 'data-error-for="email"' in refused.text and "Enter a valid e-mail address." in refused.text
    assert 'data-error-for="phone"' in refused.text
    session.refresh(customer)
    assert (customer.email, customer.phone) == ("old@example.com", "+79161112233")

    saved = operator.submit(url, {"email": "New@Example.com", "phone": "8 (495) 765-43-21"}, headers=headers)
    assert saved.status_code == 204 and saved.headers["HX-Redirect"] == f"/customers/{customer.id}"
    session.refresh(customer)
    assert (customer.email, customer.phone, customer.phone_type) == (
        "new@example.com",
        "+74957654321",
        "landline",
    )
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.object_id == str(customer.id), AuditEntry.action == "update")
    ).all()[-1]
    assert entry.changes["email"] == ["old@example.com", "new@example.com"]


def test_operator_changes_channel_permissions(
    operator: UIClient, session: Session, promo: MailingCategory
) -> None:
    customer = add_customer(session, "C-1", last_name="Consent")
    response = operator.submit(
        f"/customers/{customer.id}/permissions",
        {"email": "true", "sms": "false", "viber": "true", "push": "true"},
    )
    assert response.status_code == 303
    session.refresh(customer)
    assert (customer.allow_email, customer.allow_sms, customer.allow_viber) == (True, False, True)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(customer.id))).all()[-1]
    assert entry.changes == {"allow_sms": [True, False]}
    matrix_header = re.search(
        r'data-channel="sms">.*?</th>', operator.get(f"/customers/{customer.id}").text, re.S
    )
    assert matrix_header is not None and "channel forbidden" in matrix_header.group(0)


# ---- segments and audiences of the customer ----------------------------------------------------------


def _in_segment_and_audience(session: Session) -> tuple[Customer, Customer, int, int]:
    inside = add_customer(session, "C-1", first_name="Вера", last_name="Орлова")
    outside = add_customer(session, "C-2", first_name="Глеб", last_name="Громов")
    rules = {
        "version": 1,
        "root": {
            "op": "and",
            "children": [{"metric": "profile.last_name", "operator": "eq", "value": "Орлова"}],
        },
    }
    segment = segment_service.create(
        session, API, SegmentIn(name="Орловы", rules=SegmentRules.model_validate(rules))
    )
    segment_service.build(session, segment.id, "manual")
    audience = audience_service.create(session, API, AudienceIn(name="VIP guests"))
    audience_service.add_members(session, API, audience.id, MembersIn(customer_ids=[inside.id]))
    session.commit()
    return inside, outside, segment.id, audience.id


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("Segments and audiences", "In since", "Added", "1 member")),
        ("ru", ("Сегменты и аудитории", "Входит с", "Добавлен", "1 участник")),
    ],
)
def test_the_profile_lists_the_customers_segments_and_audiences_with_links(
    client: UIClient, session: Session, language: str, words: tuple[str, ...]
) -> None:
    inside, outside, segment_id, audience_id = _in_segment_and_audience(session)
    user, password = make_user(session, role="marketer", language=language)
    client.sign_in(user.email, password)

    page = client.get(f"/customers/{inside.id}").text
    card = page[page.index('id="memberships-card"') :]

    assert all(word in card for word in words)
    assert f'data-segment-id="{segment_id}"' in card and f'href="/segments/{segment_id}"' in card
    assert f'data-audience-id="{audience_id}"' in card and f'href="/audiences/{audience_id}"' in card
    assert ">Орловы</a>" in card and ">VIP guests</a>" in card
    empty = client.get(f"/customers/{outside.id}").text
    assert 'id="no-memberships"' in empty and 'data-segment-id="' not in empty


def test_an_operator_sees_the_names_without_links_to_pages_it_cannot_open(
    operator: UIClient, session: Session
) -> None:
    inside, _outside, segment_id, audience_id = _in_segment_and_audience(session)

    card = operator.get(f"/customers/{inside.id}").text.split('id="memberships-card"')[1]

    assert "Орловы" in card and "VIP guests" in card
    assert f'href="/segments/{segment_id}"' not in card and f'href="/audiences/{audience_id}"' not in card


def test_the_profile_names_the_cart_and_the_online_store_in_russian(
    client: UIClient, session: Session, rich_customer: Customer
) -> None:
    source = session.scalars(select(EventSource).where(EventSource.code == SYSTEM_SOURCE_CODE)).one()
    for happened in session.scalars(select(Event).where(Event.customer_id == rich_customer.id)):
        happened.source_id = source.id
    session.flush()
    user, password = make_user(session, role="operator", language="ru")
    client.sign_in(user.email, password)

    page = client.get(f"/customers/{rich_customer.id}").text

    containers = page[page.index('id="pane-containers"') :]
    assert "Корзина" in containers and ">Cart" not in containers
    events = page[page.index('id="pane-events"') : page.index('id="pane-web-events"')]
    assert "Интернет-магазин" in events and "Online store" not in events
