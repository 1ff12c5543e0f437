"""The promo code pages: a Marketer creates a group, generates, pastes and redeems; an Analyst only reads."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.conftest import UIClient
from tests.factories import make_user
from tests.promocodes.helpers import actions, add, codes_of, count_codes, make_group


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    return client


def test_a_marketer_creates_a_group_and_generates_a_thousand_codes(
    client: UIClient, session: Session
) -> None:
    signed_in(client, session, "marketer")
    created = client.submit("/promocodes", {"name": "Spring", "code": "SPRING", "nominal": "500 ₽"})
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    generated = client.submit(
        f"{url}/generate", {"format": "{string('A-Z', 3)}-{string('0-9', 4)}", "quantity": "1000"}
    )
    assert generated.status_code == 303, generated.text
    page = client.get(url)
    assert page.status_code == 200 and 'data-total="active">1,000<' in page.text
    assert "generate_codes" in actions(session)


def test_a_pasted_list_with_a_repeat_shows_its_line_and_adds_nothing(
    client: UIClient, session: Session
) -> None:
    group = make_group(session)
    session.commit()
    signed_in(client, session, "marketer")
    answer = client.submit(f"/promocodes/{group.id}/paste", {"codes": "A-1\nA-2\nA-1"})
    assert answer.status_code == 422 and "line 3" in answer.text
    assert codes_of(session, group.id) == {}


def test_a_group_with_issued_codes_is_not_deleted(client: UIClient, session: Session) -> None:
    group = make_group(session)
    add(session, group, "A-1")
    codes_of(session, group.id)["A-1"].status = "issued"
    session.commit()
    signed_in(client, session, "marketer")
    client.submit(f"/promocodes/{group.id}/delete")
    assert client.get(f"/promocodes/{group.id}").status_code == 200
    assert count_codes(session) == 1


def test_the_format_preview_shows_examples_or_the_position_of_an_error(
    client: UIClient, session: Session
) -> None:
    signed_in(client, session, "marketer")
    good = client.get("/promocodes/format-preview", params={"format": "{string('0-9', 4)}", "quantity": "10"})
    assert good.text.count("<code") == 5 and "10,000" in good.text
    bad = client.get("/promocodes/format-preview", params={"format": "AB}"})
    assert "position 3" in bad.text


def test_an_analyst_reads_the_pages_but_has_no_forms_and_may_not_post(
    client: UIClient, session: Session
) -> None:
    group = make_group(session)
    add(session, group, "A-1", "A-2")
    session.commit()
    signed_in(client, session, "analyst")
    listing = client.get("/promocodes")
    assert listing.status_code == 200 and "SPRING" not in listing.text and group.code in listing.text
    page = client.get(f"/promocodes/{group.id}")
    assert page.status_code == 200 and "A-1" in page.text
    assert 'id="add-codes"' not in page.text and 'id="block-group"' not in page.text
    assert client.submit(f"/promocodes/{group.id}/paste", {"codes": "B-1"}).status_code == 403
    assert client.submit(f"/promocodes/{group.id}/block").status_code == 403
    assert count_codes(session) == 2
