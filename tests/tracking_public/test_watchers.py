"""Settings → Watchers: groups checked line by line, audited, and copies of a communication planned for
them in the ledger and sent like any message."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.dispatch import Dispatcher
from smartcomm.delivery.ledger import Source
from smartcomm.delivery.schemas import InlineSource, PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.delivery.watchers import WatcherGroupIn, watcher_service
from smartcomm.kit.errors import InvalidInput
from smartcomm.models import Message, MessageContent, WatcherGroup
from tests.conftest import UIClient
from tests.tracking_public.helpers import audit_of, make_customer

ACTOR = Actor.system("tests")


def _group(session: Session, name: str = "Marketing", **lines: str) -> WatcherGroup:
    data = WatcherGroupIn(name=name, **({"emails": "boss@shop.example\nteam@shop.example"} | lines))
    group = watcher_service.create(session, ACTOR, data)
    session.commit()
    return group


def test_a_group_keeps_normalised_contacts_one_per_line(session: Session) -> None:
    group = _group(
        session,
        emails="Boss@Shop.Example\n\nboss@shop.example, team@shop.example",
        phones="8 (916) 123-45-67",
    )
    assert group.emails == ["boss@shop.example", "team@shop.example"]
    assert group.phones == ["+79161234567"]
    [entry] = audit_of(session, "watcher_group", group.id)
    assert entry.action == "create" and entry.changes["emails"] == [None, group.emails]


def test_bad_lines_are_refused_with_the_line_and_nothing_is_written(session: Session) -> None:
    data = WatcherGroupIn(name="Team", emails="ok@shop.example\nnot-an-address", phones="+7 495 123-45-67")
    try:
        watcher_service.create(session, ACTOR, data)
    except InvalidInput as error:
        problems = {problem.field: problem.message for problem in error.errors}
    else:
        raise AssertionError("the group was accepted")
    assert problems == {
        "emails": "Line 2: not-an-address is not a valid e-mail address.",
        "phones": "Line 1: +7 495 123-45-67 is a landline and gets no SMS.",
    }
    session.rollback()
    assert session.scalars(select(WatcherGroup)).all() == []


def test_copies_are_planned_for_the_channels_contacts_and_sent_through_the_sandbox(session: Session) -> None:
    group = _group(session, phones="+79161234567")
    customer = make_customer(session)
    parts = {"subject": "Autumn sale", "html": "<p>Hi {{ client.first_name }}</p>", "text": "Hi"}
    request = PlanRequest(
        source_kind=Source.MAILING,
        channel="email",
        customer_id=customer.id,
        source_id=31,
        inline=InlineSource("email", parts),
        options={"context": {"store": "Tverskaya"}},
    )
    [original] = delivery_service.plan(session, [request])
    session.commit()
    copies = watcher_service.copies_for(session, [group.id], original)
    session.commit()
    assert sorted(copy.recipient or "" for copy in copies) == ["boss@shop.example", "team@shop.example"]
    assert all(c.source_kind == "watcher" and c.customer_id is None and c.category_id is None for c in copies)
    assert all(
        c.options["copy_of"] == original.id and c.options["context"] == {"store": "Tverskaya"} for c in copies
    )
    again = watcher_service.copies_for(session, [group.id], original)
    assert sorted(c.id for c in again) == sorted(c.id for c in copies)  # asked twice, copied once

    while Dispatcher().run_batch():
        pass
    session.expire_all()
    for copy in copies:
        sent = session.get(Message, copy.id)
        assert sent is not None and sent.status == "delivered" and sent.is_sandbox
        content = session.get(MessageContent, copy.id)
        assert content is not None and content.content is not None
        assert content.content["subject"] == "Autumn sale"


def test_a_channel_without_contacts_in_the_groups_gets_no_copies(session: Session) -> None:
    group = _group(session)
    customer = make_customer(session)
    request = PlanRequest(
        source_kind=Source.MAILING,
        channel="push",
        customer_id=customer.id,
        source_id=5,
        inline=InlineSource("push", {"title": "Sale", "body": "Now", "image_url": None, "link": None}),
    )
    [original] = delivery_service.plan(session, [request])
    assert watcher_service.copies_for(session, [group.id], original) == []


def test_the_pages_create_edit_and_delete_a_group(admin_client: UIClient, session: Session) -> None:
    response = admin_client.submit(
        "/settings/watchers", {"name": "Shop managers", "emails": "x@", "phones": ""}
    )
    assert response.status_code == 422
    assert 'data-error-for="emails"' in response.text
    assert session.scalars(select(WatcherGroup)).all() == []
    response = admin_client.submit(
        "/settings/watchers", {"name": "Shop managers", "emails": "m@shop.example"}
    )
    assert response.status_code == 303
    group_id = session.scalars(select(WatcherGroup.id)).one()
    assert "Shop managers" in admin_client.get("/settings/watchers").text
    form = {"name": "Shop managers", "emails": "m@shop.example", "push_ids": "fcm-token-1"}
    assert admin_client.submit(f"/settings/watchers/{group_id}", form).status_code == 303
    session.expire_all()
    assert session.get(WatcherGroup, group_id).push_ids == ["fcm-token-1"]  # type: ignore[union-attr]
    duplicate = admin_client.submit(
        "/settings/watchers", {"name": "shop managers", "emails": "a@shop.example"}
    )
    assert duplicate.status_code == 409
    assert admin_client.submit(f"/settings/watchers/{group_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(WatcherGroup, group_id) is None
