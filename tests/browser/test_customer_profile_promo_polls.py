"""The customer profile's Promo codes and Polls tabs in a real browser: a Marketer sees the codes issued to a
customer with their group, message and state, follows a code to the message it was sent in, and reads the
customer's poll answers in words — in English and in Russian. An Operator, who sees neither, gets no tabs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from playwright.sync_api import Page, expect

from smartcomm.kit.db import Database
from smartcomm.kit.time import utcnow
from tests.browser.conftest import check_layout, sign_in, snapshot
from tests.delivery.helpers import make_customer
from tests.segments.communications_data import make_message
from tests.segments.promo_poll_data import answer, make_code, make_group, make_poll


@dataclass
class Seeded:
    customer_id: int
    message_id: int
    codes: dict[str, str]  # state → code


def seed(database: Database) -> Seeded:
    """Olga got a SPRING code in an e-mail, redeemed an older one, and holds a blocked AUTUMN code; she
    answered the taste survey."""
    now = utcnow()
    with database.session() as session:
        olga = make_customer(session, first_name="Olga", last_name="Smirnova").id
        message = make_message(session, olga, source_kind="transactional", handed_over_at=now)
        session.flush()
        spring, autumn = (
            make_group(session, "SPRING", "Spring offer"),
            make_group(session, "AUTUMN", "Autumn offer"),
        )
        issued = make_code(session, spring, olga, issued_at=now - timedelta(days=1), message_id=message.id)
        redeemed = make_code(
            session, spring, olga, issued_at=now - timedelta(days=30), redeemed_at=now - timedelta(days=3)
        )
        blocked = make_code(session, autumn, olga, issued_at=now - timedelta(days=10), blocked=True)
        poll = make_poll(session)
        answers = {"q1": "a2", "q2": ["b1", "b2"], "q3": {"r2": "m1", "r1": "m2"}, "q4": "Great coffee"}
        answer(session, poll, olga, answers, now - timedelta(days=2))
        codes = {"issued": issued.code, "redeemed": redeemed.code, "blocked": blocked.code}
        session.commit()
        return Seeded(olga, message.id, codes)


def test_a_marketer_reads_a_customers_promo_codes_and_poll_answers(
    page: Page, staff, live_database: Database
) -> None:
    seeded = seed(live_database)
    email, password = staff("marketer")
    sign_in(page, email, password)
    page.goto(f"/customers/{seeded.customer_id}")

    page.click("#tab-promocodes")
    expect(page).to_have_url(re.compile(r"tab=promocodes"))
    rows = page.locator("#promocodes-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-code", seeded.codes["issued"])  # the latest first
    for state, label in (("issued", "Issued"), ("redeemed", "Redeemed"), ("blocked", "Blocked")):
        expect(page.locator(f'tr[data-code="{seeded.codes[state]}"] [data-status]')).to_have_text(label)
    expect(rows.first).to_contain_text("Spring offer")
    expect(page.locator(f'tr[data-code="{seeded.codes["redeemed"]}"] [data-redeemed-at]')).to_be_visible()
    expect(page.locator(f'tr[data-code="{seeded.codes["issued"]}"] [data-redeemed-at]')).to_have_count(0)
    expect(page.locator('#promocodes-summary [data-count="redeemed"]')).to_have_text("Codes redeemed · 1")
    snapshot(page, "profile-promocodes")
    check_layout(page)

    page.click("#tab-polls")
    taken = page.locator("#polls-taken [data-poll]")
    expect(taken).to_have_count(1)
    expect(taken).to_contain_text("Taste survey")
    expect(taken.locator("[data-question]")).to_have_text(
        ["Tea or coffee?", "What do you add?", "Rate our shop", "Anything else?"]
    )
    # Option labels, several options on one line, matrix rows in the poll's order.
    expect(taken.locator("[data-answer]")).to_have_text(
        ["Coffee", "Milk, Sugar", "Prices: GoodService: Poor", "Great coffee"]
    )
    snapshot(page, "profile-polls")
    check_layout(page)

    page.click("#tab-promocodes")
    page.click(f'tr[data-code="{seeded.codes["issued"]}"] [data-message-link]')
    expect(page).to_have_url(re.compile(rf"/outbox/{seeded.message_id}$"))


def test_a_marketer_reads_them_in_russian(page: Page, staff, live_database: Database) -> None:
    seeded = seed(live_database)
    email, password = staff("marketer", language="ru")
    sign_in(page, email, password)
    page.goto(f"/customers/{seeded.customer_id}?tab=polls")

    expect(page.locator("#tab-polls")).to_contain_text("Опросы")
    expect(page.locator("#polls-taken [data-answer]").first).to_have_text("Coffee")
    page.click("#tab-promocodes")
    expect(page.locator("#tab-promocodes")).to_contain_text("Промокоды")
    expect(page.locator(f'tr[data-code="{seeded.codes["redeemed"]}"] [data-status]')).to_have_text("Погашено")
    expect(page.locator(f'tr[data-code="{seeded.codes["blocked"]}"] [data-status]')).to_have_text(
        "Заблокировано"
    )
    expect(page.locator("#promocodes-table thead")).to_contain_text("Группа")
    snapshot(page, "profile-promocodes-ru")
    check_layout(page)


def test_an_operator_sees_neither_tab(page: Page, staff, live_database: Database) -> None:
    seeded = seed(live_database)
    email, password = staff("operator")
    sign_in(page, email, password)
    page.goto(f"/customers/{seeded.customer_id}?tab=promocodes")

    expect(page.locator("#tab-receipts")).to_be_visible()
    expect(page.locator("#tab-promocodes")).to_have_count(0)
    expect(page.locator("#tab-polls")).to_have_count(0)
    expect(page.locator("#promocodes-section")).to_have_count(0)
