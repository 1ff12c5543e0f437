"""Customers → Contact data quality: e-mails, phones and push tokens by state, duplicates, and the customer
list filtered by each bucket — the numbers equal a plain reading of the customers' rows."""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any, get_args

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.quality import KINDS, ContactQualityOut, contact_quality_service
from smartcomm.customers.repository import CONTACT_BUCKETS, ContactBucket, CustomerRepository
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.kit.pagination import PageParams
from smartcomm.models import Customer, PushToken
from tests.api.conftest import api_client
from tests.conftest import UIClient
from tests.delivery.helpers import add_push_token, make_customer
from tests.factories import make_user

ACTOR = Actor.system("tests")
BUCKETS = sorted(CONTACT_BUCKETS)


@pytest.fixture
def base(session: Session) -> dict[str, int]:
    """Anna can be reached everywhere; Boris's e-mail is broken and his phone a landline; Vera has no e-mail,
    a broken phone and two devices; Gleb and Dina share an e-mail, Dina shares Anna's phone; Egor's e-mail
    is blank and his number of another kind. Push tokens: Boris's was rejected by the provider."""
    people = {
        "anna": {"email": "anna@example.com", "phone": "+79161110001"},
        "boris": {"email": "boris@", "email_valid": False, "phone": "+74951234567", "phone_type": "landline"},
        "vera": {"email": None, "phone": "12345", "phone_valid": False, "phone_type": None},
        "gleb": {"email": "family@example.com", "phone": None, "phone_valid": False, "phone_type": None},
        "dina": {"email": "family@example.com", "phone": "+79161110001"},
        "egor": {"email": "", "email_valid": False, "phone": "+78001234567", "phone_type": "other"},
    }
    ids = {name: make_customer(session, external_id=name, **values).id for name, values in people.items()}
    customers = {c.external_id: c for c in session.scalars(select(Customer))}
    add_push_token(session, customers["anna"], "token-anna")
    add_push_token(session, customers["vera"], "token-vera-1")
    add_push_token(session, customers["vera"], "token-vera-2")
    add_push_token(session, customers["boris"], "token-boris").is_valid = False
    session.flush()
    return ids


def listed(session: Session, bucket: str, query: str = "") -> set[int]:
    page = CustomerRepository(session).search(PageParams(page=1, size=500), query=query, contact=bucket)
    return {customer.id for customer in page.items}


def counts(report: ContactQualityOut) -> dict[str, int]:
    found = {b.filter: b.count for kind in KINDS for b in getattr(report, kind).buckets.values()}
    for kind in ("email", "phone"):
        duplicates = getattr(report, kind).duplicates
        found[duplicates.filter] = duplicates.count
    return found


def test_every_customer_falls_in_one_bucket_per_contact_kind(session: Session, base: dict[str, int]) -> None:
    report = contact_quality_service.report(session)

    assert report.total == 6
    assert counts(report) == {
        "email_valid": 3,
        "email_invalid": 1,
        "email_missing": 2,  # no e-mail, and a blank one
        "email_duplicate": 2,
        "phone_mobile": 2,
        "phone_landline": 1,
        "phone_other": 1,
        "phone_invalid": 1,
        "phone_missing": 1,
        "phone_duplicate": 2,
        "push_valid": 2,  # Vera's two devices count once; Boris's rejected token not at all
        "push_missing": 4,
    }
    assert (report.email.duplicates.values, report.phone.duplicates.values) == (1, 1)  # type: ignore[union-attr]
    assert report.email.buckets["valid"].share == 0.5
    assert report.phone.buckets["landline"].share == pytest.approx(0.1667)


def test_each_bucket_lists_its_customers(session: Session, base: dict[str, int]) -> None:
    expected = {
        "email_valid": {"anna", "gleb", "dina"},
        "email_invalid": {"boris"},
        "email_missing": {"vera", "egor"},
        "email_duplicate": {"gleb", "dina"},
        "phone_mobile": {"anna", "dina"},
        "phone_landline": {"boris"},
        "phone_other": {"egor"},
        "phone_invalid": {"vera"},
        "phone_missing": {"gleb"},
        "phone_duplicate": {"anna", "dina"},
        "push_valid": {"anna", "vera"},
        "push_missing": {"boris", "gleb", "dina", "egor"},
    }
    assert set(expected) == set(CONTACT_BUCKETS) == set(get_args(ContactBucket))
    for bucket, names in expected.items():
        assert listed(session, bucket) == {base[name] for name in names}, bucket
    # The bucket narrows a search: Dina by her name, among the shared phones.
    assert listed(session, "phone_duplicate", "D-") == set()
    assert listed(session, "phone_duplicate", "dina") == {base["dina"]}


def test_an_empty_base_has_nothing_to_share(session: Session) -> None:
    report = contact_quality_service.report(session)

    assert report.total == 0
    assert set(counts(report).values()) == {0}
    assert report.email.buckets["valid"].share == 0.0


# ---------------------------------------------------------------- a random base through the intake


RAW_EMAILS = (
    "user{n}@Example.com",
    "shared@example.com",
    "SHARED@example.com",
    "broken-{n}",
    "a@b",
    "",
    None,
)
RAW_PHONES = (
    "+7 916 111-{n:02d}-{n:02d}",
    "8 495 123-45-{n:02d}",
    "8 800 555-35-35",
    "+7 916 000-00-01",
    "12345",
    None,
)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_random_base_agrees_with_a_plain_reading_of_its_rows(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    items = [_raw_customer(rng, n) for n in range(60)]
    outcome = customer_service.upsert_batch(session, ACTOR, items)
    for item in outcome.items:
        for number in range(rng.choice((0, 0, 1, 2))):
            valid = rng.random() < 0.6  # the provider rejected the others
            session.add(
                PushToken(customer_id=item.id, token=f"t-{item.id}-{number}", platform="ios", is_valid=valid)
            )
    session.flush()

    expected = _plain_reading(session)
    report = contact_quality_service.report(session)

    assert report.total == 60
    assert counts(report) == {bucket: len(ids) for bucket, ids in expected.items()}
    for bucket, ids in expected.items():
        assert listed(session, bucket) == ids, bucket


def _raw_customer(rng: random.Random, n: int) -> CustomerIn:
    email, phone = rng.choice(RAW_EMAILS), rng.choice(RAW_PHONES)
    return CustomerIn(
        external_id=f"R{n}",
        email=email.format(n=n) if email else email,
        phone=phone.format(n=n % 100) if phone else phone,
    )


def _plain_reading(session: Session) -> dict[str, set[int]]:
    """Every bucket from the customers' rows, read one by one in Python."""
    rows = session.execute(
        select(
            Customer.id,
            Customer.email,
            Customer.email_valid,
            Customer.phone,
            Customer.phone_valid,
            Customer.phone_type,
        )
    ).all()
    pushed = {t.customer_id for t in session.scalars(select(PushToken)) if t.is_valid}
    emails, phones = Counter(r.email for r in rows if r.email), Counter(r.phone for r in rows if r.phone)
    found: dict[str, set[int]] = {bucket: set() for bucket in CONTACT_BUCKETS}
    for r in rows:
        found[_email_state(r.email, r.email_valid)].add(r.id)
        found[_phone_state(r.phone, r.phone_valid, r.phone_type)].add(r.id)
        found["push_valid" if r.id in pushed else "push_missing"].add(r.id)
        if r.email and emails[r.email] > 1:
            found["email_duplicate"].add(r.id)
        if r.phone and phones[r.phone] > 1:
            found["phone_duplicate"].add(r.id)
    return found


def _email_state(email: str | None, valid: bool) -> str:
    return "email_missing" if not email else "email_valid" if valid else "email_invalid"


def _phone_state(phone: str | None, valid: bool, kind: str | None) -> str:
    if not phone:
        return "phone_missing"
    if not valid:
        return "phone_invalid"
    return {"mobile": "phone_mobile", "landline": "phone_landline"}.get(kind or "", "phone_other")


# ---------------------------------------------------------------- the page, the list and the API


def sign_in_as(client: UIClient, session: Session, role: str) -> None:
    user, password = make_user(session, role=role)
    session.commit()
    client.sign_in(user.email, password)


@pytest.mark.parametrize("role", ["marketer", "analyst", "operator"])
def test_whoever_sees_customers_sees_the_page_and_its_links_open_the_bucket(
    client: UIClient, session: Session, base: dict[str, int], role: str
) -> None:
    session.commit()
    sign_in_as(client, session, role)

    page = client.get("/customers/contact-quality")

    assert page.status_code == 200
    links = dict(re.findall(r'href="/customers\?contact=(\w+)"[^>]*data-bucket="\w+">(\d+)<', page.text))
    assert links["email_invalid"] == "1" and links["push_missing"] == "4" and links["email_duplicate"] == "2"
    opened = client.get("/customers?contact=email_duplicate")
    assert opened.status_code == 200
    shown = {int(i) for i in re.findall(r'data-customer-id="(\d+)"', opened.text)}
    assert shown == {base["gleb"], base["dina"]}
    assert "E-mail: Shared by several customers" in opened.text


def test_a_page_of_the_filtered_list_keeps_the_bucket(
    client: UIClient, session: Session, base: dict[str, int]
) -> None:
    sign_in_as(client, session, "marketer")

    fragment = client.get(
        "/customers?contact=push_missing&sort=name",
        headers={"HX-Request": "true", "HX-Target": "customers-table"},
    )

    shown = {int(i) for i in re.findall(r'data-customer-id="(\d+)"', fragment.text)}
    assert shown == {base[name] for name in ("boris", "gleb", "dina", "egor")}
    assert 'id="contact-value" name="contact" value="push_missing"' in fragment.text


def test_an_unknown_bucket_is_refused_naming_the_parameter(
    client: UIClient, session: Session, base: dict[str, int]
) -> None:
    sign_in_as(client, session, "marketer")

    refused = client.get("/customers?contact=everyone")

    assert refused.status_code == 422
    assert "contact" in refused.text


def test_a_designer_does_not_see_customers_or_their_contacts(client: UIClient, session: Session) -> None:
    sign_in_as(client, session, "designer")

    assert client.get("/customers/contact-quality").status_code == 403
    assert "Contact data quality" not in client.get("/account").text


def test_the_menu_leads_to_the_page(client: UIClient, session: Session) -> None:
    sign_in_as(client, session, "analyst")

    assert 'href="/customers/contact-quality"' in client.get("/customers").text


def test_the_api_returns_the_same_numbers(client: UIClient, session: Session, base: dict[str, int]) -> None:
    api = api_client(client, session)
    session.commit()

    answer = api.get("/api/v1/customers/contact-quality")

    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body == contact_quality_service.report(session).model_dump(mode="json")
    assert body["total"] == 6
    assert body["email"]["buckets"]["invalid"] == {"count": 1, "share": 0.1667, "filter": "email_invalid"}
    assert body["phone"]["duplicates"] == {
        "count": 2,
        "share": 0.3333,
        "filter": "phone_duplicate",
        "values": 1,
    }
    assert body["push"]["duplicates"] is None
    # A customer whose external id is "contact-quality" is still reached at its own address.
    make_customer(session, external_id="contact-quality-2")
    session.commit()
    assert api.get("/api/v1/customers/contact-quality-2").json()["external_id"] == "contact-quality-2"
    assert client.get("/api/v1/customers/contact-quality").status_code == 401
