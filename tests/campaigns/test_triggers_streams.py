"""Triggers on streams other parts of the product keep: segment entries and exits (builds and per-customer
refreshes), target audience changes (service and import), completed polls, and campaign chaining."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from smartcomm.audiences import service as audiences_service_module
from smartcomm.audiences.importer import audience_import_service
from smartcomm.audiences.schemas import AudienceIn, IdType, ImportMode, ImportRequest, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.campaigns.service import campaign_service
from smartcomm.campaigns.triggers.segments import SET_BASED_FROM
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.models import Customer, SegmentEvent
from smartcomm.polls import answering
from smartcomm.segments.service import segment_service
from tests.audiences.helpers import city_segment
from tests.campaigns.helpers import ACTOR, active_campaign, buy, edge, graph, journeys, node
from tests.campaigns.trigger_helpers import (
    campaign_on,
    context_of,
    entered,
    fresh_watch_list,  # noqa: F401 (fixture)
    hand_over_again,
    mark,
    occurrences,
    passing,
)
from tests.delivery.helpers import email_template, make_customer
from tests.outbox.conftest import published
from tests.polls.helpers import make_poll


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements run on the test's database while the test runs."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]).lstrip())

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


# --- segments ------------------------------------------------------------------------------------------


def move(session: Session, external_id: str, city: str) -> None:
    """Change a customer's city through the service (its `customer.changed` refreshes the segments)."""
    customer_service.upsert(session, ACTOR, CustomerIn(external_id=external_id, city=city))
    session.commit()


def test_segment_entries_and_exits_of_refreshes_and_builds(session: Session) -> None:
    anna = make_customer(session, city="Kazan")
    boris = make_customer(session, city="Moscow")
    segment = city_segment(session, "Kazan", "Kazan")
    session.commit()
    joined = campaign_on(session, "trigger.segment_changed", segment_id=segment.id)
    left = campaign_on(session, "trigger.segment_changed", segment_id=segment.id, change="exited")
    before = mark(session)

    move(session, boris.external_id, "Kazan")  # a per-customer refresh
    move(session, anna.external_id, "Omsk")
    olga = make_customer(session, city="Kazan")  # written without an event: the next build finds her
    session.commit()
    segment_service.build(session, segment.id, "manual")
    session.commit()

    assert (entered(session, joined), entered(session, left)) == ([boris.id, olga.id], [anna.id])
    assert all(each.startswith("segment_event:") for each in occurrences(session, joined))
    assert context_of(session, left)["change"] == "exited"
    hand_over_again(session, "segment.changed", after=before)
    assert (entered(session, joined), entered(session, left)) == ([boris.id, olga.id], [anna.id])


def test_a_segments_first_build_enters_its_many_members_in_one_statement_once_each(
    session: Session, statements: list[str]
) -> None:
    many = SET_BASED_FROM + 100
    segment = city_segment(session, "Kazan", "Kazan")  # built: empty
    session.commit()
    joined = campaign_on(session, "trigger.segment_changed", segment_id=segment.id)
    once = active_campaign(session, passing("trigger.segment_changed", segment_id=segment.id))
    rows = [{"external_id": f"KZN-{n}", "email": f"k{n}@example.com", "city": "Kazan"} for n in range(many)]
    session.execute(insert(Customer), rows)  # written without events: the next build finds them
    session.commit()
    before = mark(session)
    statements.clear()

    segment_service.build(session, segment.id, "manual")
    session.commit()

    members = sorted(session.scalars(select(Customer.id).where(Customer.city == "Kazan")))
    assert sorted(entered(session, joined)) == members and sorted(entered(session, once)) == members
    inserts = [s for s in statements if s.startswith("INSERT INTO journeys")]
    assert len(inserts) == 2 and all("SELECT" in each for each in inserts)  # one INSERT … SELECT each
    first = journeys(session, joined)[0]
    row = session.scalar(select(SegmentEvent).where(SegmentEvent.customer_id == first.customer_id))
    assert first.occurrence == f"segment_event:{row.id}"  # type: ignore[union-attr]
    changed_at = row.occurred_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")  # type: ignore[union-attr]
    assert first.context == {"segment_id": segment.id, "change": "entered", "changed_at": changed_at}

    hand_over_again(session, "segment.changed", after=before)
    assert len(entered(session, joined)) == many and len(entered(session, once)) == many


def test_another_segments_changes_enter_nobody(session: Session) -> None:
    make_customer(session, city="Kazan")
    kazan, omsk = city_segment(session, "Kazan", "Kazan"), city_segment(session, "Omsk", "Omsk")
    session.commit()
    campaign = campaign_on(session, "trigger.segment_changed", segment_id=omsk.id)

    segment_service.build(session, kazan.id, "manual")
    make_customer(session, external_id="K-9", city="Kazan")
    session.commit()
    segment_service.build(session, kazan.id, "manual")
    session.commit()

    assert published(session, "segment.changed")  # the Kazan segment did change
    assert entered(session, campaign) == []


# --- target audiences ----------------------------------------------------------------------------------


def test_customers_added_to_or_removed_from_an_audience(session: Session) -> None:
    anna, boris = make_customer(session), make_customer(session)
    audience = audience_service.create(session, ACTOR, AudienceIn(name="VIP"))
    other = audience_service.create(session, ACTOR, AudienceIn(name="Staff"))
    session.commit()
    added = campaign_on(session, "trigger.audience_changed", audience_id=audience.id)
    removed = campaign_on(session, "trigger.audience_changed", audience_id=audience.id, change="removed")
    before = mark(session)

    both = MembersIn(customer_ids=[anna.id, boris.id])
    audience_service.add_members(session, ACTOR, audience.id, both)
    audience_service.add_members(session, ACTOR, audience.id, both)  # members already: no change
    audience_service.add_members(session, ACTOR, other.id, both)
    audience_service.remove_members(session, ACTOR, audience.id, MembersIn(customer_ids=[boris.id]))
    session.commit()

    assert (entered(session, added), entered(session, removed)) == ([anna.id, boris.id], [boris.id])
    assert context_of(session, removed)["change"] == "removed"
    hand_over_again(session, "audience.changed", after=before)
    assert (entered(session, added), entered(session, removed)) == ([anna.id, boris.id], [boris.id])


def test_a_change_larger_than_an_events_list_enters_every_customer(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change of more customers than one event lists (5,000; here 2) is published in parts."""
    monkeypatch.setattr(audiences_service_module, "CUSTOMER_IDS_LIMIT", 2)
    people = [make_customer(session) for _ in range(5)]
    audience = audience_service.create(session, ACTOR, AudienceIn(name="Big list"))
    session.commit()
    added = campaign_on(session, "trigger.audience_changed", audience_id=audience.id)
    before = mark(session)

    everyone = MembersIn(customer_ids=[person.id for person in people])
    audience_service.add_members(session, ACTOR, audience.id, everyone)
    session.commit()

    assert entered(session, added) == sorted(person.id for person in people)
    parts = [e.payload["added"] for e in published(session, "audience.changed", after=before)]
    assert sorted(len(part) for part in parts) == [1, 2, 2]


def test_an_audience_import_enters_the_customers_it_added(session: Session) -> None:
    anna, boris = make_customer(session, external_id="IMP-1"), make_customer(session, external_id="IMP-2")
    audience = audience_service.create(session, ACTOR, AudienceIn(name="From a file"))
    audience_service.add_members(session, ACTOR, audience.id, MembersIn(customer_ids=[boris.id]))
    session.commit()
    campaign = campaign_on(session, "trigger.audience_changed", audience_id=audience.id)

    request = ImportRequest(mode=ImportMode.SINGLE, id_type=IdType.EXTERNAL_ID, audience_id=audience.id)
    job = audience_import_service.start(
        session, ACTOR, request, "list.csv", io.BytesIO(b"IMP-1\nIMP-2\nNOPE\n")
    )
    session.commit()
    audience_import_service.run(job.id)

    assert entered(session, campaign) == [anna.id]  # Boris was a member already


def test_a_campaigns_audience_action_is_a_user_segment_change(session: Session) -> None:
    anna = make_customer(session)
    audience = audience_service.create(session, ACTOR, AudienceIn(name="Bought once"))
    session.commit()
    adding = active_campaign(
        session,
        graph(
            [node("t", "trigger.cheque_issued"), node("a", "action.audience", audience_id=audience.id)],
            [edge("t", "a")],
        ),
        reentry_minutes=0,
    )
    campaign = campaign_on(session, "trigger.audience_changed", audience_id=audience.id)

    buy(session, anna)
    buy(session, anna)  # a member already: no change

    assert [j.status for j in journeys(session, adding)] == ["done", "done"]
    assert entered(session, campaign) == [anna.id]


# --- polls ---------------------------------------------------------------------------------------------


def test_a_completed_poll_enters_its_customer_with_the_answers(session: Session) -> None:
    anna, boris = make_customer(session), make_customer(session)
    habits, other = make_poll(session), make_poll(session, "Delivery")
    campaign = campaign_on(session, "trigger.poll_completed", poll_id=habits.id)
    before = mark(session)

    answering.answer(session, habits, anna.id, None, {"q1": "shop", "q2": ["food"]})
    answering.answer(session, other, boris.id, None, {"q1": "online"})
    session.commit()

    assert entered(session, campaign) == [anna.id]
    assert context_of(session, campaign)["answers"] == {"q1": "shop", "q2": ["food"]}
    hand_over_again(session, "poll.answered", after=before)
    assert entered(session, campaign) == [anna.id]


# --- campaign chaining ---------------------------------------------------------------------------------


def test_action_worked_enters_the_customers_a_node_of_another_campaign_processed(session: Session) -> None:
    anna = make_customer(session)
    unreachable = make_customer(session, email=None, email_valid=False)
    template = email_template(session).id
    first = active_campaign(
        session,
        graph(
            [
                node("t", "trigger.cheque_issued"),
                node("e", "action.send_email", template_version_id=template),
            ],
            [edge("t", "e")],
        ),
        reentry_minutes=0,
    )
    after_send = campaign_on(session, "trigger.action_worked", campaign_id=first.id, node="e")
    after_entry = campaign_on(session, "trigger.action_worked", campaign_id=first.id, node="t")
    before = mark(session)

    buy(session, anna)
    buy(session, unreachable)  # the e-mail is suppressed: the send node did not process her

    assert entered(session, after_send) == [anna.id]
    assert entered(session, after_entry) == [anna.id, unreachable.id]
    context = context_of(session, after_send)
    assert (context["campaign_id"], context["node"]) == (first.id, "e")
    hand_over_again(session, "campaign.node_passed", after=before)
    assert entered(session, after_send) == [anna.id]


def test_nodes_nobody_watches_publish_nothing(session: Session) -> None:
    anna = make_customer(session)
    first = active_campaign(session, passing("trigger.cheque_issued"), reentry_minutes=0)
    watcher = campaign_on(session, "trigger.action_worked", campaign_id=first.id, node="f")
    before = mark(session)

    buy(session, anna)

    [event] = published(session, "campaign.node_passed", after=before)
    assert (event.payload["campaign_id"], event.payload["node"], event.payload["customer_ids"]) == (
        first.id, "f", [anna.id],
    )  # fmt: skip
    assert [j.node for j in journeys(session, watcher)] == ["f"]


def test_a_watched_node_must_exist_in_the_campaign(session: Session) -> None:
    first = active_campaign(session, passing("trigger.cheque_issued"))
    problems = campaign_service.check(
        session, passing("trigger.action_worked", campaign_id=first.id, node="nope")
    )
    missing = campaign_service.check(session, passing("trigger.action_worked", campaign_id=99999, node="f"))

    assert [e.field for e in problems.errors] == ["nodes.t.settings.node"]
    assert [e.field for e in missing.errors] == ["nodes.t.settings.campaign_id"]
