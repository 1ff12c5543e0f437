"""Settings → Fields, Dictionaries, Mailing categories, Classifiers, Event sources, Containers as pages."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.config import config
from smartcomm.models import (
    AuditEntry,
    Classifier,
    Container,
    Dictionary,
    DictionaryItem,
    EventSource,
    FieldDefinition,
    MailingCategory,
    SettingValue,
)
from smartcomm.models.events import SYSTEM_SOURCE_CODE
from tests.conftest import UIClient
from tests.datasettings.helpers import add_customer, subscribe
from tests.factories import make_user

HTMX = {"HX-Request": "true"}


def field_codes(html: str) -> list[str]:
    return re.findall(r'data-field-code="([^"]+)"', html)


def toasts(response) -> list[str]:
    return [item["message"] for item in json.loads(response.headers["HX-Trigger"])["toast"]]


def one(session: Session, model, **where):
    return session.scalars(select(model).filter_by(**where)).one()


def test_fields_page_has_a_tab_per_object_and_both_orders(admin_client: UIClient) -> None:
    page = admin_client.get("/settings/fields").text
    assert re.findall(r'data-object="([^"]+)"', page) == [
        "customer",
        "receipt",
        "receipt_line",
        "product",
        "category",
    ]
    assert field_codes(page)[:3] == ["external_id", "last_name", "first_name"]

    fragment = admin_client.get(
        "/settings/fields?object=category&order=builder", headers=HTMX | {"HX-Target": "fields-table"}
    )
    assert "<html" not in fragment.text
    assert field_codes(fragment.text) == ["code", "name", "parent"]
    assert 'id="order-builder"' in fragment.text and '"order": "builder"' in fragment.text


def test_creating_a_custom_field_adds_it_to_the_end(admin_client: UIClient, session: Session) -> None:
    form = {"object": "customer", "code": "favourite_store", "name": "Favourite store", "type": "string"}
    response = admin_client.submit("/settings/fields", form | {"group": "scoring", "show_in_profile": "true"})

    assert (
        response.status_code == 303
        and response.headers["location"] == "/settings/fields?object=customer&order=profile"
    )
    page = admin_client.get("/settings/fields?object=customer").text
    assert field_codes(page)[-1] == "favourite_store" and "The field was created." in page
    field = one(session, FieldDefinition, code="favourite_store")
    assert (field.is_system, field.group, field.type) == (False, "scoring", "string")


def test_an_invalid_field_form_names_the_fields_and_writes_nothing(
    admin_client: UIClient, session: Session
) -> None:
    fields = session.scalar(select(func.count()).select_from(FieldDefinition))
    bad_type = admin_client.submit(
        "/settings/fields", {"object": "customer", "code": "x", "name": "", "type": "colour"}
    )
    bad_code = admin_client.submit(
        "/settings/fields", {"object": "customer", "code": "Best-Store", "name": "Store", "type": "string"}
    )

    assert bad_type.status_code == 422
    assert 'data-error-for="name"' in bad_type.text and 'data-error-for="type"' in bad_type.text
    assert bad_code.status_code == 422
    assert re.search(r'data-error-for="code">Use lowercase Latin letters', bad_code.text)
    assert 'value="Best-Store"' in bad_code.text
    assert session.scalar(select(func.count()).select_from(FieldDefinition)) == fields


def test_reordering_fields_with_htmx_returns_the_table_and_a_toast(
    admin_client: UIClient, session: Session
) -> None:
    ids = {f.code: f.id for f in session.scalars(select(FieldDefinition).filter_by(object="category"))}
    posted = {
        "object": "category",
        "order": "profile",
        "ids[]": [str(ids["name"]), str(ids["parent"]), str(ids["code"])],
    }

    response = admin_client.submit(
        "/settings/fields/reorder", posted, headers=HTMX | {"HX-Target": "fields-table"}
    )

    assert response.status_code == 200
    assert field_codes(response.text) == ["name", "parent", "code"]
    assert toasts(response) == ["The order was saved."]
    builder = admin_client.get("/settings/fields?object=category&order=builder").text
    assert field_codes(builder) == ["code", "name", "parent"]


def test_a_stale_reorder_is_refused_and_changes_nothing(admin_client: UIClient, session: Session) -> None:
    ids = [str(f.id) for f in session.scalars(select(FieldDefinition).filter_by(object="category"))]
    response = admin_client.submit(
        "/settings/fields/reorder", {"object": "category", "order": "profile", "ids[]": ids[:2]}
    )

    assert response.status_code == 303
    page = admin_client.get(response.headers["location"]).text
    assert "reload the page" in page
    assert field_codes(page) == ["code", "name", "parent"]


def test_a_system_field_cannot_be_deleted_from_its_page(admin_client: UIClient, session: Session) -> None:
    email = one(session, FieldDefinition, object="customer", code="email")
    page = admin_client.get(f"/settings/fields/{email.id}").text
    assert "System fields cannot be deleted." in page and re.search(r'id="delete-field"\s+disabled', page)

    response = admin_client.submit(f"/settings/fields/{email.id}/delete")
    assert response.status_code == 303
    assert "System fields cannot be deleted" in admin_client.get(response.headers["location"]).text
    assert session.get(FieldDefinition, email.id) is not None


def test_dictionary_items_are_added_edited_reordered_and_deleted_with_htmx(
    admin_client: UIClient, session: Session
) -> None:
    reasons = one(session, Dictionary, code="unsubscribe_reasons")
    url = f"/settings/dictionaries/{reasons.id}"
    target = HTMX | {"HX-Target": "dictionary-items"}

    added = admin_client.submit(f"{url}/items", {"code": "moved", "value": "I moved away"}, headers=target)
    assert added.status_code == 200 and toasts(added) == ["The item was added."]
    assert re.findall(r'data-item-code="([^"]+)"', added.text) == ["too_often", "not_relevant", "moved"]

    items = {
        i.code: i.id for i in session.scalars(select(DictionaryItem).filter_by(dictionary_id=reasons.id))
    }
    order = [str(items["moved"]), str(items["too_often"]), str(items["not_relevant"])]
    reordered = admin_client.submit(f"{url}/items/reorder", {"ids[]": order}, headers=target)
    assert re.findall(r'data-item-code="([^"]+)"', reordered.text) == ["moved", "too_often", "not_relevant"]

    edited = admin_client.submit(
        f"{url}/items/{items['moved']}", {"value": "Moved to another city"}, headers=target
    )
    assert "Moved to another city" in edited.text
    deleted = admin_client.submit(f"{url}/items/{items['too_often']}/delete", headers=target)
    assert re.findall(r'data-item-code="([^"]+)"', deleted.text) == ["moved", "not_relevant"]


def test_a_bad_item_is_shown_inline_and_not_stored(admin_client: UIClient, session: Session) -> None:
    reasons = one(session, Dictionary, code="unsubscribe_reasons")
    target = HTMX | {"HX-Target": "dictionary-items"}
    response = admin_client.submit(
        f"/settings/dictionaries/{reasons.id}/items", {"code": "too_often", "value": "Again"}, headers=target
    )

    assert response.status_code == 422
    assert 'data-error-for="code">This dictionary already has an item with this code' in response.text
    assert 'value="Again"' in response.text
    assert session.scalar(select(func.count()).select_from(DictionaryItem)) == 2


def test_the_system_dictionary_page_offers_no_rename_or_delete(
    admin_client: UIClient, session: Session
) -> None:
    reasons = one(session, Dictionary, code="unsubscribe_reasons")
    page = admin_client.get(f"/settings/dictionaries/{reasons.id}").text
    assert 'id="save-dictionary"' not in page
    assert re.search(r'id="delete-dictionary"\s+disabled', page)
    assert admin_client.submit(f"/settings/dictionaries/{reasons.id}", {"name": "Reasons"}).status_code == 409
    session.refresh(reasons)
    assert reasons.name == "Unsubscribe reasons"


def test_creating_a_dictionary_opens_its_page(admin_client: UIClient, session: Session) -> None:
    response = admin_client.submit(
        "/settings/dictionaries", {"code": "store_formats", "name": "Store formats"}
    )
    created = one(session, Dictionary, code="store_formats")
    assert response.headers["location"] == f"/settings/dictionaries/{created.id}"
    listing = admin_client.get("/settings/dictionaries").text
    assert re.findall(r'<tr data-code="([^"]+)"', listing) == ["unsubscribe_reasons", "store_formats"]


def test_mailing_categories_show_subscribers_per_channel(admin_client: UIClient, session: Session) -> None:
    admin_client.submit(
        "/settings/mailing-categories", {"code": "promo", "name": "Promotions", "description": ""}
    )
    promo = one(session, MailingCategory, code="promo")
    for channel in ("email", "email", "sms"):
        subscribe(session, add_customer(session), promo.id, channel)

    page = admin_client.get("/settings/mailing-categories").text

    row = re.search(r'<tr data-code="promo">.*?</tr>', page, re.S)
    assert row is not None
    cells = dict(re.findall(r'data-channel="(\w+)">\s*<span[^>]*>(\d+)</span>', row.group(0)))
    assert cells == {"email": "2", "sms": "1", "viber": "0", "push": "0"}


def test_a_category_with_subscriptions_is_kept_with_a_clear_message(
    admin_client: UIClient, session: Session
) -> None:
    created = admin_client.submit("/settings/mailing-categories", {"code": "promo", "name": "Promotions"})
    assert "The mailing category was created." in admin_client.get(created.headers["location"]).text
    promo = one(session, MailingCategory, code="promo")
    subscribe(session, add_customer(session), promo.id, "email")

    response = admin_client.submit(f"/settings/mailing-categories/{promo.id}/delete")

    page = admin_client.get(response.headers["location"]).text
    assert "Customers have subscriptions in this category, so it cannot be deleted" in page
    assert session.get(MailingCategory, promo.id) is not None


def test_mailing_category_code_cannot_be_changed_by_the_edit_form(
    admin_client: UIClient, session: Session
) -> None:
    admin_client.submit("/settings/mailing-categories", {"code": "promo", "name": "Promotions"})
    promo = one(session, MailingCategory, code="promo")
    admin_client.submit(f"/settings/mailing-categories/{promo.id}", {"code": "sale", "name": "Sales"})
    session.refresh(promo)
    assert (promo.code, promo.name) == ("promo", "Sales")


def test_event_source_page_shows_the_key_the_snippet_and_regenerates(
    admin_client: UIClient, session: Session
) -> None:
    response = admin_client.submit(
        "/settings/event-sources", {"code": "app", "name": "Mobile app", "domain": ""}
    )
    source = one(session, EventSource, code="app")
    assert response.headers["location"] == f"/settings/event-sources/{source.id}"

    page = admin_client.get(response.headers["location"]).text
    assert f'value="{source.write_key}" readonly id="write-key"' in page
    assert f'analytics.write_key = "{source.write_key}"' in page
    assert f'analytics.host = "{config.public_base_url}"' in page
    old = source.write_key

    admin_client.submit(f"/settings/event-sources/{source.id}/write-key")

    session.refresh(source)
    assert source.write_key != old
    assert source.write_key in admin_client.get(f"/settings/event-sources/{source.id}").text


def test_the_system_source_is_deactivated_not_deleted(admin_client: UIClient, session: Session) -> None:
    system = one(session, EventSource, code=SYSTEM_SOURCE_CODE)
    admin_client.submit(f"/settings/event-sources/{system.id}/active", {"active": "false"})
    admin_client.submit(f"/settings/event-sources/{system.id}/delete")

    session.refresh(system)
    assert system.is_active is False
    listing = admin_client.get("/settings/event-sources").text
    row = re.search(rf'<tr data-code="{SYSTEM_SOURCE_CODE}">.*?</tr>', listing, re.S)
    assert row is not None and "Inactive" in row.group(0) and "System" in row.group(0)


def test_classifier_and_container_pages_protect_system_rows(admin_client: UIClient, session: Session) -> None:
    classifier = one(session, Classifier, is_system=True)
    cart = one(session, Container, code="cart")
    assert admin_client.submit(f"/settings/classifiers/{classifier.id}/delete").status_code == 303
    assert admin_client.submit(f"/settings/containers/{cart.id}/delete").status_code == 303
    assert session.get(Classifier, classifier.id) is not None and session.get(Container, cart.id) is not None

    admin_client.submit(
        "/settings/classifiers", {"code": "online", "name": "Online shop", "for_tracker": "true"}
    )
    admin_client.submit("/settings/containers", {"code": "compare", "name": "Compare list"})
    assert one(session, Classifier, code="online").for_tracker is True
    assert "Compare list" in admin_client.get("/settings/containers").text


def test_general_settings_offer_the_sms_default_country(admin_client: UIClient, session: Session) -> None:
    page = admin_client.get("/settings/general").text
    assert re.search(r'<option value="RU"\s+selected>Russia \(RU\)</option>', page)
    base = {"company_name": "Shop", "time_zone": "Europe/Moscow", "currency": "RUB", "default_language": "en"}

    assert admin_client.submit("/settings/general", base | {"sms_default_country": "ZZ"}).status_code == 422
    assert session.scalar(select(func.count()).select_from(SettingValue)) == 0
    assert admin_client.submit("/settings/general", base | {"sms_default_country": "KZ"}).status_code == 303
    stored = one(session, SettingValue, key="general.sms_default_country")
    assert stored.value == "KZ"


STATE_CHANGES = [
    ("/settings/fields", {"object": "customer", "code": "level", "name": "Level", "type": "integer"}),
    ("/settings/dictionaries", {"code": "formats", "name": "Formats"}),
    ("/settings/mailing-categories", {"code": "promo", "name": "Promotions"}),
    ("/settings/classifiers", {"code": "online", "name": "Online"}),
    ("/settings/event-sources", {"code": "app", "name": "App"}),
    ("/settings/containers", {"code": "compare", "name": "Compare"}),
    ("/settings/event-sources/1/write-key", {}),
]


@pytest.mark.parametrize(("url", "form"), STATE_CHANGES)
def test_a_non_administrator_is_refused_and_nothing_changes(
    client: UIClient, session: Session, url: str, form: dict[str, str]
) -> None:
    user, password = make_user(session, role="senior_marketer")
    client.sign_in(user.email, password)
    keys = list(session.scalars(select(EventSource.write_key)))
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))

    response = client.submit(url, form)

    assert response.status_code == 403
    assert client.get(url.split("/write-key")[0]).status_code == 403
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
    assert list(session.scalars(select(EventSource.write_key))) == keys
    for model in (MailingCategory, Classifier, Container, Dictionary, EventSource):
        assert (
            session.scalar(select(func.count()).select_from(model).where(model.code == form.get("code"))) == 0
        )


# ---- the records every installation starts with, in the interface language ---------------------------


def russian_admin(client: UIClient, session: Session) -> UIClient:
    user, password = make_user(session, role="administrator", language="ru")
    client.sign_in(user.email, password)
    return client


STARTING_RECORDS = [
    ("/settings/fields", ("Фамилия", "Имя", "Отчество", "Дата регистрации", "Номер карты лояльности")),
    ("/settings/fields?object=receipt", ("Дата и время", "Начислено бонусов", "Количество товаров")),
    ("/settings/dictionaries", ("Причины отписки",)),
    ("/settings/containers", ("Корзина", "Список желаний", "Товары, добавленные в корзину")),
    ("/settings/classifiers", ("Основной каталог",)),
    ("/settings/event-sources", ("Интернет-магазин",)),
]


@pytest.mark.parametrize(("url", "names"), STARTING_RECORDS)
def test_starting_records_are_shown_in_russian_to_a_russian_speaking_administrator(
    client: UIClient, session: Session, url: str, names: tuple[str, ...]
) -> None:
    page = russian_admin(client, session).get(url).text
    assert all(name in page for name in names), [name for name in names if name not in page]
    for english in ("Unsubscribe reasons", ">Cart<", "Main catalogue", ">Online store<", ">Last name<"):
        assert english not in page


def test_the_system_dictionary_page_and_its_reasons_are_russian(client: UIClient, session: Session) -> None:
    reasons = one(session, Dictionary, code="unsubscribe_reasons")
    page = russian_admin(client, session).get(f"/settings/dictionaries/{reasons.id}").text
    assert "<title>Причины отписки" in page
    assert "Я получаю сообщения слишком часто" in page and "Сообщения мне неинтересны" in page


def test_the_stored_names_stay_english_for_an_english_speaking_administrator(
    session: Session, admin_client: UIClient
) -> None:
    english = admin_client.get("/settings/containers").text
    assert ">Cart<" in english and "Products added to the cart" in english
    assert one(session, Container, code="cart").name == "Cart"  # API clients and imports see the data


def test_a_renamed_starting_record_shows_its_new_name_in_every_language(
    client: UIClient, session: Session
) -> None:
    one(session, Container, code="cart").name = "Basket"
    session.flush()
    page = russian_admin(client, session).get("/settings/containers").text
    assert ">Basket<" in page and ">Корзина<" not in page
