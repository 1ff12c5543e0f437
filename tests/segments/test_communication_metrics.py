"""Communication metrics of the segment builder: mailings received, opened, clicked, control groups, and
how many messages a customer was handed lately — read from the send ledger.

A hand-made ledger pins every operator to the customers it must select; a random one is checked against
the plain-Python reading of docs/segments.md (tests/segments/oracle.py) on both databases.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.models import AuditEntry, Mailing, Segment
from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.api.conftest import ApiClient, api_client
from tests.delivery.helpers import make_customer
from tests.mailings.helpers import staff_api
from tests.segments.communications_data import draw_control, make_mailing, make_message, write_ledger
from tests.segments.oracle import Oracle
from tests.segments.test_query_plans import plan_lines

ACTOR = Actor.system("tests")
# 31 March 2027, 12:00 in Moscow.
NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
LAST_WEEK = {"kind": "last", "n": 7, "unit": "days"}


def days_ago(days: int, hour: int = 6) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=hour)


@dataclass
class Ledger:
    ids: dict[str, int]  # external id → customer id
    spring: int  # the mailing everyone's conditions name
    autumn: int

    def name(self, customer_id: int) -> str:
        return {v: k for k, v in self.ids.items()}[customer_id]


@pytest.fixture
def ledger(session: Session) -> Ledger:
    """Anna got, opened and clicked the spring mailing and a campaign push; Boris got it too, but only
    machines opened and clicked it, and a transactional e-mail is being handed over to him today; Vera's
    spring e-mail bounced and an autumn SMS reached her 40 days ago; Gleb was in the spring control
    group and got only service messages; Dina never got anything."""
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "Europe/Moscow"})
    ids = {
        name: make_customer(session, external_id=name).id
        for name in ("anna", "boris", "vera", "gleb", "dina")
    }
    spring, autumn = make_mailing(session, "Spring sale"), make_mailing(session, "Autumn", "sms_viber")
    anna, boris, vera, gleb = ids["anna"], ids["boris"], ids["vera"], ids["gleb"]
    sent = days_ago(2)
    make_message(
        session,
        anna,
        source_id=spring.id,
        status="clicked",
        handed_over_at=sent,
        opened_at=sent,
        opens=2,
        clicked_at=sent,
        clicks=1,
    )
    make_message(
        session,
        anna,
        source_kind="campaign",
        source_id=4,
        channel="push",
        status="clicked",
        handed_over_at=days_ago(10),
    )
    make_message(
        session,
        boris,
        source_id=spring.id,
        status="delivered",
        handed_over_at=days_ago(3),
        opened_at=days_ago(3),
        machine_opens=3,
        clicked_at=days_ago(3),
        machine_clicks=2,
    )
    make_message(session, boris, source_kind="transactional", status="queued", handed_over_at=NOW)
    make_message(session, vera, source_id=spring.id, status="failed", handed_over_at=days_ago(1))
    make_message(
        session, vera, source_id=autumn.id, channel="sms", status="sent", handed_over_at=days_ago(40)
    )
    for source in ("test", "watcher", "confirmation"):
        make_message(session, gleb, source_kind=source, status="delivered", handed_over_at=days_ago(1))
    make_message(session, gleb, source_id=spring.id, status="suppressed")  # the gate held it back
    draw_control(session, spring.id, [gleb])
    session.flush()
    return Ledger(ids, spring.id, autumn.id)


def where(
    metric: str, operator: str, value: Any = None, negate: bool = False, **params: Any
) -> dict[str, Any]:
    condition = {"metric": metric, "operator": operator, "params": params, "negate": negate}
    return condition if value is None else {**condition, "value": value}


def selected(session: Session, ledger: Ledger, *conditions: dict[str, Any]) -> set[str]:
    """Names of the customers a root group of the conditions selects; the oracle must agree."""
    rules = SegmentRules.model_validate({"root": {"children": list(conditions)}})
    by_sql = set(session.scalars(compile_rules(rules, segment_service.context(session, NOW))))
    by_oracle = Oracle.load(session, NOW, "Europe/Moscow").matching(rules)
    assert by_sql == by_oracle
    return {ledger.name(customer_id) for customer_id in by_sql}


EVERYONE = {"anna", "boris", "vera", "gleb", "dina"}


# ---------------------------------------------------------------- mailings


@pytest.mark.parametrize(
    ("metric", "reached"),
    [
        ("communications.received", {"anna", "boris"}),  # a bounce or a suppression is not receiving
        ("communications.opened", {"anna"}),  # Boris's opens were all machines
        ("communications.clicked", {"anna"}),
        ("communications.control_group", {"gleb"}),
    ],
)
def test_mailing_metrics_answer_yes_and_no(
    session: Session, ledger: Ledger, metric: str, reached: set[str]
) -> None:
    assert selected(session, ledger, where(metric, "is_true", mailing=ledger.spring)) == reached
    assert selected(session, ledger, where(metric, "is_false", mailing=ledger.spring)) == EVERYONE - reached
    assert selected(session, ledger, where(metric, "is_true", negate=True, mailing=ledger.spring)) == (
        EVERYONE - reached
    )


def test_another_mailing_is_another_question(session: Session, ledger: Ledger) -> None:
    assert selected(session, ledger, where("communications.received", "is_true", mailing=ledger.autumn)) == {
        "vera"
    }
    assert (
        selected(session, ledger, where("communications.control_group", "is_true", mailing=ledger.autumn))
        == set()
    )
    # The id as the builder sends it (text) means the same mailing.
    received = where("communications.received", "is_true", mailing=str(ledger.spring))
    assert selected(session, ledger, received) == {"anna", "boris"}


# ---------------------------------------------------------------- counts and days


COUNT = "communications.count"
DAYS = "communications.days_since_last"


@pytest.mark.parametrize(
    ("operator", "value", "params", "expected"),
    [
        # All time, any channel: Anna 2, Boris 2 (the queued one is with the provider), Vera 1, others 0.
        ("eq", 2, {}, {"anna", "boris"}),
        ("ne", 2, {}, {"vera", "gleb", "dina"}),
        ("gt", 1, {}, {"anna", "boris"}),
        ("gte", 1, {}, {"anna", "boris", "vera"}),
        ("lt", 1, {}, {"gleb", "dina"}),
        ("lte", 1, {}, {"vera", "gleb", "dina"}),
        ("between", [1, 1], {}, {"vera"}),
        ("empty", None, {}, set()),  # a count is never unknown: 0 without messages
        ("not_empty", None, {}, EVERYONE),
        # By channel: e-mails only, SMS only, "any" spelled out.
        ("eq", 1, {"channel": "email"}, {"anna"}),
        ("eq", 2, {"channel": "email"}, {"boris"}),
        ("gte", 1, {"channel": "sms"}, {"vera"}),
        ("gte", 1, {"channel": "push"}, {"anna"}),
        ("gte", 1, {"channel": "viber"}, set()),
        ("eq", 2, {"channel": "any"}, {"anna", "boris"}),
        # The last 7 days: Anna's push was 10 days ago, Vera's SMS 40.
        ("eq", 1, {"period": LAST_WEEK}, {"anna"}),
        ("eq", 2, {"period": LAST_WEEK}, {"boris"}),
        ("lt", 1, {"period": LAST_WEEK}, {"vera", "gleb", "dina"}),
        (
            "gte",
            1,
            {"period": {"kind": "between", "start": "2027-02-01", "end": "2027-03-25"}},
            {"anna", "vera"},
        ),
    ],
)
def test_the_number_of_communications(
    session: Session, ledger: Ledger, operator: str, value: Any, params: dict[str, Any], expected: set[str]
) -> None:
    assert selected(session, ledger, where(COUNT, operator, value, **params)) == expected


@pytest.mark.parametrize(
    ("operator", "value", "params", "expected"),
    [
        # Anna 2 days, Boris 0 (today), Vera 40; Gleb (service messages only) and Dina never.
        ("eq", 2, {}, {"anna"}),
        ("ne", 2, {}, {"boris", "vera"}),
        ("gt", 2, {}, {"vera"}),
        ("gte", 2, {}, {"anna", "vera"}),
        ("lt", 2, {}, {"boris"}),
        ("lte", 2, {}, {"anna", "boris"}),
        ("between", [1, 40], {}, {"anna", "vera"}),
        ("empty", None, {}, {"gleb", "dina"}),
        ("not_empty", None, {}, {"anna", "boris", "vera"}),
        ("eq", 10, {"channel": "push"}, {"anna"}),
        ("empty", None, {"channel": "sms"}, EVERYONE - {"vera"}),
    ],
)
def test_days_since_the_last_communication(
    session: Session, ledger: Ledger, operator: str, value: Any, params: dict[str, Any], expected: set[str]
) -> None:
    assert selected(session, ledger, where(DAYS, operator, value, **params)) == expected


# ---------------------------------------------------------------- random ledgers


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_ledger_agrees_with_a_plain_reading_of_its_rows(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    settings_service.update(session, ACTOR, GeneralSettings, {"time_zone": "Asia/Vladivostok"})
    customers = [make_customer(session).id for _ in range(40)]
    mailings = write_ledger(
        session, rng, customers, lambda: NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 90))
    )
    oracle = Oracle.load(session, NOW, "Asia/Vladivostok")
    context = segment_service.context(session, NOW)
    checked = 0
    for condition in _conditions(mailings):
        rules = SegmentRules.model_validate({"root": {"children": [condition]}})
        assert set(session.scalars(compile_rules(rules, context))) == oracle.matching(rules), condition
        checked += 1
    assert checked > 100


def _conditions(mailings: list[int]) -> Iterator[dict[str, Any]]:
    for metric in ("received", "opened", "clicked", "control_group"):
        for mailing in mailings:
            yield where(f"communications.{metric}", "is_true", mailing=mailing)
    periods = [None, LAST_WEEK, {"kind": "last", "n": 1, "unit": "months"}, {"kind": "last", "n": 1}]
    for channel in (None, "any", "email", "sms", "viber", "push"):
        for period in periods:
            params = {k: v for k, v in (("channel", channel), ("period", period)) if v is not None}
            for operator, value in (("eq", 0), ("eq", 1), ("gte", 2), ("lt", 2), ("between", [1, 3])):
                yield where(COUNT, operator, value, **params)
        days = {"channel": channel} if channel else {}
        for operator, value in (("lte", 7), ("gt", 30), ("eq", 0), ("empty", None), ("between", [3, 20])):
            yield where(DAYS, operator, value, **days)


# ---------------------------------------------------------------- a segment kept current


def test_a_per_customer_refresh_reads_the_new_messages(session: Session, ledger: Ledger) -> None:
    rules = {"root": {"children": [where(COUNT, "gte", 1, channel="viber", period=LAST_WEEK)]}}
    with time_machine.travel(NOW, tick=False):
        segment = segment_service.create(session, ACTOR, SegmentIn(name="Viber lately", rules=rules))
        segment_service.build(session, segment.id, "manual")
        dina = ledger.ids["dina"]
        make_message(
            session, dina, source_id=ledger.autumn, channel="viber", status="delivered", handed_over_at=NOW
        )
        session.flush()

        changes = segment_service.refresh_customers(session, [dina, ledger.ids["anna"]])

    assert (changes[segment.id].entered, changes[segment.id].exited) == (1, 0)


def test_conditions_read_messages_through_their_indexes(session: Session, ledger: Ledger) -> None:
    rules = SegmentRules.model_validate(
        {
            "root": {
                "op": "or",
                "children": [
                    where("communications.received", "is_true", mailing=ledger.spring),
                    where(COUNT, "gte", 2, channel="email", period=LAST_WEEK),
                ],
            }
        }
    )
    statement = compile_rules(rules, segment_service.context(session, NOW))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))

    lines = plan_lines(session, statement)

    about_messages = [line for line in lines if "messages" in line]
    assert about_messages, lines
    assert all("ix_messages_" in line for line in about_messages if "SCAN" in line or "Scan" in line), lines
    assert not [line for line in lines if line.strip() == "SCAN messages" or "Seq Scan on messages" in line]
    assert {ledger.name(c) for c in session.scalars(statement)} == {"anna", "boris"}


# ---------------------------------------------------------------- over the API


@pytest.fixture
def api(client: TestClient, session: Session) -> Iterator[ApiClient]:
    yield api_client(client, session)


def _segments(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Segment)) or 0)


@pytest.mark.parametrize(
    ("condition", "field", "words"),
    [
        (where("communications.received", "is_true"), "root.children[0]", "'mailing'"),
        (where("communications.opened", "is_true", mailing="spring"), "root.children[0]", "'mailing'"),
        (
            where("communications.clicked", "is_true", mailing={"name": "Nope"}),
            "root.children[0].params.mailing",
            "Nope",
        ),
        (where("communications.control_group", "gte", 1, mailing=1), "root.children[0]", "'gte'"),
        (where(COUNT, "gte", 1, channel="fax"), "root.children[0]", "unknown channel 'fax'"),
        (where(COUNT, "gte", 1, period={"kind": "last", "n": 0}), "root.children[0]", "period"),
        (where(COUNT, "gte", "many"), "root.children[0]", "'many'"),
        (where(DAYS, "lte", 7, channel=["email"]), "root.children[0]", "unknown channel"),
        (where(DAYS, "in_last", 7), "root.children[0]", "'in_last'"),
    ],
)
def test_a_bad_condition_is_refused_naming_it_and_nothing_is_saved(
    api: ApiClient, session: Session, condition: dict[str, Any], field: str, words: str
) -> None:
    rules = {"root": {"children": [condition]}}

    preview = api.post("/api/v1/segments/preview", json=rules)
    created = api.post("/api/v1/segments", json={"name": "Broken", "rules": rules})

    for response in (preview, created):
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["field"] == field and words in error["title"], error
    assert _segments(session) == 0


def test_a_mailing_named_by_key_is_saved_with_its_id(
    api: ApiClient, session: Session, ledger: Ledger
) -> None:
    session.commit()
    rules = {
        "root": {"children": [where("communications.received", "is_true", mailing={"name": "spring SALE"})]}
    }

    created = api.post("/api/v1/segments", json={"name": "Got spring", "rules": rules})

    assert created.status_code == 201, created.text
    stored = created.json()["rules"]["root"]["children"][0]["params"]["mailing"]
    assert stored == {"name": "spring SALE", "id": ledger.spring}
    assert api.get(f"/api/v1/segments/{created.json()['id']}").json()["member_count"] == 2


def test_a_mailing_a_segment_names_cannot_be_deleted(client: TestClient, session: Session) -> None:
    senior = staff_api(client, session, Role.SENIOR_MARKETER)
    named = make_mailing(session, "Draft news", status="draft").id
    free = make_mailing(session, "Other", status="draft").id
    rules = {"root": {"children": [where("communications.control_group", "is_false", mailing=named)]}}
    segment_service.create(session, ACTOR, SegmentIn(name="Not held back", rules=rules))
    session.commit()

    refused = senior.request("DELETE", f"/api/v1/mailings/{named}")
    deleted = senior.request("DELETE", f"/api/v1/mailings/{free}")

    assert refused.status_code == 409, refused.text
    (error,) = refused.json()["errors"]
    assert (error["field"], error["code"]) == ("mailing", "in_use") and "Not held back" in error["title"]
    assert deleted.status_code == 204
    session.expire_all()
    assert session.get(Mailing, named) is not None
    audited = select(AuditEntry.object_id).where(
        AuditEntry.object_type == "mailing", AuditEntry.action == "delete"
    )
    assert list(session.scalars(audited)) == [str(free)]


def test_the_builder_finds_mailings_by_name_newest_first(
    client: Any, session: Session, ledger: Ledger
) -> None:
    from tests.factories import make_user

    user, password = make_user(session, role="marketer")
    make_mailing(session, "Spring sale again", "push")
    session.commit()
    client.sign_in(user.email, password)

    found = client.get("/segments/lookup/mailing", params={"q": "SPRING"}).json()

    assert [(o["label"], o["hint"]) for o in found] == [
        ("Spring sale again", "Push"),
        ("Spring sale", "E-mail"),
    ]
    autumn = client.get("/segments/lookup/mailing", params={"q": "autumn"}).json()
    assert [o["hint"] for o in autumn] == ["SMS / Viber"]


def test_the_catalogue_offers_the_communication_metrics(api: ApiClient) -> None:
    catalogue = {m["key"]: m for m in api.get("/api/v1/segments/metrics").json()}

    count = catalogue[COUNT]
    assert (count["group"], count["value_type"]) == ("Communications", "integer")
    assert [(p["name"], p["kind"], p["required"]) for p in count["params"]] == [
        ("channel", "channel", False),
        ("period", "period", False),
    ]
    received = catalogue["communications.received"]
    assert [(p["name"], p["kind"], p["required"]) for p in received["params"]] == [
        ("mailing", "mailing", True)
    ]
    assert [o["key"] for o in received["operators"]] == ["is_true", "is_false"]
    assert catalogue[DAYS]["unit"] == "days"
