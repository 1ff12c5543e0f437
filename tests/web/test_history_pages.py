"""Settings → Action history shows every change as a readable before/after: labels, words, formats."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn, SubscriptionsIn
from smartcomm.customers.service import customer_service
from smartcomm.models import FieldDefinition, MailingCategory
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn, SegmentUpdate
from smartcomm.segments.service import segment_service
from tests.conftest import UIClient
from tests.factories import make_user

ACTOR = Actor("user", None, "Mila Marketer <mila@example.com>")
RAW_SHAPES = (
    "{'",
    '{"',
    "'root':",
    '"root":',
    "[None",
    "purchases.count",
    "allow_sms",
    "first_name",
    "custom.",
)


def rules(count: int, days: int) -> SegmentRules:
    condition = {
        "metric": "purchases.count",
        "operator": "gte",
        "value": count,
        "params": {"period": {"kind": "last", "n": days, "unit": "days"}},
    }
    return SegmentRules.model_validate({"version": 1, "root": {"op": "and", "children": [condition]}})


def history(client: UIClient, session: Session, language: str, query: str = "") -> str:
    user, password = make_user(session, role="administrator", language=language)
    client.sign_in(user.email, password)
    return html.unescape(client.get(f"/settings/history{query}").text)


def changes_of(page: str, object_type: str, object_id: object, action: str) -> str:
    """The changes cell of the newest entry about an object with this action label."""
    for row in re.findall(r"<tr class=\"align-top\".*?</tr>", page, re.S):
        if f"{object_type} #{object_id}<" in row and f">{action}</span>" in row:
            return row[row.index('class="sc-changes"') :]
    raise AssertionError(f"no {action} of {object_type} #{object_id}")


@pytest.fixture
def segment_changed(session: Session) -> int:
    segment = segment_service.create(session, ACTOR, SegmentIn(name="Buyers", rules=rules(1, 90)))
    segment_service.update(
        session,
        ACTOR,
        segment.id,
        SegmentUpdate(name="Frequent buyers", description="x" * 150, rules=rules(5, 30)),
    )
    session.commit()
    return segment.id


def test_a_segment_change_shows_the_conditions_in_words_before_and_after(
    client: UIClient, session: Session, segment_changed: int
) -> None:
    page = history(client, session, "en", "?object_type=segment")
    cell = changes_of(page, "Segment", segment_changed, "Changed")

    assert re.search(
        r'sc-change-label">Segment name</dt>.*?sc-before">Buyers<.*?sc-after">Frequent buyers<', cell, re.S
    )
    before, after = re.findall(r'<details class="sc-change-fold (sc-before|sc-after)"', cell)[-2:]
    assert (before, after) == ("sc-before", "sc-after")
    words = re.sub(r"<[^>]+>", " ", cell)
    assert re.search(r"Number of receipts\s+≥\s+1\s+in the last\s+90 days", words)
    assert re.search(r"Number of receipts\s+≥\s+5\s+in the last\s+30 days", words)
    # The long description is folded after its first words.
    assert re.search(r"<summary>x{40,60}…</summary>", cell)
    assert not [shape for shape in RAW_SHAPES if shape in cell]


def test_a_new_segment_shows_only_what_it_was_created_with(
    client: UIClient, session: Session, segment_changed: int
) -> None:
    cell = changes_of(
        history(client, session, "en", "?object_type=segment"), "Segment", segment_changed, "Created"
    )
    assert 'sc-after">Buyers<' in cell and "sc-before" not in cell and "—" not in cell


@pytest.fixture
def customer_changed(session: Session) -> int:
    session.add(FieldDefinition(object="customer", code="pet", name="Pet's name", type="string"))
    session.add(MailingCategory(code="promo", name="Promotions"))
    session.flush()
    customer, _ = customer_service.upsert(
        session,
        ACTOR,
        CustomerIn(external_id="C-1", first_name="Anna", birth_date="1990-04-12", custom={"pet": "Rex"}),
    )
    customer_service.upsert(
        session,
        ACTOR,
        CustomerIn(
            external_id="C-1",
            first_name="Anya",
            birth_date="1991-05-01",
            custom={"pet": "Barsik"},
            permissions={"sms": False},
        ),
    )
    customer_service.set_subscriptions(
        session,
        ACTOR,
        customer_service.get(session, customer.id),
        SubscriptionsIn(categories={"promo": {"sms": "Y"}}),
    )
    session.commit()
    return customer.id


def test_a_customer_change_is_labelled_like_the_profile(
    client: UIClient, session: Session, customer_changed: int
) -> None:
    page = history(client, session, "en", "?object_type=customer")
    cell = changes_of(page, "Customer", customer_changed, "Changed")

    def change(label: str) -> str:
        found = re.search(rf'sc-change-label">{re.escape(label)}</dt>\s*<dd[^>]*>(.*?)</dd>', cell, re.S)
        assert found is not None, f"no change of {label}"
        return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())

    assert change("First name") == "Anna Anya"
    assert change("Birth date") == "Apr 12, 1990 May 1, 1991"
    assert change("Pet's name") == "Rex Barsik"
    assert change("SMS allowed") == "Yes No"
    subscribed = changes_of(page, "Customer", customer_changed, "Subscriptions changed")
    assert "Subscription “Promotions” · SMS" in subscribed and 'sc-after">Yes<' in subscribed
    assert not [shape for shape in RAW_SHAPES if shape in cell + subscribed]


def test_the_history_speaks_russian(
    client: UIClient, session: Session, customer_changed: int, segment_changed: int
) -> None:
    page = history(client, session, "ru")
    customer = changes_of(page, "Клиент", customer_changed, "Изменён")
    segment = changes_of(page, "Сегмент", segment_changed, "Изменён")

    assert ">Имя</dt>" in customer and ">Дата рождения</dt>" in customer and ">SMS разрешены</dt>" in customer
    assert 'sc-before">Да<' in customer and 'sc-after">Нет<' in customer
    assert "12 апр. 1990\u202fг." in customer
    assert "<summary>Условия</summary>" in segment and "за последние" in segment


def test_a_new_user_shows_role_language_and_flags_by_name(client: UIClient, session: Session) -> None:
    marketer, _ = make_user(session, role="senior_marketer", full_name="Sonia Senior", language="ru")
    page = history(client, session, "en", "?object_type=user")
    cell = changes_of(page, "User", marketer.id, "Created")

    assert "Role</dt>" in cell and ">Senior marketer<" in cell
    assert "Interface language</dt>" in cell and ">Русский<" in cell
    assert "Active</dt>" in cell and 'sc-after">Yes<' in cell
    assert "senior_marketer" not in cell and "is_active" not in cell


def test_the_systems_own_roles_are_named_in_russian(client: UIClient, session: Session) -> None:
    segment_service.create(session, Actor.system("first run"), SegmentIn(name="Buyers", rules=rules(1, 90)))
    session.commit()
    page = history(client, session, "ru", "?object_type=segment")
    assert "<div>первый запуск</div>" in page and "first run" not in page
