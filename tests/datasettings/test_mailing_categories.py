"""Settings → Mailing categories: subscriber counts, immutable codes, the delete guard."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartcomm.datasettings.mailing_categories import (
    MailingCategoryCreate,
    MailingCategoryUpdate,
    mailing_category_service,
)
from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.models import MailingCategory
from tests.datasettings.helpers import ACTOR, add_customer, audit_rows, count, subscribe


def create(session: Session, code: str, name: str) -> MailingCategory:
    return mailing_category_service.create(session, ACTOR, MailingCategoryCreate(code=code, name=name))


def test_overview_counts_subscribed_customers_per_channel(session: Session) -> None:
    promo, news = create(session, "promo", "Promotions"), create(session, "news", "News")
    anna, boris = add_customer(session), add_customer(session)
    subscribe(session, anna, promo.id, "email")
    subscribe(session, boris, promo.id, "email")
    subscribe(session, anna, promo.id, "sms")
    subscribe(session, boris, promo.id, "sms", subscribed=False)

    overview = {category.code: counts for category, counts in mailing_category_service.overview(session)}

    assert overview == {
        "news": {"email": 0, "sms": 0, "viber": 0, "push": 0},
        "promo": {"email": 2, "sms": 1, "viber": 0, "push": 0},
    }
    assert [c.code for c, _ in mailing_category_service.overview(session)] == ["news", "promo"]
    assert news.description is None


def test_edit_changes_name_and_description_but_never_the_code(session: Session) -> None:
    promo = create(session, "promo", "Promotions")
    data = MailingCategoryUpdate.model_validate(
        {"name": "Offers", "description": "Weekly offers", "code": "x"}
    )
    mailing_category_service.update(session, ACTOR, promo.id, data)

    assert (promo.code, promo.name, promo.description) == ("promo", "Offers", "Weekly offers")
    entry = audit_rows(session, "mailing_category")[-1]
    assert entry.changes == {"description": [None, "Weekly offers"], "name": ["Promotions", "Offers"]}


def test_codes_are_checked_and_unique(session: Session) -> None:
    create(session, "promo", "Promotions")
    with pytest.raises(Conflict) as duplicate:
        create(session, "promo", "Again")
    with pytest.raises(InvalidInput) as malformed:
        create(session, "Promo Codes", "Again")
    assert duplicate.value.errors[0].field == malformed.value.errors[0].field == "code"
    assert count(session, MailingCategory) == 1


def test_a_category_with_subscriptions_cannot_be_deleted(session: Session) -> None:
    promo, news = create(session, "promo", "Promotions"), create(session, "news", "News")
    subscribe(session, add_customer(session), promo.id, "push", subscribed=False)

    with pytest.raises(Conflict, match="subscriptions in this category"):
        mailing_category_service.delete(session, ACTOR, promo.id)
    mailing_category_service.delete(session, ACTOR, news.id)

    assert [c.code for c, _ in mailing_category_service.overview(session)] == ["promo"]
    assert [e.action for e in audit_rows(session, "mailing_category")] == ["create", "create", "delete"]
