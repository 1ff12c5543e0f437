"""The gate holds the global control group out of the mailings and campaigns that exclude it, with its
own reason and volume bucket, and never out of anything else."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartcomm.control_groups.service import global_control_service
from smartcomm.delivery.ledger import Source, Status
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Customer
from smartcomm.personalization.renderer import renderer
from tests.campaigns.helpers import active_campaign, buy, campaign_messages, edge, graph, node
from tests.control_groups.helpers import ACTOR, enable
from tests.delivery.helpers import email_template, make_customer
from tests.mailings.helpers import customers, hold_dispatch, mailing_messages, make_mailing


def group_of(session: Session, members: list[Customer]) -> None:
    enable(session, source="file")
    listed = "\n".join(c.external_id for c in members).encode()
    global_control_service.upload(session, ACTOR, "group.csv", listed)


def test_a_mailing_that_excludes_the_group_suppresses_its_members_and_counts_them(
    session: Session, monkeypatch
) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 8)
    members = people[:3]
    group_of(session, [*members, *customers(session, 2)])  # two members outside the audience
    mailing = make_mailing(session, people)

    volume = mailing_service.volume(session, mailing.id)
    mailing_service.launch(session, ACTOR, mailing.id)
    session.commit()

    assert (volume.buckets["global_control"], volume.buckets["good_recipients"]) == (3, 5)
    assert mailing_service.recorded_buckets(session, mailing.id) == volume.buckets
    held_out = {m.customer_id for m in mailing_messages(session, mailing.id) if m.reason == "global_control"}
    assert held_out == {c.id for c in members}
    statuses = {m.status for m in mailing_messages(session, mailing.id) if m.customer_id in held_out}
    assert statuses == {Status.SUPPRESSED}


def test_a_mailing_with_the_switch_off_reaches_the_members(session: Session, monkeypatch) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 4)
    group_of(session, people[:2])
    mailing = make_mailing(session, people, exclude_global_control=False)

    volume = mailing_service.volume(session, mailing.id)

    assert (volume.buckets["global_control"], volume.buckets["good_recipients"]) == (0, 4)


def test_transactional_messages_reach_the_members_whatever_their_options(
    session: Session, monkeypatch
) -> None:
    hold_dispatch(monkeypatch)
    member = customers(session, 1)[0]
    group_of(session, [member])
    request = PlanRequest(
        source_kind=Source.TRANSACTIONAL,
        channel="email",
        customer_id=member.id,
        occurrence="order-1",
        template_version_id=email_template(session).id,
        options={"exclude_global_control": True},
    )

    [message] = delivery_service.plan(session, [request])

    assert (message.status, message.reason) == (Status.PLANNED, None)


def test_after_the_group_is_dissolved_its_former_members_are_reached(session: Session, monkeypatch) -> None:
    hold_dispatch(monkeypatch)
    people = customers(session, 3)
    group_of(session, people[:1])
    global_control_service.update(session, ACTOR, {"enabled": False})
    mailing = make_mailing(session, people)

    assert mailing_service.volume(session, mailing.id).buckets["global_control"] == 0


@pytest.mark.parametrize(("excludes", "reason"), [(True, "global_control"), (False, None)])
def test_a_campaign_message_to_a_member_follows_the_campaigns_switch(
    session: Session, monkeypatch, excludes: bool, reason: str | None
) -> None:
    hold_dispatch(monkeypatch)
    renderer.forget()
    member = make_customer(session)
    group_of(session, [member])
    body = graph(
        [
            node("t", "trigger.cheque_issued"),
            node("e", "action.send_email", template_version_id=email_template(session).id),
        ],
        [edge("t", "e")],
    )
    campaign = active_campaign(session, body, exclude_global_control=excludes)

    buy(session, member)

    [message] = campaign_messages(session, campaign)
    assert message.reason == reason
