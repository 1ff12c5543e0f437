"""The abandoned-cart settings card and the profile's abandoned cart and pop-ups cards, as pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.containers.service import ItemChange, container_service
from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, Customer, Product, SettingValue
from smartcomm.popups.schemas import PopupContent
from smartcomm.popups.service import popup_service
from smartcomm.settings.schemas import TrackingSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.factories import make_user
from tests.tracker.conftest import cart_id

CARD = {"HX-Request": "true", "HX-Target": "abandoned-cart-settings"}
ACTIVITY = {"HX-Request": "true", "HX-Target": "site-activity"}


def signed_in(client: UIClient, session: Session, role: str, language: str = "en") -> UIClient:
    user, password = make_user(session, role=role, language=language)
    client.sign_in(user.email, password)
    return client


def abandon(
    session: Session, customer: Customer, product: Product, hours_ago: float, quantity: str = "2"
) -> None:
    change = ItemChange(product.id, Decimal(quantity))
    when = utcnow() - timedelta(hours=hours_ago)
    container_service.apply(session, customer.id, cart_id(session), "add", [change], when)


def test_the_settings_card_shows_and_saves_the_two_times(admin_client: UIClient, session: Session) -> None:
    card = admin_client.get("/settings/abandoned-carts", headers=CARD)
    assert card.status_code == 200
    assert 'name="abandoned_cart_minutes"' in card.text and 'value="60"' in card.text
    assert 'value="30"' in card.text and 'id="save-cart-settings"' in card.text
    assert admin_client.get("/settings/abandoned-carts").headers["location"] == "/settings/event-sources"

    saved = admin_client.submit(
        "/settings/abandoned-carts",
        {"abandoned_cart_minutes": "90", "abandoned_cart_keep_days": "14"},
        headers=CARD,
    )
    assert (saved.status_code, saved.headers["HX-Redirect"]) == (204, "/settings/event-sources")
    stored = settings_service.read(session, TrackingSettings)
    assert (stored.abandoned_cart_minutes, stored.abandoned_cart_keep_days) == (90, 14)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "settings")).one()
    assert entry.changes == {"abandoned_cart_minutes": [60, 90], "abandoned_cart_keep_days": [30, 14]}


def test_bad_values_are_refused_per_field_and_nothing_is_stored(
    admin_client: UIClient, session: Session
) -> None:
    refused = admin_client.submit(
        "/settings/abandoned-carts",
        {"abandoned_cart_minutes": "0", "abandoned_cart_keep_days": "soon"},
        headers=CARD,
    )
    assert refused.status_code == 422
    assert 'data-error-for="abandoned_cart_keep_days"' in refused.text  # not a number
    out_of_range = admin_client.submit(
        "/settings/abandoned-carts",
        {"abandoned_cart_minutes": "0", "abandoned_cart_keep_days": "5"},
        headers=CARD,
    )
    assert out_of_range.status_code == 422
    assert 'data-error-for="abandoned_cart_minutes"' in out_of_range.text
    keys = session.scalars(select(SettingValue.key).where(SettingValue.key.like("tracking.%"))).all()
    assert keys == []


def test_a_marketer_may_not_see_or_change_the_settings(client: UIClient, session: Session) -> None:
    marketer = signed_in(client, session, "marketer")
    assert marketer.get("/settings/abandoned-carts", headers=CARD).status_code == 403
    posted = marketer.submit("/settings/abandoned-carts", {"abandoned_cart_minutes": "5"}, headers=CARD)
    assert posted.status_code == 403
    assert session.scalars(select(SettingValue.key).where(SettingValue.key.like("tracking.%"))).all() == []


def test_the_profile_shows_the_abandoned_cart_and_the_popups(
    client: UIClient, session: Session, anna: Customer, bag: Product
) -> None:
    abandon(session, anna, bag, hours_ago=3)
    content = PopupContent(
        title="Your bag is waiting", button_text="Go", button_url="https://shop.example/cart"
    )
    popup_service.queue(session, anna.id, "k-1", content, None, "campaign", 12, "n-1")
    marketer = signed_in(client, session, "marketer")

    profile = marketer.get(f"/customers/{anna.id}").text
    cards = marketer.get(f"/customers/{anna.id}/site-activity", headers=ACTIVITY).text

    assert f'hx-get="/customers/{anna.id}/site-activity"' in profile
    assert 'id="abandoned-cart"' in cards and 'data-sku="BAG-1"' in cards
    assert "Leather bag" in cards and 'id="abandoned-cart-total"' in cards
    assert 'id="abandoned-cart-total">9,980.00\xa0₽<' in cards  # 2 × 4,990
    assert 'id="popups-table"' in cards and "Your bag is waiting" in cards and 'data-status="queued"' in cards
    assert "Campaign #12" in cards


def test_a_customer_without_either_gets_no_cards(
    client: UIClient, session: Session, anna: Customer, bag: Product
) -> None:
    abandon(session, anna, bag, hours_ago=0.25)  # still being filled: not abandoned yet
    marketer = signed_in(client, session, "marketer")
    cards = marketer.get(f"/customers/{anna.id}/site-activity", headers=ACTIVITY).text
    assert 'id="site-activity" class="d-none"' in cards and "abandoned-cart" not in cards


def test_the_cards_need_the_right_to_see_customers(
    client: UIClient, session: Session, anna: Customer
) -> None:
    designer = signed_in(client, session, "designer")
    assert designer.get(f"/customers/{anna.id}/site-activity", headers=ACTIVITY).status_code == 403
