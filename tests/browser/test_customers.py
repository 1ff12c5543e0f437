"""Customers in a real browser: an operator finds a customer and changes a subscription; a marketer reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.catalog.repository import CatalogRepository
from smartcomm.customers.schemas import ContactsIn, CustomerIn, PushTokenIn, SubscriptionsIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.db import Database
from smartcomm.models import (
    Container,
    ContainerItem,
    ContainerState,
    Event,
    FieldDefinition,
    MailingCategory,
    Product,
    WebEvent,
)
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service
from tests.browser.conftest import check_layout, sign_in, sign_out, snapshot

API = Actor("api", None, "tests")
PRODUCTS = [
    ("COF-250", "Arabica coffee beans 250 g", "8.90"),
    ("TEA-100", "Green tea sencha 100 g", "5.40"),
    ("MUG-01", "Ceramic mug 350 ml", "12.00"),
    ("CHOC-70", "Dark chocolate 70%", "3.20"),
    ("BIS-200", "Almond biscotti 200 g", "4.75"),
]
OTHERS = [
    ("LP-1002", "Ivan", "Petrov", "ivan.petrov@example.com", "+7 916 222-33-44"),
    ("LP-1003", "Elena", "Smirnova", "elena@@example", "+7 495 123-45-67"),
    ("LP-1004", "Dmitry", "Kuznetsov", None, "+7 903 555-10-20"),
    ("LP-1005", "Olga", "Sokolova", "olga.s@example.com", None),
    ("LP-1006", "Pavel", "Volkov", "p.volkov@example.com", "+7 921 444-55-66"),
]


def seed(database: Database) -> int:
    """A small realistic base: one customer with a full history among a few others; returns her id."""
    with database.session() as session:
        products = _catalogue(session)
        _categories(session)
        session.add_all(
            [
                FieldDefinition(
                    object="customer",
                    code="favourite_store",
                    name="Favourite store",
                    type="string",
                    profile_order=1,
                ),
                FieldDefinition(
                    object="customer", code="vip_since", name="VIP since", type="date", profile_order=2
                ),
                FieldDefinition(
                    object="customer", code="children", name="Children", type="integer", profile_order=3
                ),
            ]
        )
        maria = _customer(
            session,
            "LP-1001",
            "Maria",
            "Sokolova",
            "maria.sokolova@example.com",
            "8 916 111-22-33",
            custom={"favourite_store": "Tverskaya 12", "vip_since": "2024-03-01", "children": 2},
        )
        for external_id, first, last, email, phone in OTHERS:
            _customer(session, external_id, first, last, email, phone)
        _receipts(session)
        _behaviour(session, maria, products)
        customer_service.update_contacts(
            session,
            API,
            customer_service.get(session, maria),
            ContactsIn(
                push_tokens=[
                    PushTokenIn(
                        token="fcm-8f14e45fceea167a5a36dedd4bea2543", platform="android", app="Coffee Club"
                    ),
                    PushTokenIn(
                        token="apns-c9f0f895fb98ab9159f51fd0297e236d", platform="ios", app="Coffee Club"
                    ),
                ]
            ),
        )
        customer_service.set_subscriptions(
            session,
            API,
            customer_service.get(session, maria),
            SubscriptionsIn(
                categories={
                    "promo": {"email": "Y", "sms": "Y", "push": "Y"},
                    "news": {"email": "N"},
                    "service": {"email": "Y", "sms": "Y", "viber": "Y", "push": "Y"},
                },
            ),
        )
        session.commit()
        return maria


def _catalogue(session: Session) -> dict[str, int]:
    classifier = CatalogRepository(session).system_classifier()
    rows = [
        Product(classifier_id=classifier.id, sku=sku, name=name, price=Decimal(price))
        for sku, name, price in PRODUCTS
    ]
    session.add_all(rows)
    session.flush()
    return {row.sku: row.id for row in rows}


def _categories(session: Session) -> None:
    session.add_all(
        [
            MailingCategory(code="promo", name="Promotions and sales"),
            MailingCategory(code="news", name="News and new arrivals"),
            MailingCategory(code="personal", name="Personal offers"),
            MailingCategory(code="service", name="Order and delivery status"),
        ]
    )
    session.flush()


def _customer(
    session: Session,
    external_id: str,
    first: str,
    last: str,
    email: str | None,
    phone: str | None,
    **values: object,
) -> int:
    data = CustomerIn.model_validate(
        {
            "external_id": external_id,
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "gender": "f" if last.endswith("a") else "m",
            "birth_date": "1988-09-23",
            "country": "Russia",
            "region": "Moscow",
            "city": "Moscow",
            "registered_at": "2022-11-14T10:00:00+03:00",
            "card_number": f"7000 {external_id[-4:]} 5512",
            "card_status": "active",
            **values,
        }
    )
    customer, _ = customer_service.upsert(session, API, data)
    return customer.id


def _receipts(session: Session) -> None:
    baskets = [
        (
            "2026-02-14T18:42:00+03:00",
            [("COF-250", "2", "8.90"), ("CHOC-70", "3", "3.20"), ("MUG-01", "1", "12.00")],
        ),
        ("2026-01-28T09:15:00+03:00", [("TEA-100", "1", "5.40"), ("BIS-200", "2", "4.75")]),
        ("2026-01-09T13:05:00+03:00", [("COF-250", "1", "8.90")]),
        (
            "2025-12-21T17:30:00+03:00",
            [("MUG-01", "2", "12.00"), ("CHOC-70", "4", "3.20"), ("GIFT-BOX", "1", "6.00")],
        ),
        ("2025-11-30T11:00:00+03:00", [("COF-250", "3", "8.90"), ("TEA-100", "2", "5.40")]),
    ]
    receipts = [
        {
            "number": f"MSK01-{4812 - index}",
            "store": "MSK-01" if index % 2 == 0 else "online",
            "customer_external_id": "LP-1001",
            "purchased_at": when,
            "bonus_earned": "12" if index != 1 else "0",
            "bonus_spent": "5" if index == 1 else "0",
            "discount": "2.50" if index == 0 else "0",
            "lines": [{"sku": sku, "quantity": qty, "price": price} for sku, qty, price in lines],
        }
        for index, (when, lines) in enumerate(baskets)
    ]
    receipts.append(
        {
            "number": "MSK01-4700",
            "store": "MSK-01",
            "customer_external_id": "LP-1002",
            "purchased_at": "2026-02-01T12:00:00+03:00",
            "lines": [{"sku": "TEA-100", "price": "5.40"}],
        }
    )
    receipt_service.write(session, API, [ReceiptIn.model_validate(item) for item in receipts])


def _behaviour(session: Session, customer_id: int, products: dict[str, int]) -> None:
    now = datetime(2026, 2, 16, 12, 0, tzinfo=UTC)
    cart = session.scalars(select(Container).where(Container.code == "cart")).one()
    wishlist = session.scalars(select(Container).where(Container.code == "wishlist")).one()
    session.add_all(
        [
            Event(
                customer_id=customer_id,
                name="call_centre",
                occurred_at=now - timedelta(days=2),
                context={"topic": "delivery delay", "operator": "Olga", "order": "A-5521"},
            ),
            Event(
                customer_id=customer_id,
                name="app_installed",
                occurred_at=now - timedelta(days=40),
                context={"platform": "android", "version": "3.4.1"},
            ),
            Event(
                customer_id=customer_id,
                name="review_left",
                occurred_at=now - timedelta(days=9),
                context={"rating": 5, "product": "COF-250"},
            ),
            WebEvent(
                kind="visit",
                customer_id=customer_id,
                occurred_at=now - timedelta(hours=5),
                url="https://shop.example/",
                context={"utm_source": "email", "utm_campaign": "feb_sale"},
            ),
            WebEvent(
                kind="product_view",
                customer_id=customer_id,
                occurred_at=now - timedelta(hours=4, minutes=50),
                product_id=products["MUG-01"],
                url="https://shop.example/p/mug-01",
                snapshot={"name": "Ceramic mug 350 ml", "price": "12.00", "in_stock": True},
            ),
            WebEvent(
                kind="container_change",
                customer_id=customer_id,
                occurred_at=now - timedelta(hours=4, minutes=45),
                product_id=products["COF-250"],
                container_code="cart",
                container_action="add",
                quantity=2,
                snapshot={"name": "Arabica coffee beans 250 g", "price": "8.90"},
            ),
            WebEvent(
                kind="section_view",
                customer_id=customer_id,
                occurred_at=now - timedelta(hours=4, minutes=40),
                section="promo_february",
                url="https://shop.example/promo",
            ),
            ContainerState(
                customer_id=customer_id,
                container_id=cart.id,
                changed_at=now - timedelta(hours=4, minutes=45),
                item_count=2,
            ),
            ContainerItem(
                customer_id=customer_id,
                container_id=cart.id,
                product_id=products["COF-250"],
                quantity=Decimal("2"),
                price=Decimal("8.90"),
                added_at=now - timedelta(hours=4, minutes=45),
            ),
            ContainerItem(
                customer_id=customer_id,
                container_id=cart.id,
                product_id=products["BIS-200"],
                quantity=Decimal("1"),
                price=Decimal("4.75"),
                added_at=now - timedelta(days=1),
            ),
            ContainerState(
                customer_id=customer_id,
                container_id=wishlist.id,
                changed_at=now - timedelta(days=6),
                item_count=1,
            ),
            ContainerItem(
                customer_id=customer_id,
                container_id=wishlist.id,
                product_id=products["MUG-01"],
                quantity=Decimal("1"),
                price=Decimal("12.00"),
                added_at=now - timedelta(days=6),
            ),
        ]
    )
    session.flush()


def cell(page: Page, key: str):
    return page.locator(f'[data-cell="{key}"]')


def test_operator_finds_a_customer_and_changes_a_subscription(
    page: Page, staff, live_database: Database
) -> None:
    customer_id = seed(live_database)
    email, password = staff("operator", full_name="Oksana Operator")
    sign_in(page, email, password)

    page.goto("/customers")
    expect(page.locator("#base-count")).to_contain_text("6 customers in the base")
    snapshot(page, "customers-list")
    check_layout(page)
    page.fill("#customer-search", "sokol")
    expect(page).to_have_url(re.compile(r"q=sokol"))
    expect(page.locator("#customers tbody tr")).to_have_count(2)
    page.fill("#customer-search", "8 916 111 22 33")
    expect(page.locator("#customers tbody tr")).to_have_count(1)
    snapshot(page, "customers-search")
    check_layout(page)
    page.click(f'[data-customer-id="{customer_id}"] .sc-customer-link')

    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}$"))
    expect(page.locator("#customer-name")).to_contain_text("Sokolova Maria")
    expect(page.locator('[data-kpi="receipts"]')).to_have_text("5")
    expect(cell(page, "news:sms")).to_have_attribute("data-state", "none")
    page.locator('[data-receipt="MSK01-4812"] .sc-receipt-row').click()
    expect(page.locator('[data-lines-of="MSK01-4812"]')).to_contain_text("Arabica coffee beans 250 g")
    snapshot(page, "customer-profile")
    check_layout(page)

    cell(page, "promo:sms").locator("button[data-bs-toggle]").click()
    cell(page, "promo:sms").locator('[data-value="N"]').click()
    expect(page.locator("#toasts")).to_contain_text("Subscription saved.")
    expect(cell(page, "promo:sms")).to_have_attribute("data-state", "no")
    page.reload()
    expect(cell(page, "promo:sms")).to_have_attribute("data-state", "no")
    expect(cell(page, "promo:email")).to_have_attribute("data-state", "yes")

    page.click("#tab-events")
    expect(page.locator('#events [data-event="call_centre"]')).to_contain_text("call_centre")
    snapshot(page, "customer-events")
    check_layout(page)
    page.click("#tab-web-events")
    expect(page.locator("#web-events")).to_contain_text("Ceramic mug 350 ml")
    expect(page).to_have_url(re.compile(r"tab=web-events"))
    snapshot(page, "customer-web-events")
    check_layout(page)
    page.click("#tab-containers")
    expect(page.locator('[data-container="cart"]')).to_contain_text("Almond biscotti 200 g")
    snapshot(page, "customer-containers")
    check_layout(page)


def test_operator_fixes_an_invalid_email(page: Page, staff, live_database: Database) -> None:
    seed(live_database)
    email, password = staff("operator")
    sign_in(page, email, password)
    page.goto("/customers?q=LP-1003")
    check_layout(page)
    page.click(".sc-customer-link")
    expect(page.locator("#header-warnings")).to_contain_text("Invalid e-mail")
    expect(page.locator("#contact-phone")).to_contain_text("landline: no SMS")

    page.click("#edit-contacts")
    page.fill("#f-email", "still wrong")
    page.click("#save-contacts")
    expect(page.locator('[data-error-for="email"]')).to_contain_text("Enter a valid e-mail address.")
    snapshot(page, "customer-contacts-error")
    check_layout(page)
    page.fill("#f-email", "Elena.Smirnova@Example.com")
    page.click("#save-contacts")
    expect(page.locator("#toasts")).to_contain_text("Contacts saved.")
    expect(page.locator("#contact-email")).to_contain_text("elena.smirnova@example.com")
    expect(page.locator("#header-warnings")).not_to_contain_text("Invalid e-mail")
    check_layout(page)


def test_marketer_reads_the_profile_without_edit_controls(page: Page, staff, live_database: Database) -> None:
    customer_id = seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}")

    expect(page.locator("#subscriptions")).to_have_attribute("data-editable", "false")
    expect(cell(page, "promo:sms")).to_contain_text("Subscribed")
    expect(page.locator("#subscriptions button")).to_have_count(0)
    expect(page.locator("#edit-contacts")).to_have_count(0)
    expect(page.locator("#permissions-form")).to_have_count(0)
    snapshot(page, "customer-profile-marketer")
    check_layout(page)
    sign_out(page)
