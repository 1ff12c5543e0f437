"""A poll's report and its CSV export on a crafted set of responses: exact counts, the source filter,
and the API that reads them (read-only, API_READ)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Role
from smartcomm.models import Customer, Poll
from smartcomm.polls import answering, links
from smartcomm.polls.reports import answers_csv, poll_report
from smartcomm.polls.service import poll_service
from tests.api.conftest import api_client
from tests.mailings.helpers import staff_api
from tests.polls.helpers import make_customer, make_message, make_poll


@dataclass
class Crafted:
    poll: Poll
    customers: list[Customer]


@pytest.fixture
def crafted(session: Session) -> Crafted:
    """Mailing 5 invites c1 (twice), c2, c3 and c5; mailing 6 invites c4. c1–c3 answer by mailing 5's
    links, c4 by mailing 6's; c5 does not answer."""
    poll = make_poll(session)
    people = [make_customer(session) for _ in range(5)]
    messages = {}
    for index, mailing in ((0, 5), (0, 5), (1, 5), (2, 5), (4, 5), (3, 6)):
        message = make_message(session, people[index], source_kind="mailing", source_id=mailing)
        links.record_invitation(session, poll, people[index].id, message.id)
        messages[index] = message
    answers = [
        {"q1": "shop", "q2": ["food", "toys"], "q4": {"price": "ok", "staff": "good"}},
        {"q1": "other", "q3": "The market", "q2": ["food"]},
        {"q1": "online", "q4": {"price": "bad"}},
        {"q1": "other", "q3": '=HYPERLINK("http://x")', "q2": ["books"]},
    ]
    for index, given in enumerate(answers):
        answering.answer(session, poll, people[index].id, messages[index].id, given)
    session.commit()
    return Crafted(poll, people)


def test_the_report_counts_exactly(session: Session, crafted: Crafted) -> None:
    report = poll_report(session, crafted.poll.id)
    assert (report.invited, report.respondents, report.completion_rate) == (5, 4, 0.8)
    assert sum(count for _, count in report.by_day) == 4
    by_id = {item.question.id: item for item in report.questions}
    assert [item.question.id for item in report.questions] == ["intro", "q1", "q2", "q3", "q4"]
    assert [(o.id, n) for o, n in by_id["q1"].options] == [("shop", 1), ("online", 1), ("other", 2)]
    assert by_id["q1"].answered == 4
    assert [(o.id, n) for o, n in by_id["q2"].options] == [("food", 2), ("toys", 1), ("books", 1)]
    assert by_id["q2"].answered == 3
    assert [(row.id, counts) for row, counts in by_id["q4"].matrix] == [
        ("price", [1, 1, 0]),
        ("staff", [0, 0, 1]),
    ]
    assert by_id["q4"].answered == 2
    assert by_id["q3"].open_total == 2
    assert [(a.customer_id, a.text) for a in by_id["q3"].open_answers] == [
        (crafted.customers[3].id, '=HYPERLINK("http://x")'),
        (crafted.customers[1].id, "The market"),
    ]
    assert by_id["q3"].open_answers[1].customer_name == crafted.customers[1].full_name


def test_the_report_of_one_source(session: Session, crafted: Crafted) -> None:
    report = poll_report(session, crafted.poll.id, ("mailing", 5))
    assert (report.invited, report.respondents, report.completion_rate) == (4, 3, 0.75)
    by_id = {item.question.id: item for item in report.questions}
    assert [n for _, n in by_id["q1"].options] == [1, 1, 1]
    assert by_id["q3"].open_total == 1
    assert poll_service.sources(session, crafted.poll.id) == [
        ("mailing", 6, "Mailing 6"),
        ("mailing", 5, "Mailing 5"),
    ]
    nobody = poll_report(session, crafted.poll.id, ("mailing", 99))
    assert (nobody.invited, nobody.respondents, nobody.completion_rate) == (0, 0, None)


def test_the_csv_rows_name_the_options(session: Session, crafted: Crafted) -> None:
    rows = list(answers_csv(session, crafted.poll.id))
    assert rows[0] == [
        "Customer ID",
        "External ID",
        "Completed at",
        "Source",
        "Where do you shop?",
        "What do you buy?",
        "Where else?",
        "Rate us",
    ]
    first = crafted.customers[0]
    assert rows[1][:2] == [str(first.id), first.external_id] and rows[1][3] == "Mailing 5"
    assert rows[1][4:] == ["In a shop", "Food; Toys", "", "Prices: OK; Staff: Good"]
    assert [row[6] for row in rows[1:]] == ["", "The market", "", '=HYPERLINK("http://x")']
    assert len(list(answers_csv(session, crafted.poll.id, ("mailing", 6)))) == 2


def test_the_api_reads_polls_and_answers(session: Session, client: TestClient, crafted: Crafted) -> None:
    api = api_client(client, session)
    listed = api.get("/api/v1/polls", params={"q": crafted.poll.code})
    assert listed.status_code == 200
    assert [(p["code"], p["invited"], p["respondents"]) for p in listed.json()["items"]] == [
        (crafted.poll.code, 5, 4)
    ]
    one = api.get(f"/api/v1/polls/{crafted.poll.id}").json()
    assert [q["id"] for q in one["questions"]] == ["intro", "q1", "q2", "q3", "q4"]
    page = api.get(f"/api/v1/polls/{crafted.poll.id}/answers", params={"size": 3}).json()
    assert (page["total"], len(page["items"]), page["pages"]) == (4, 3, 2)
    assert page["items"][0]["customer_id"] == crafted.customers[3].id
    assert page["items"][0]["source_kind"] == "mailing" and page["items"][0]["source_id"] == 6
    filtered = api.get(
        f"/api/v1/polls/{crafted.poll.id}/answers", params={"source_kind": "mailing", "source_id": 6}
    ).json()
    assert filtered["total"] == 1
    mine = api.get(f"/api/v1/customers/{crafted.customers[0].external_id}/poll-answers").json()
    assert [(r["poll_code"], r["answers"]["q1"]) for r in mine] == [(crafted.poll.code, "shop")]
    assert api.get("/api/v1/customers/NOBODY/poll-answers").status_code == 404
    assert api.get("/api/v1/polls/999999").status_code == 404


def test_the_csv_export_is_safe_for_spreadsheets(
    session: Session, client: TestClient, crafted: Crafted
) -> None:
    api = api_client(client, session)
    response = api.get(f"/api/v1/polls/{crafted.poll.id}/answers.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 5
    assert rows[4][6] == '\'=HYPERLINK("http://x")'


@pytest.mark.parametrize("role", [Role.MARKETER, Role.ANALYST])
def test_staff_tokens_and_strangers_cannot_read_the_poll_api(
    session: Session, client: TestClient, crafted: Crafted, role: Role
) -> None:
    staff = staff_api(client, session, role)
    session.commit()
    for url in (
        "/api/v1/polls",
        f"/api/v1/polls/{crafted.poll.id}",
        f"/api/v1/polls/{crafted.poll.id}/answers",
        f"/api/v1/polls/{crafted.poll.id}/answers.csv",
        f"/api/v1/customers/{crafted.customers[0].external_id}/poll-answers",
    ):
        assert staff.get(url).status_code == 403, url
        assert client.get(url).status_code == 401, url
