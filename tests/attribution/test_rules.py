"""The attribution rules on real rows: what a touch is, the last touch credited, windows, criteria,
returns, and reprocessing that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from smartcomm.attribution.rules import Criteria, Rule, register_rule_source, unregister_rule_source
from smartcomm.attribution.service import attribution_service
from smartcomm.audit.actor import Actor
from smartcomm.models import Receipt
from smartcomm.settings.schemas import DeliverySettings
from smartcomm.settings.service import settings_service
from tests.attribution.helpers import (
    at,
    credited,
    deliver,
    make_customer,
    make_message,
    make_receipt,
    open_,
    pairs,
)

MAILING_RULES: dict[int | None, Rule] = {}


@pytest.fixture
def mailing_rules() -> Iterator[dict[int | None, Rule]]:
    """Rules of "mailings" by id, as the mailings register theirs."""
    MAILING_RULES.clear()
    own = unregister_rule_source("mailing")
    register_rule_source(
        "mailing", lambda _session, ids: {i: MAILING_RULES[i] for i in ids if i in MAILING_RULES}
    )
    yield MAILING_RULES
    unregister_rule_source("mailing")
    if own is not None:
        register_rule_source("mailing", own)


def attribute(session: Session, *receipts: Receipt) -> None:
    attribution_service.attribute(session, [receipt.id for receipt in receipts])


def test_the_last_touch_before_the_purchase_is_credited_and_every_touch_is_kept(session: Session) -> None:
    customer = make_customer(session)
    email = open_(session, make_message(session, customer, "email"), at(hours=1))
    sms = deliver(session, make_message(session, customer, "sms"), at(hours=2))
    later = open_(session, make_message(session, customer, "push"), at(hours=5))  # after the purchase
    receipt = make_receipt(session, customer, at(hours=3), total="250.50")

    attribute(session, receipt)

    assert [(r, m, c) for r, m, c, *_ in pairs(session)] == [
        (receipt.id, email.id, False),
        (receipt.id, sms.id, True),
    ]
    assert later.id not in credited(session).values()
    [_, (_, _, _, kind, source_id, channel, amount, touched_at)] = pairs(session)
    assert (kind, source_id, channel, amount, touched_at) == (
        "transactional",
        None,
        "sms",
        Decimal("250.50"),
        at(hours=2),
    )


def test_machine_opens_are_never_touches_and_the_first_person_open_is_the_touch(session: Session) -> None:
    customer = make_customer(session)
    scanned = open_(session, make_message(session, customer, "email"), at(hours=1), machine=True)
    both = make_message(session, customer, "email")
    open_(session, both, at(hours=1), machine=True)
    open_(session, both, at(hours=4))
    receipt = make_receipt(session, customer, at(hours=2))
    after_person = make_receipt(session, customer, at(hours=5))

    attribute(session, receipt, after_person)

    assert [(r, m, touched) for r, m, *_, touched in pairs(session)] == [
        (after_person.id, both.id, at(hours=4))
    ]
    assert scanned.id not in {m for _, m, *_ in pairs(session)}


def test_a_delivered_sms_or_viber_touches_while_a_sent_one_or_a_delivered_unopened_email_does_not(
    session: Session,
) -> None:
    customer = make_customer(session)
    sms = deliver(session, make_message(session, customer, "sms"), at(hours=1))
    viber = deliver(session, make_message(session, customer, "viber"), at(hours=2))
    make_message(session, customer, "sms")  # sent, never delivered
    deliver(session, make_message(session, customer, "email"), at(hours=3))  # delivered, never opened
    receipt = make_receipt(session, customer, at(hours=4))

    attribute(session, receipt)

    assert [(m, c) for _, m, c, *_ in pairs(session)] == [(sms.id, False), (viber.id, True)]


def test_test_watcher_and_confirmation_messages_are_not_touches(session: Session) -> None:
    customer = make_customer(session)
    for kind in ("test", "watcher", "confirmation"):
        open_(session, make_message(session, customer, "email", source_kind=kind), at(hours=1))
    receipt = make_receipt(session, customer, at(hours=2))

    attribute(session, receipt)

    assert pairs(session) == []


def test_the_window_ends_exactly_n_days_after_the_touch_and_a_purchase_at_the_touch_is_not_after_it(
    session: Session,
) -> None:
    customer = make_customer(session)
    sms = deliver(session, make_message(session, customer, "sms"), at())
    same_moment = make_receipt(session, customer, at())
    last_moment = make_receipt(session, customer, at(days=3))
    too_late = make_receipt(session, customer, at(days=3) + timedelta(seconds=1))

    attribute(session, same_moment, last_moment, too_late)

    assert credited(session) == {last_moment.id: sms.id}


def test_the_default_window_comes_from_the_settings_and_zero_days_is_off(session: Session) -> None:
    customer = make_customer(session)
    deliver(session, make_message(session, customer, "sms"), at())
    receipt = make_receipt(session, customer, at(days=5))
    attribute(session, receipt)
    assert pairs(session) == []

    settings_service.update(session, Actor.system("tests"), DeliverySettings, {"attribution_days": 7})
    attribute(session, receipt)
    assert len(credited(session)) == 1

    settings_service.update(session, Actor.system("tests"), DeliverySettings, {"attribution_days": 0})
    attribute(session, receipt)
    assert pairs(session) == []


def test_a_source_s_own_rule_a_date_range_or_off_beats_the_default(
    session: Session, mailing_rules: dict[int | None, Rule]
) -> None:
    customer = make_customer(session)
    ranged = deliver(session, make_message(session, customer, "sms", "mailing", 1), at(days=-20))
    silent = deliver(session, make_message(session, customer, "sms", "mailing", 2), at(days=-1))
    mailing_rules[1] = Rule.between(at(days=-10).date(), at().date(), "Europe/Moscow")
    mailing_rules[2] = Rule.off()
    inside = make_receipt(session, customer, at(hours=10))  # 2026-11-02 19:00 Moscow: the range's last day
    outside = make_receipt(session, customer, at(hours=15))  # 2026-11-03 00:00 Moscow

    attribute(session, inside, outside)

    assert credited(session) == {inside.id: ranged.id}
    assert silent.id not in {m for _, m, *_ in pairs(session)}


def test_receipt_criteria_minimum_amount_items_product_and_category(
    session: Session, mailing_rules: dict[int | None, Rule]
) -> None:
    customer = make_customer(session)
    touches = {
        number: deliver(session, make_message(session, customer, "sms", "mailing", number), at(hours=number))
        for number in (1, 2, 3, 4)
    }
    mailing_rules[1] = Rule.days_after(3, Criteria(min_amount=Decimal("500")))
    mailing_rules[2] = Rule.days_after(3, Criteria(min_items=Decimal(2)))
    mailing_rules[3] = Rule.days_after(3, Criteria(skus=frozenset({"TEA"})))
    mailing_rules[4] = Rule.days_after(3, Criteria(category_ids=frozenset({77})))
    big = make_receipt(session, customer, at(days=1), total="500.00")
    two_items = make_receipt(session, customer, at(days=1, hours=1), lines=(("A", None), ("B", None)))
    tea = make_receipt(session, customer, at(days=1, hours=2), lines=(("TEA", None),))
    in_category = make_receipt(session, customer, at(days=1, hours=3), lines=(("X", 77),))
    nothing = make_receipt(session, customer, at(days=1, hours=4), total="499.99", lines=(("X", 78),))

    attribute(session, big, two_items, tea, in_category, nothing)

    by_receipt: dict[int, set[int]] = {}
    for receipt_id, message_id, *_ in pairs(session):
        by_receipt.setdefault(receipt_id, set()).add(message_id)
    assert by_receipt == {
        big.id: {touches[1].id},
        two_items.id: {touches[2].id},
        tea.id: {touches[3].id},
        in_category.id: {touches[4].id},
    }


def test_returned_and_cancelled_receipts_are_not_attributed_and_a_return_takes_the_pairs_away(
    session: Session,
) -> None:
    customer = make_customer(session)
    deliver(session, make_message(session, customer, "sms"), at())
    make_receipt(session, customer, at(hours=1), status="returned")
    cancelled = make_receipt(session, customer, at(hours=2), status="cancelled")
    paid = make_receipt(session, customer, at(hours=3))
    attribute(session, cancelled, paid)
    assert list(credited(session)) == [paid.id]

    paid.status = "returned"
    session.flush()
    attribute(session, paid)
    assert pairs(session) == []


def test_attributing_again_changes_nothing(session: Session) -> None:
    customer = make_customer(session)
    open_(session, make_message(session, customer, "email"), at(hours=1))
    deliver(session, make_message(session, customer, "sms"), at(hours=2))
    receipt = make_receipt(session, customer, at(hours=3))
    attribute(session, receipt)
    first = pairs(session)

    attribute(session, receipt)
    attribute(session, receipt)

    assert pairs(session) == first and len(first) == 2


def test_the_summary_and_the_days_count_credited_receipts_only(session: Session) -> None:
    customer, other = make_customer(session), make_customer(session)
    deliver(session, make_message(session, customer, "sms", "mailing", 9), at())
    deliver(session, make_message(session, other, "sms", "mailing", 9), at())
    deliver(session, make_message(session, customer, "sms"), at(hours=30))  # takes the second receipt
    receipts = [
        make_receipt(session, customer, at(hours=1), total="10.10"),
        make_receipt(session, customer, at(hours=31), total="20.00"),
        make_receipt(session, other, at(hours=2), total="5.05"),
        make_receipt(session, other, at(hours=23), total="1.00"),  # 2026-11-03 in Moscow
    ]
    attribute(session, *receipts)

    summary = attribution_service.summary(session, "mailing", 9)
    assert (summary.receipts, summary.buyers, summary.amount) == (3, 2, Decimal("16.15"))
    days = attribution_service.per_day(session, "mailing", 9)
    assert [(d.day.isoformat(), d.receipts, d.amount) for d in days] == [
        ("2026-11-02", 2, Decimal("15.15")),
        ("2026-11-03", 1, Decimal("1.00")),
    ]
    assert attribution_service.summary(session, "mailing", 10).receipts == 0
