"""The segment builder's campaign metrics — received, opened, clicked a campaign's message; entered a
campaign; is in one now — on campaigns run through the engine, each condition's customers checked against
a plain-Python reading of the same rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.campaigns import engine
from smartcomm.events.schemas import EventIn
from smartcomm.events.service import event_service
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, Customer, Journey, Message
from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.service import segment_service
from tests.campaigns.helpers import ACTOR, active_campaign, buy, edge, graph, node
from tests.campaigns.report_helpers import hits_written_inline, message_of, person_hits
from tests.delivery.helpers import email_template, make_customer
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("hits_written_inline")
__all__ = ["hits_written_inline"]
H = timedelta(hours=1)
LAST_WEEK = {"kind": "last", "n": 7, "unit": "days"}


@dataclass
class Run:
    welcome: Campaign  # a receipt → an e-mail at once
    club: Campaign  # joining the club (an event) → a wait of three days → an e-mail
    people: dict[str, Customer]


@pytest.fixture
def run(session: Session) -> Run:
    """Anna bought twelve days ago and opened and clicked her welcome e-mail; Boris bought today and
    opened his; Vera bought today and did nothing; Anna and Gleb joined the club today (they wait for its
    e-mail); Dina did nothing at all."""
    e_mail = node("e", "action.send_email", template_version_id=email_template(session).id)
    welcome = active_campaign(
        session, graph([node("t", "trigger.cheque_issued"), e_mail], [edge("t", "e")]), name="Welcome"
    )
    joined, three_days = (
        node("t", "trigger.event_occurred", name="club_joined"),
        node("w", "action.wait", amount=3),
    )
    club = active_campaign(
        session, graph([joined, three_days, e_mail], [edge("t", "w"), edge("w", "e")]), name="Club"
    )
    people = {
        name: make_customer(session, first_name=name.title())
        for name in ("anna", "boris", "vera", "gleb", "dina")
    }
    session.commit()
    twelve_days_ago = utcnow() - timedelta(days=12)
    with time_machine.travel(twelve_days_ago, tick=False):
        buy(session, people["anna"], when=twelve_days_ago - H)
    person_hits(session, message_of(session, welcome, people["anna"]), "opened", twelve_days_ago + H)
    person_hits(session, message_of(session, welcome, people["anna"]), "clicked", twelve_days_ago + 2 * H)
    for name in ("boris", "vera"):
        buy(session, people[name], when=utcnow() - H)
    person_hits(session, message_of(session, welcome, people["boris"]), "opened", utcnow())
    for name in ("anna", "gleb"):
        event = EventIn.model_validate(
            {"name": "club_joined", "customer_external_id": people[name].external_id}
        )
        event_service.record(session, ACTOR, [event])
        session.commit()
    return Run(welcome, club, people)


def matching(session: Session, metric: str, operator: str = "is_true", **params: Any) -> set[int]:
    condition = {"metric": metric, "operator": operator, "params": params}
    rules = SegmentRules.model_validate({"root": {"children": [condition]}})
    return set(session.scalars(compile_rules(rules, segment_service.context(session))))


def in_python(session: Session, run: Run, wanted: Callable[[Any], bool], rows: Any) -> set[int]:
    everyone = {customer.id for customer in run.people.values()}
    return {row.customer_id for row in session.scalars(rows) if wanted(row)} & everyone


@pytest.mark.parametrize("which", ["welcome", "club", "any"])
@pytest.mark.parametrize(
    ("metric", "wanted"),
    [
        ("campaigns.received", lambda m: m.status in ("sent", "delivered", "opened", "clicked")),
        ("campaigns.opened", lambda m: m.opened_at is not None and m.opens > 0),
        ("campaigns.clicked", lambda m: m.clicked_at is not None and m.clicks > 0),
    ],
)
def test_the_message_metrics_select_the_customers_the_ledger_names(
    session: Session, run: Run, which: str, metric: str, wanted: Callable[[Any], bool]
) -> None:
    chosen = {"welcome": run.welcome.id, "club": run.club.id, "any": None}[which]
    rows = select(Message).where(Message.source_kind == "campaign")
    if chosen is not None:
        rows = rows.where(Message.source_id == chosen)
    params = {"campaign": chosen} if chosen is not None else {}

    expected = in_python(session, run, wanted, rows)

    assert matching(session, metric, **params) == expected
    everyone = {customer.id for customer in run.people.values()}
    assert matching(session, metric, "is_false", **params) & everyone == everyone - expected


def test_a_period_counts_the_messages_sent_opened_or_clicked_in_it(session: Session, run: Run) -> None:
    anna, boris = run.people["anna"].id, run.people["boris"].id

    assert matching(session, "campaigns.received", period=LAST_WEEK) >= {boris}
    assert anna not in matching(session, "campaigns.received", period=LAST_WEEK)  # twelve days ago
    assert matching(session, "campaigns.opened", period=LAST_WEEK) & {anna, boris} == {boris}
    assert matching(session, "campaigns.clicked", period={"kind": "last", "n": 30, "unit": "days"}) == {anna}
    assert matching(session, "campaigns.clicked", period=LAST_WEEK) == set()


def test_entering_and_being_in_a_campaign_read_the_journeys(session: Session, run: Run) -> None:
    p = {name: customer.id for name, customer in run.people.items()}
    journeys = select(Journey)

    assert matching(session, "campaigns.entered", campaign=run.club.id) == {p["anna"], p["gleb"]}
    assert matching(session, "campaigns.entered", campaign=run.welcome.id, period=LAST_WEEK) == {
        p["boris"],
        p["vera"],
    }
    assert matching(session, "campaigns.entered") == in_python(session, run, lambda j: True, journeys)
    assert matching(session, "campaigns.in_progress", campaign=run.club.id) == {p["anna"], p["gleb"]}
    assert matching(session, "campaigns.in_progress", campaign=run.welcome.id) == set()
    assert matching(session, "campaigns.in_progress", "is_false") & set(p.values()) == {
        p["boris"],
        p["vera"],
        p["dina"],
    }
    with time_machine.travel(utcnow() + timedelta(days=4), tick=False):
        engine.advance()
        assert matching(session, "campaigns.in_progress") == set()
        assert matching(session, "campaigns.received", campaign=run.club.id) == {p["anna"], p["gleb"]}


def test_a_campaign_named_by_anything_but_an_id_is_refused_naming_the_parameter(session: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        matching(session, "campaigns.entered", campaign="the welcome one")

    assert "campaign" in refused.value.errors[0].message


def test_the_builder_finds_campaigns_by_name_and_names_a_chosen_one(
    session: Session, run: Run, client: TestClient
) -> None:
    user, password = make_user(session, role="marketer")
    session.commit()
    client.sign_in(user.email, password)

    found = client.get("/segments/lookup/campaign", params={"q": "clu"})

    assert found.status_code == 200, found.text
    assert [(option["value"], option["label"]) for option in found.json()] == [(str(run.club.id), "Club")]
    condition = {"metric": "campaigns.entered", "operator": "is_true", "params": {"campaign": run.club.id}}
    rules = SegmentRules.model_validate({"root": {"children": [condition]}})
    catalogue = segment_service.catalogue(session)
    labels = segment_service.labels(session, [c for _, c in rules.conditions()], catalogue)
    assert labels == {f"campaign:{run.club.id}": "Club"}
