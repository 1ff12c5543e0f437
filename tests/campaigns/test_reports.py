"""A campaign's report from campaigns run through the engine: receipts enter customers, the e-mails go out,
people open them through the tracking pixel and buy again, a control node holds some out — the report
counts each of it, for the whole campaign, for one node and for a period."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.analytics.groups import two_proportion_test
from smartcomm.campaigns import engine
from smartcomm.campaigns.reports import campaign_report_service, customer_journeys
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.time import utcnow
from smartcomm.models import Journey, Message, Receipt
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.campaigns.helpers import active_campaign, buy, edge, graph, node
from tests.campaigns.report_helpers import hits_written_inline, message_of, open_email
from tests.delivery.helpers import email_template, make_customer
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("hits_written_inline")
__all__ = ["hits_written_inline"]
H = timedelta(hours=1)


def send_at_once(template: int) -> dict:
    return graph(
        [node("t", "trigger.cheque_issued"), node("e", "action.send_email", template_version_id=template)],
        [edge("t", "e")],
    )


def figures(items: list) -> dict[str, int]:
    return {figure.key: figure.value for figure in items}


def test_the_report_counts_entries_messages_opens_and_the_orders_credited(session: Session, client) -> None:
    campaign = active_campaign(
        session, send_at_once(email_template(session).id), attribution={"window": "days", "days": 10}
    )
    first, second, third = (make_customer(session) for _ in range(3))
    for customer in (first, second, third):
        buy(session, customer, when=utcnow() - H)
    open_email(client, message_of(session, campaign, first))
    open_email(client, message_of(session, campaign, second))
    buy(session, first, "250.00", utcnow() + H)
    buy(session, third, "99.00", utcnow() + H)  # never opened: not credited

    report = campaign_report_service.report(session, campaign.id)

    assert report.journeys.model_dump() == {"entered": 3, "in_progress": 0, "finished": 3, "exited": 0}
    assert [(row.id, row.arrived, row.passed, row.in_progress) for row in report.nodes] == [
        ("t", 3, 3, 0), ("e", 3, 3, 0)
    ]  # fmt: skip
    sent = figures(report.messages)
    assert (sent["sent"], sent["delivered"], sent["opened"], sent["clicked"]) == (3, 3, 2, 0)
    assert [row.channel for row in report.channels] == ["email"]
    assert report.channels[0].figure("opened").rate == pytest.approx(2 / 3)
    assert (report.credited.receipts, report.credited.buyers, report.credited.amount) == (
        1,
        1,
        Decimal("250.00"),
    )
    assert [(day.receipts, day.amount) for day in report.per_day] == [(1, Decimal("250.00"))]
    zone = settings_service.read(session, GeneralSettings).time_zone
    hour = utcnow().astimezone(ZoneInfo(zone)).hour
    assert report.opens_by_hour[hour] == 2 and sum(report.opens_by_hour) == 2
    assert report.control_groups == []


def test_the_report_of_one_node_counts_only_that_nodes_messages_and_their_orders(
    session: Session, client
) -> None:
    template = email_template(session).id
    body = graph(
        [
            node("t", "trigger.cheque_issued"),
            node("first", "action.send_email", template_version_id=template),
            node("w", "action.wait", amount=1, unit="hours"),
            node("second", "action.send_email", template_version_id=template),
        ],
        [edge("t", "first"), edge("first", "w"), edge("w", "second")],
    )
    campaign = active_campaign(session, body)
    customer = make_customer(session)
    buy(session, customer, when=utcnow() - H)
    open_email(client, message_of(session, campaign, customer))
    buy(session, customer, "120.00", utcnow() + 10 * timedelta(minutes=1))

    whole = campaign_report_service.report(session, campaign.id)
    first = campaign_report_service.report(session, campaign.id, node="first")
    second = campaign_report_service.report(session, campaign.id, node="second")

    assert figures(whole.messages)["sent"] == 1 and whole.journeys.in_progress == 1
    assert {row.id: row.in_progress for row in whole.nodes} == {"t": 0, "first": 0, "w": 1, "second": 0}
    assert (figures(first.messages)["opened"], first.credited.receipts) == (1, 1)
    assert (figures(second.messages)["sent"], second.credited.receipts, sum(second.opens_by_hour)) == (
        0,
        0,
        0,
    )
    assert [row.id for row in second.nodes] == ["t", "first", "w", "second"]  # the funnel stays whole


def test_a_period_narrows_what_happened_in_it_but_not_what_stands_now(session: Session) -> None:
    template = email_template(session).id
    body = graph(
        [
            node("t", "trigger.cheque_issued"),
            node("w", "action.wait", amount=2, unit="days"),
            node("e", "action.send_email", template_version_id=template),
        ],
        [edge("t", "w"), edge("w", "e")],
    )
    campaign = active_campaign(session, body)
    early, late = make_customer(session), make_customer(session)
    buy(session, early, when=utcnow() - H)
    with time_machine.travel(utcnow() + timedelta(days=5), tick=False):
        buy(session, late, when=utcnow() - H)
        engine.advance()
        today = (
            utcnow().astimezone(engine.project_zone(session)).date()
        )  # the report's days are the project's
    days_before = campaign_report_service.report(session, campaign.id, date_to=today - timedelta(days=1))
    only_today = campaign_report_service.report(session, campaign.id, date_from=today, date_to=today)

    assert (days_before.journeys.entered, only_today.journeys.entered) == (1, 1)
    assert days_before.journeys.in_progress == only_today.journeys.in_progress == 1  # late waits now
    assert figures(days_before.messages)["recorded"] == 0  # early's e-mail went today, after its wait
    assert figures(only_today.messages)["recorded"] == 1
    assert {row.id: row.arrived for row in only_today.nodes} == {"t": 1, "w": 1, "e": 1}


def test_the_control_group_report_compares_the_held_out_customers_with_those_let_through(
    session: Session,
) -> None:
    template = email_template(session).id
    body = graph(
        [
            node("t", "trigger.cheque_issued"),
            node("c", "action.control_group", percent=50),
            node("e", "action.send_email", template_version_id=template),
        ],
        [edge("t", "c"), edge("c", "e")],
    )
    campaign = active_campaign(session, body, attribution={"window": "days", "days": 10})
    people = [make_customer(session) for _ in range(24)]
    for customer in people:
        buy(session, customer, when=utcnow() - H)
    for number, customer in enumerate(people):
        if number % 3 == 0:
            buy(session, customer, f"{100 + number}.00", utcnow() + timedelta(days=number % 4))
        if number % 5 == 0:
            buy(session, customer, "500.00", utcnow() + timedelta(days=11))  # after the window

    [control_report] = campaign_report_service.report(session, campaign.id).control_groups

    expected = _groups_in_python(session, campaign.id, "c", days=10)
    main, control = control_report.groups
    assert (control_report.node, control_report.window_days) == ("c", 10)
    assert (main.key, control.key) == ("main", "control")
    for row, key in ((main, False), (control, True)):
        size, buyers, receipts, amount = expected[key]
        assert (row.recipients, row.buyers, row.receipts, row.amount) == (size, buyers, receipts, amount)
    assert main.delivered == expected[False][0] and control.delivered is None
    assert main.comparison is not None
    test = two_proportion_test(main.buyers, main.recipients, control.buyers, control.recipients)
    assert main.comparison.p_value == pytest.approx(test[1] if test else None)
    assert main.expected_amount == (main.recipients * control.amount / control.recipients).quantize(
        Decimal("0.01")
    )
    assert {o.output: o.count for o in report_row(session, campaign.id, "c").outputs} == {
        "out": expected[False][0], "control": expected[True][0]
    }  # fmt: skip


def report_row(session: Session, campaign_id: int, node_id: str):  # type: ignore[no-untyped-def]
    return next(
        row for row in campaign_report_service.report(session, campaign_id).nodes if row.id == node_id
    )


def _groups_in_python(
    session: Session, campaign_id: int, node_id: str, days: int
) -> dict[bool, tuple[int, int, int, Decimal]]:
    """Per group (held out or not): members, buyers, receipts and amount in each member's window."""
    journeys = session.scalars(select(Journey).where(Journey.campaign_id == campaign_id)).all()
    found: dict[bool, list[int]] = {True: [0, 0, 0], False: [0, 0, 0]}
    amounts: dict[bool, Decimal] = {True: Decimal("0.00"), False: Decimal("0.00")}
    for journey in journeys:
        held = bool(journey.state["control"][node_id])
        start, end = journey.entered_at, journey.entered_at + timedelta(days=days)
        receipts = [
            receipt
            for receipt in session.scalars(select(Receipt).where(Receipt.customer_id == journey.customer_id))
            if start <= receipt.purchased_at < end
        ]
        found[held][0] += 1
        found[held][1] += bool(receipts)
        found[held][2] += len(receipts)
        amounts[held] += sum((receipt.total for receipt in receipts), Decimal("0.00"))
    assert found[True][0] and found[False][0], "the draw held out nobody, or everybody"
    return {key: (*value, amounts[key]) for key, value in found.items()}  # type: ignore[misc]


def test_a_node_the_campaign_never_had_and_a_period_ending_before_it_starts_are_refused(
    session: Session,
) -> None:
    campaign = active_campaign(session, send_at_once(email_template(session).id))
    with pytest.raises(InvalidInput) as unknown:
        campaign_report_service.report(session, campaign.id, node="nowhere")
    today = utcnow().date()
    with pytest.raises(InvalidInput) as backwards:
        campaign_report_service.report(
            session, campaign.id, date_from=today, date_to=today - timedelta(days=1)
        )

    assert [error.field for error in unknown.value.errors] == ["node"]
    assert [error.field for error in backwards.value.errors] == ["date_to"]


def test_a_customers_journeys_name_their_campaign_version_and_node(session: Session) -> None:
    template = email_template(session).id
    waiting = graph(
        [node("t", "trigger.cheque_issued"), node("w", "action.wait", amount=1, unit="days")],
        [edge("t", "w")],
    )
    first = active_campaign(session, waiting, name="Thank-you series")
    second = active_campaign(session, send_at_once(template), name="Receipt e-mail", exit_rules=[])
    customer, other = make_customer(session), make_customer(session)
    buy(session, customer, when=utcnow() - H)
    buy(session, other, when=utcnow() - H)

    found = customer_journeys(session, customer.id, 20)

    assert found.total == 2
    rows = sorted(found.journeys, key=lambda row: row.campaign_name)
    assert [(r.campaign_id, r.version, r.node, r.node_label, r.status) for r in rows] == [
        (second.id, 1, "e", "Send e-mail", "done"),
        (first.id, 1, "w", "Wait", "waiting"),
    ]
    assert customer_journeys(session, make_customer(session).id, 20).journeys == []


def test_the_e_mails_telling_staff_about_a_customer_are_not_counted_as_the_campaigns_messages(
    session: Session,
) -> None:
    manager, _ = make_user(session, email="manager@shop.example", full_name="Manager")
    template = email_template(session).id
    campaign = active_campaign(session, graph(
        [node("t", "trigger.cheque_issued"),
         node("n", "action.send_notification", user_ids=[manager.id], title="A purchase"),
         node("e", "action.send_email", template_version_id=template)],
        [edge("t", "n"), edge("n", "e")],
    ))  # fmt: skip
    customer = make_customer(session)
    buy(session, customer)
    staff = select(Message).where(Message.source_id == campaign.id, Message.customer_id.is_(None))
    assert len(session.scalars(staff).all()) == 1  # the manager was e-mailed

    report = campaign_report_service.report(session, campaign.id)

    assert figures(report.messages)["sent"] == 1
    assert figures(campaign_report_service.report(session, campaign.id, node="n").messages)["sent"] == 0
