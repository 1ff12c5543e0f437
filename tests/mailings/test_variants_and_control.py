"""A/B tests and control groups of a mailing: each customer gets one variant (its template and subject),
an automatic winner goes to those who waited, a stratified control group keeps every stratum's share, a
target audience can be the control group — and nobody ever gets two messages of one mailing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcomm.attribution.rules import Rule, Window, resolve
from smartcomm.audit.actor import Actor
from smartcomm.kit.errors import InvalidInput
from smartcomm.mailings.draws import stratified_control, unit, variant_of, variant_shares
from smartcomm.mailings.schemas import MailingUpdate
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Mailing, MailingAssignment, Message, MessageContent
from tests.delivery.helpers import email_template
from tests.mailings.helpers import (
    audience_of,
    customers,
    hold_dispatch,
    mailing_messages,
    make_mailing,
    send_due,
)

ACTOR = Actor.system("tests")


def launch(session: Session, mailing: Mailing) -> Mailing:
    mailing_service.launch(session, ACTOR, mailing.id)
    session.commit()
    session.expire_all()
    found = session.get(Mailing, mailing.id)
    assert found is not None
    return found


def assignments(session: Session, mailing: Mailing) -> dict[int, int | None]:
    statement = select(MailingAssignment.customer_id, MailingAssignment.variant).where(
        MailingAssignment.mailing_id == mailing.id
    )
    return {int(row[0]): row[1] for row in session.execute(statement)}


def two_variants(session: Session) -> list[dict[str, Any]]:
    first = email_template(session, subject="A for {{ client.first_name }}")
    second = email_template(session, subject="B for {{ client.first_name }}")
    return [
        {"template_version_id": first.id},
        {"template_version_id": second.id, "subject": "Only for you, {{ client.first_name }}"},
    ]


def test_each_customer_gets_the_template_and_subject_of_their_one_variant(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 80)
    variants = two_variants(session)
    mailing = launch(session, make_mailing(session, people, variants=variants, control_percent=10))

    drawn = assignments(session, mailing)
    control = set(mailing_service.control_members(session, mailing.id))
    messages = mailing_messages(session, mailing.id)
    assert Counter(m.customer_id for m in messages) == Counter(
        {c.id: 1 for c in people if c.id not in control}
    )
    assert set(drawn) == {c.id for c in people} - control
    for message in messages:
        variant = drawn[message.customer_id or 0]
        assert message.template_version_id == variants[variant or 0]["template_version_id"]
        assert message.options["variant"] == variant
    assert 15 < Counter(drawn.values())[1] < 55  # an even split, drawn per customer

    send_due()
    contents = dict(session.execute(select(MessageContent.message_id, MessageContent.content)).all())
    for message in mailing_messages(session, mailing.id):
        subject = contents[message.id]["subject"]
        first_name = "Ivan"
        expected = (
            f"A for {first_name}" if drawn[message.customer_id or 0] == 0 else f"Only for you, {first_name}"
        )
        assert subject == expected


def test_an_automatic_winner_goes_to_everyone_who_waited_and_nobody_gets_two(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 150)
    test = {"test_percent": 30, "wait_hours": 2, "metric": "opens"}
    mailing = launch(session, make_mailing(session, people, variants=two_variants(session), ab_test=test))

    drawn = assignments(session, mailing)
    tested = {customer for customer, variant in drawn.items() if variant is not None}
    assert 20 < len(tested) < 75
    assert {m.customer_id for m in mailing_messages(session, mailing.id)} == tested
    assert mailing.status == "sending"  # not finished: the rest waits for the winner
    send_due()
    assert mailing_service.settle_sending(session) == []

    second = [m.id for m in mailing_messages(session, mailing.id) if m.options["variant"] == 1]
    session.execute(update(Message).where(Message.id.in_(second[:3])).values(opens=1, status="opened"))
    session.commit()
    assert mailing.collected_at is not None
    assert mailing_service.choose_due_winners(session, mailing.collected_at + timedelta(hours=1)) == []
    chosen = mailing_service.choose_due_winners(session, mailing.collected_at + timedelta(hours=2, minutes=1))
    session.commit()

    assert chosen == [mailing.id]
    session.expire_all()
    finished = session.get(Mailing, mailing.id)
    assert finished is not None and finished.winner_variant == 1
    assert finished.winner_reason is not None and finished.winner_reason["winner"] == "B"
    messages = mailing_messages(session, mailing.id)
    assert Counter(m.customer_id for m in messages) == Counter({c.id: 1 for c in people})
    late = [m for m in messages if m.customer_id not in tested]
    assert late and all(m.options["variant"] == 1 for m in late)
    assert set(assignments(session, mailing).values()) <= {0, 1}


def test_a_stratified_control_group_keeps_the_share_of_every_stratum(session: Session) -> None:
    men, women = customers(session, 60, gender="m"), customers(session, 140, gender="f")
    mailing = launch(
        session, make_mailing(session, men + women, control_percent=10, control_strata=["gender"])
    )

    control = set(mailing_service.control_members(session, mailing.id))
    assert len(control & {c.id for c in men}) == 6
    assert len(control & {c.id for c in women}) == 14
    assert {m.customer_id for m in mailing_messages(session, mailing.id)}.isdisjoint(control)
    expected = stratified_control(
        mailing.control_seed, 10, [(c.id, c.gender) for c in men + women]
    )  # the same seed draws the same group
    assert sorted(control) == expected


def test_a_target_audience_can_be_the_control_group(session: Session) -> None:
    people = customers(session, 20)
    held_back = audience_of(session, people[:5])
    mailing = launch(session, make_mailing(session, people, control_audience_id=held_back.id))

    assert mailing_service.control_members(session, mailing.id) == sorted(c.id for c in people[:5])
    assert {m.customer_id for m in mailing_messages(session, mailing.id)} == {c.id for c in people[5:]}


def test_the_volume_counts_the_control_group_the_send_will_draw(session: Session) -> None:
    people = customers(session, 50, gender="m") + customers(session, 50, gender="f")
    mailing = make_mailing(session, people, control_percent=20, control_strata=["gender"])

    volume = mailing_service.volume(session, mailing.id)
    launched = launch(session, mailing)

    assert volume.control == 20 == len(mailing_service.control_members(session, launched.id))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"variants": [{}]}, "variants"),
        ({"ab_test": {"test_percent": 20}}, "ab_test"),
        ({"variants": [{"share": 70}, {"share": 70}]}, "variants"),
        ({"variants": [{}, {"template_version_id": 999_999}]}, "variants[1].template_version_id"),
        ({"variants": [{}, {"subject": "{% if %}"}]}, "variants[1].subject"),
        ({"control_percent": 10, "control_audience_id": "audience"}, "control_audience_id"),
        ({"attribution_rule": {"window": "days"}}, "attribution_rule.days"),
        (
            {"attribution_rule": {"window": "range", "date_from": "2026-12-10", "date_to": "2026-12-01"}},
            "attribution_rule.date_to",
        ),
        ({"watcher_group_ids": [999_999]}, "watcher_group_ids"),
    ],
)
def test_bad_settings_name_their_field_and_change_nothing(
    session: Session, values: dict[str, Any], field: str
) -> None:
    people = customers(session, 3)
    mailing = make_mailing(session, people)
    if values.get("control_audience_id") == "audience":
        values = values | {"control_audience_id": audience_of(session, people).id}
    before = {name: getattr(mailing, name) for name in ("variants", "ab_test", "attribution_rule")}

    with pytest.raises(InvalidInput) as raised:
        mailing_service.update(session, ACTOR, mailing.id, MailingUpdate.model_validate(values))
    session.rollback()

    assert field in [error.field for error in raised.value.errors]
    session.expire_all()
    found = session.get(Mailing, mailing.id)
    assert found is not None
    assert {name: getattr(found, name) for name in before} == before


def test_a_mailing_decides_its_own_attribution_rule(session: Session) -> None:
    people = customers(session, 1)
    days = make_mailing(
        session, people, attribution_rule={"window": "days", "days": 7, "criteria": {"min_amount": 500}}
    )
    off = make_mailing(session, people, attribution_rule={"window": "off"})
    ranged = make_mailing(
        session,
        people,
        attribution_rule={"window": "range", "date_from": "2026-12-01", "date_to": "2026-12-07"},
    )
    default = make_mailing(session, people)

    rules = resolve(
        session,
        [("mailing", m.id) for m in (days, off, ranged, default)],
        Rule.days_after(3),
    )

    assert rules[("mailing", days.id)].days == 7
    assert str(rules[("mailing", days.id)].criteria.min_amount) == "500"
    assert rules[("mailing", off.id)].window == Window.OFF
    assert rules[("mailing", ranged.id)].window == Window.RANGE
    assert rules[("mailing", default.id)] == Rule.days_after(3)


def test_the_draws_are_fixed_by_the_seed() -> None:
    assert unit(5, 10) == unit(5, 10) != unit(6, 10)
    shares = variant_shares([{"share": 20}, {}, {}])
    assert [round(s) for s in shares] == [20, 40, 40]
    picked = Counter(variant_of(1, customer, shares) for customer in range(5000))
    assert 800 < picked[0] < 1200
    waiting = Counter(variant_of(1, customer, shares, test_percent=10) is None for customer in range(5000))
    assert 4300 < waiting[True] < 4700


def test_a_share_draws_exactly_that_share_of_the_audience(session: Session) -> None:
    people = customers(session, 37)
    mailing = launch(session, make_mailing(session, people, control_percent=10))

    control = mailing_service.control_members(session, mailing.id)
    assert len(control) == 4  # round(3.7), not "about" 10 %
    assert len(mailing_messages(session, mailing.id)) == 33
