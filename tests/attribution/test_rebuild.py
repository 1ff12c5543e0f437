"""The incremental path and the rebuild agree with each other and with a plain reading of the rule, on
randomized histories where receipts and touches arrive in any order (late opens included)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from smartcomm.attribution.rules import Rule, register_rule_source, unregister_rule_source
from smartcomm.attribution.subscribers import attribute as subscriber
from smartcomm.cli.main import app
from smartcomm.kit.outbox import Event
from smartcomm.models import AttributedReceipt
from tests.attribution.helpers import at, deliver, make_customer, make_message, make_receipt, open_, pairs

RULES: dict[int | None, Rule] = {}


@pytest.fixture(autouse=True)
def mailing_rules() -> Iterator[None]:
    own = unregister_rule_source("mailing")
    register_rule_source("mailing", lambda _session, ids: {i: RULES[i] for i in ids if i in RULES})
    yield
    unregister_rule_source("mailing")
    if own is not None:
        register_rule_source("mailing", own)
    RULES.clear()


def event(kind: str, payload: dict[str, Any]) -> Event:
    return Event(id=0, kind=kind, customer_id=None, payload=payload, occurred_at=datetime.now(UTC))


def moment(draw: random.Random) -> datetime:
    return at(minutes_of(draw))


def minutes_of(draw: random.Random) -> float:
    return draw.randrange(0, 12 * 24 * 60) / 60  # whole minutes over twelve days, in hours


def reference(receipts: list[dict[str, Any]], touches: list[dict[str, Any]]) -> set[tuple[int, int, bool]]:
    """The rule read plainly: (receipt, message, credited) for every paid receipt and every touch of its
    customer before it whose window covers it; the latest touch (then the higher id) credited."""
    found: set[tuple[int, int, bool]] = set()
    for receipt in receipts:
        if receipt["status"] != "paid":
            continue
        matching = []
        for touch in touches:
            if touch["customer"] != receipt["customer"] or touch["at"] is None:
                continue
            rule = RULES.get(touch["source_id"]) if touch["kind"] == "mailing" else None
            if rule is None:
                rule = Rule.days_after(3)
            if touch["at"] < receipt["at"] and rule.covers(touch["at"], receipt["at"]):
                matching.append(touch)
        if matching:
            last = max(matching, key=lambda t: (t["at"], t["id"]))
            found |= {(receipt["id"], t["id"], t is last) for t in matching}
    return found


@pytest.mark.parametrize("seed", range(6))
def test_incremental_attribution_equals_the_rebuild_and_the_plain_rule(session: Session, seed: int) -> None:
    draw = random.Random(seed)
    RULES.update(
        {1: Rule.days_after(1), 2: Rule.off(), 3: Rule.between(at().date(), at(days=4).date(), "UTC")}
    )
    customers = [make_customer(session) for _ in range(4)]
    arrivals: list[tuple[str, Any]] = []
    touches: list[dict[str, Any]] = []
    for _ in range(25):
        customer = draw.choice(customers)
        kind = draw.choice(["transactional", "mailing", "mailing", "test"])
        channel = draw.choice(["email", "push", "sms", "viber"])
        source_id = draw.choice([1, 2, 3, 4]) if kind == "mailing" else None
        sent = moment(draw)
        message = make_message(session, customer, channel, kind, source_id, sent_at=sent)
        touch = {"id": message.id, "customer": customer.id, "kind": kind, "source_id": source_id, "at": None}
        if kind != "test":
            touches.append(touch)
        engaged = sent + timedelta(minutes=draw.randrange(1, 3000))
        arrivals.append(("touch", (message, touch, engaged, draw.random() < 0.3)))
    receipts: list[dict[str, Any]] = []
    for _ in range(30):
        customer = draw.choice(customers)
        status = draw.choice(["paid", "paid", "paid", "returned"])
        receipt = {"customer": customer, "at": moment(draw), "status": status}
        receipts.append(receipt)
        arrivals.append(("receipt", receipt))
    draw.shuffle(arrivals)

    for what, item in arrivals:
        if what == "receipt":
            row = make_receipt(session, item["customer"], item["at"], status=item["status"])
            item.update(id=row.id, customer=row.customer_id)
            subscriber(session, [event("receipt.written", {"receipts": [{"id": row.id}]})])
        else:
            message, touch, engaged, by_machine = item
            if message.channel in ("sms", "viber"):
                deliver(session, message, engaged)
                subscriber(session, [event("message.delivered", {"message_id": message.id})])
            else:
                open_(session, message, engaged, machine=by_machine)
                subscriber(session, [event("message.opened", {"message_ids": [message.id]})])
            if message.source_kind != "test" and (message.channel in ("sms", "viber") or not by_machine):
                touch["at"] = engaged

    incremental = pairs(session)
    expected = reference(receipts, touches)
    assert {(r, m, c) for r, m, c, *_ in incremental} == expected
    assert any(c for *_, c in expected)  # the history attributes something

    session.execute(delete(AttributedReceipt))
    result = CliRunner().invoke(app, ["attribution", "rebuild", "--from", "2026-10-01", "--to", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert pairs(session) == incremental


def test_a_rebuild_leaves_receipts_outside_its_period_alone(session: Session) -> None:
    from smartcomm.attribution.service import attribution_service

    customer = make_customer(session)
    deliver(session, make_message(session, customer, "sms"), at())
    inside = make_receipt(session, customer, at(hours=1))
    outside = make_receipt(session, customer, at(days=2))

    done = attribution_service.rebuild(session, at(), at(days=1))

    assert done == 2 - 1
    assert {r for r, *_ in pairs(session)} == {inside.id}
    assert outside.total == Decimal("100.00")


def test_the_command_refuses_a_period_that_ends_before_it_starts(session: Session) -> None:
    result = CliRunner().invoke(app, ["attribution", "rebuild", "--from", "2026-11-30", "--to", "2026-11-01"])
    assert result.exit_code == 2 and "--to" in result.output
    bad = CliRunner().invoke(app, ["attribution", "rebuild", "--from", "30.11.2026", "--to", "2026-11-01"])
    assert bad.exit_code == 2 and "--from" in bad.output
    assert pairs(session) == []
