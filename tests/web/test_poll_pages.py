"""Polls in the back office without a browser: who may see and change what, the editor's refusals (each
placed by its field path, never a server error, nothing saved), the list's search and fragments, the row
actions and the report with its CSV file."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, Poll
from smartcomm.polls import answering, links
from tests.conftest import UIClient
from tests.factories import make_user
from tests.polls.helpers import counts, make_customer, make_message, make_poll

DATA_BLOCK = re.compile(r'<script type="application/json" id="poll-editor-data">(.*?)</script>', re.S)


def sign_in_as(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    return client


def three_questions() -> list[dict[str, Any]]:
    return [
        {
            "id": "q1",
            "type": "single",
            "title": "Did you like the store?",
            "required": True,
            "options": [{"id": "a1", "label": "Yes"}, {"id": "a2", "label": "No"}],
        },
        {
            "id": "q2",
            "type": "open",
            "title": "What was wrong?",
            "conditions": [{"question": "q1", "options": ["a2"]}],
        },
        {"id": "q3", "type": "open", "title": "Anything else?"},
    ]


def post_poll(client: UIClient, url: str, questions: Any, name: str = "Store visit", **fields: str):
    text = questions if isinstance(questions, str) else json.dumps(questions)
    return client.submit(url, {"name": name, "description": "", "thank_you": "", **fields, "questions": text})


def editor_data(page: str) -> dict[str, Any]:
    found = DATA_BLOCK.search(page)
    assert found, "no editor data on the page"
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return data


def poll_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Poll)) or 0)


@pytest.fixture
def answered(session: Session) -> Poll:
    """The helpers' poll (five questions) sent by mailing 7 to three customers; two of them answered."""
    poll = make_poll(session, "Shopping habits")
    people = [make_customer(session, first_name="Olga") for _ in range(3)]
    messages = [make_message(session, person, source_kind="mailing", source_id=7) for person in people]
    for person, message in zip(people, messages, strict=True):
        links.record_invitation(session, poll, person.id, message.id)
    answering.answer(session, poll, people[0].id, messages[0].id, {"q1": "shop", "q2": ["food", "toys"]})
    answering.answer(session, poll, people[1].id, messages[1].id, {"q1": "other", "q3": "At the market"})
    session.commit()
    return poll


# --- permissions -------------------------------------------------------------------------------------------


def test_an_analyst_reads_the_list_without_actions(
    client: UIClient, session: Session, answered: Poll
) -> None:
    sign_in_as(client, session, "analyst")
    page = client.get("/polls")
    assert page.status_code == 200
    assert answered.code in page.text and "Shopping habits" in page.text
    assert 'id="new-poll"' not in page.text
    assert 'data-action="edit"' not in page.text and 'data-action="copy"' not in page.text


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/polls/new"),
        ("post", "/polls/new"),
        ("post", "/polls/{id}/edit"),
        ("post", "/polls/{id}/copy"),
        ("post", "/polls/{id}/close"),
        ("post", "/polls/{id}/delete"),
    ],
)
def test_an_analyst_changes_nothing(
    client: UIClient, session: Session, answered: Poll, method: str, url: str
) -> None:
    sign_in_as(client, session, "analyst")
    before = counts(session)
    target = url.format(id=answered.id)
    response = client.get(target) if method == "get" else post_poll(client, target, three_questions())
    assert response.status_code == 403
    assert counts(session) == before
    session.refresh(answered)
    assert answered.closed is False and answered.name == "Shopping habits"


def test_an_analyst_opening_the_editor_sees_the_poll_read_only(
    client: UIClient, session: Session, answered: Poll
) -> None:
    sign_in_as(client, session, "analyst")
    page = client.get(f"/polls/{answered.id}/edit")
    assert page.status_code == 200
    assert 'id="poll-readonly"' in page.text and 'id="poll-form"' not in page.text
    assert "Where else?" in page.text and "Shown only if" in page.text
    assert "{{ client.poll(&#39;" + answered.code + "&#39;) }}" in page.text
    assert editor_data(page.text)["readonly"] is True


def test_a_designer_cannot_open_polls(client: UIClient, session: Session) -> None:
    sign_in_as(client, session, "designer")
    assert client.get("/polls").status_code == 403


# --- the editor -------------------------------------------------------------------------------------------


def test_a_marketer_saves_a_poll_and_sees_its_code(client: UIClient, session: Session) -> None:
    sign_in_as(client, session, "marketer")
    assert client.get("/polls/new").status_code == 200

    response = post_poll(client, "/polls/new", three_questions(), thank_you="Thanks a lot!")

    assert response.status_code == 303
    poll = session.scalars(select(Poll).where(Poll.name == "Store visit")).one()
    assert response.headers["location"] == f"/polls/{poll.id}/edit"
    assert poll.code == f"POLL-{poll.id}" and poll.thank_you == "Thanks a lot!"
    assert [q["id"] for q in poll.questions] == ["q1", "q2", "q3"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "poll")).one()
    assert (entry.action, entry.object_id) == ("create", str(poll.id))

    page = client.get(response.headers["location"])
    assert "The poll was saved." in page.text
    assert f"{{{{ client.poll(&#39;{poll.code}&#39;) }}}}" in page.text
    assert [q["id"] for q in editor_data(page.text)["questions"]] == ["q1", "q2", "q3"]


def test_a_condition_on_a_later_question_is_placed_under_its_question(
    client: UIClient, session: Session
) -> None:
    sign_in_as(client, session, "marketer")
    questions = three_questions()
    questions[0], questions[1] = questions[1], questions[0]  # the conditional one moved above q1

    response = post_poll(client, "/polls/new", questions)

    assert response.status_code == 422
    errors = editor_data(response.text)["errors"]
    assert errors == {
        "questions[0].conditions": "A condition may only name a question that comes before this one."
    }
    assert [q["id"] for q in editor_data(response.text)["questions"]] == ["q2", "q1", "q3"]
    assert poll_count(session) == 0


@pytest.mark.parametrize(
    ("questions", "path", "message"),
    [
        ([], "questions", "Add at least one question."),
        (
            [{"id": "q1", "type": "single", "title": "Pick", "options": [{"id": "a1", "label": "Only"}]}],
            "questions[0].options",
            "Add at least two options.",
        ),
        ([{"id": "q1", "type": "open", "title": ""}], "questions[0].title", "This field is required."),
        (
            [{"id": "q1", "type": "text", "title": "Hello", "required": True}],
            "questions[0].required",
            "A text block takes no answer and cannot be required.",
        ),
        (
            [
                {
                    "id": "q1",
                    "type": "multiple",
                    "title": "Pick",
                    "max_choices": 3,
                    "options": [{"id": "a1", "label": "A"}, {"id": "a2", "label": "B"}],
                }
            ],
            "questions[0].max_choices",
            "The number of choices cannot exceed the number of options.",
        ),
        (
            [
                {
                    "id": "q1",
                    "type": "single",
                    "title": "Pick",
                    "options": [{"id": "a1", "label": "A"}, {"id": "a2", "label": ""}],
                }
            ],
            "questions[0].options[1].label",
            "This field is required.",
        ),
        (
            [{"id": "q1", "type": "open", "title": "A"}, {"id": "q1", "type": "open", "title": "B"}],
            "questions",
            "Two questions have the same id.",
        ),
    ],
)
def test_each_problem_is_named_by_its_path(
    client: UIClient, session: Session, questions: list[Any], path: str, message: str
) -> None:
    sign_in_as(client, session, "marketer")
    response = post_poll(client, "/polls/new", questions)
    assert response.status_code == 422
    assert editor_data(response.text)["errors"].get(path) == message
    assert "The poll was not saved" in response.text
    assert poll_count(session) == 0


def test_a_missing_name_is_shown_next_to_the_field(client: UIClient, session: Session) -> None:
    sign_in_as(client, session, "marketer")
    response = post_poll(client, "/polls/new", three_questions(), name="")
    assert response.status_code == 422
    assert 'data-error-for="name"' in response.text
    assert poll_count(session) == 0


@pytest.mark.parametrize(
    "posted",
    [
        "not json",
        "{}",
        "null",
        "[1, 2, 3]",
        '[{"id": null, "type": 5, "options": "x", "rows": {}, "conditions": [1]}]',
        '[{"id": "q1", "type": "matrix", "title": "M", "options": [{"id": "a1"}], "rows": [[]]}]',
        '[{"id": "q1", "type": "single", "title": "x", "max_choices": true, "extra": 1}]',
        "[" * 5000,
    ],
)
def test_any_posted_json_is_refused_without_a_server_error(
    client: UIClient, session: Session, posted: str
) -> None:
    sign_in_as(client, session, "marketer")
    response = post_poll(client, "/polls/new", posted)
    assert response.status_code == 422
    assert editor_data(response.text)["errors"] or 'data-error-for="questions"' in response.text
    assert poll_count(session) == 0


def test_removing_an_answered_option_is_refused_in_the_edited_poll(
    client: UIClient, session: Session, answered: Poll
) -> None:
    sign_in_as(client, session, "marketer")
    stored = [dict(question) for question in answered.questions]
    q1 = stored[1]
    q1["options"] = [option for option in q1["options"] if option["id"] != "shop"]
    edited = [stored[1], stored[0], *stored[2:]]  # moved to the top as well

    response = post_poll(client, f"/polls/{answered.id}/edit", edited, name="Renamed")

    assert response.status_code == 422
    assert editor_data(response.text)["errors"] == {
        "questions[0].options": "The option “In a shop” was chosen in answers and cannot be removed."
    }
    session.refresh(answered)
    assert answered.name == "Shopping habits" and len(answered.questions[1]["options"]) == 3


def test_rewording_an_answered_poll_is_saved(client: UIClient, session: Session, answered: Poll) -> None:
    sign_in_as(client, session, "marketer")
    stored = [dict(question) for question in answered.questions]
    stored[1] = stored[1] | {"title": "Where do you usually shop?"}
    response = post_poll(client, f"/polls/{answered.id}/edit", stored, name="Shopping habits 2027")
    assert response.status_code == 303
    session.refresh(answered)
    assert answered.name == "Shopping habits 2027"
    assert answered.questions[1]["title"] == "Where do you usually shop?"


# --- the list and its actions -------------------------------------------------------------------------------


def test_the_list_shows_totals_and_finds_by_code(client: UIClient, session: Session, answered: Poll) -> None:
    other = make_poll(session, "Delivery feedback")
    sign_in_as(client, session, "marketer")
    page = client.get("/polls")
    assert re.search(r'data-total="polls">2<', page.text)
    assert re.search(r'data-total="invited">3<', page.text)
    assert re.search(r'data-total="respondents">2<', page.text)
    assert re.search(r'data-total="completion">66\.7', page.text)
    row = re.search(rf'<tr data-poll-id="{answered.id}".*?</tr>', page.text, re.S)
    assert row and 'data-count="respondents">2<' in row.group(0) and "66.7" in row.group(0)

    found = client.get(
        "/polls", params={"q": other.code.lower()}, headers={"HX-Request": "true", "HX-Target": "polls-table"}
    )
    assert found.status_code == 200
    assert "Delivery feedback" in found.text and "Shopping habits" not in found.text
    assert "<html" not in found.text  # only the table


def test_the_list_pages_by_the_chosen_size(client: UIClient, session: Session) -> None:
    for number in range(12):
        make_poll(session, f"Poll number {number:02d}")
    sign_in_as(client, session, "marketer")
    page = client.get("/polls", params={"size": 10, "page": 2})
    assert page.text.count("data-poll-id=") == 2
    assert "Poll number 00" in page.text and "Poll number 11" not in page.text
    assert client.get("/polls", params={"size": 7, "page": -3}).status_code == 200


def test_copy_close_reopen_and_delete(client: UIClient, session: Session) -> None:
    poll = make_poll(session, "Delivery feedback")
    sign_in_as(client, session, "marketer")

    copied = client.submit(f"/polls/{poll.id}/copy", {"back": "/polls"})
    copy = session.scalars(select(Poll).where(Poll.name == "Delivery feedback (copy)")).one()
    assert copied.headers["location"] == f"/polls/{copy.id}/edit"

    closed = client.submit(f"/polls/{poll.id}/close", {"back": "https://evil.example/"})
    assert closed.headers["location"] == "/polls"
    session.refresh(poll)
    assert poll.closed is True
    assert "The poll was closed." in client.get("/polls").text

    client.submit(f"/polls/{poll.id}/reopen", {"back": f"/polls/{poll.id}/edit"})
    session.refresh(poll)
    assert poll.closed is False

    copy_id = copy.id
    deleted = client.submit(f"/polls/{copy_id}/delete", headers={"HX-Request": "true"})
    assert (deleted.status_code, deleted.headers["HX-Redirect"]) == (204, "/polls")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Poll).where(Poll.id == copy_id)) == 0


def test_a_poll_with_answers_is_not_deleted(client: UIClient, session: Session, answered: Poll) -> None:
    sign_in_as(client, session, "marketer")
    list_page = client.get("/polls")
    row = re.search(rf'<tr data-poll-id="{answered.id}".*?</tr>', list_page.text, re.S)
    assert row and 'data-action="delete"' not in row.group(0)
    before = counts(session)

    response = client.submit(f"/polls/{answered.id}/delete")

    assert response.status_code == 303
    assert counts(session) == before
    assert "cannot be deleted" in client.get("/polls").text


def test_an_unknown_poll_is_not_found(client: UIClient, session: Session) -> None:
    sign_in_as(client, session, "marketer")
    assert client.get("/polls/999999/edit").status_code == 404
    assert client.get("/polls/999999/report").status_code == 404
    assert client.submit("/polls/999999/close").status_code == 404


# --- the report -------------------------------------------------------------------------------------------


def test_the_report_shows_the_counts(client: UIClient, session: Session, answered: Poll) -> None:
    sign_in_as(client, session, "analyst")
    page = client.get(f"/polls/{answered.id}/report")
    assert page.status_code == 200
    text = page.text
    assert re.search(r'data-total="invited">3<', text) and re.search(r'data-total="respondents">2<', text)
    assert re.search(r'data-total="completion">66\.7', text)
    q1 = re.search(r'data-question-id="q1".*?</div>\s*</div>\s*</div>', text, re.S)
    assert q1 is not None
    shop = re.search(
        r'data-option-id="shop".*?data-count="option">(\d+)<.*?data-percent="option">([\d.]+)', text, re.S
    )
    assert shop and shop.groups() == ("1", "50.0")
    assert "At the market" in text and 'href="/customers/' in text
    assert 'id="edit-poll"' not in text
    assert 'id="poll-days-data"' in text
    assert '<option value="mailing:7"' in text


def test_the_report_of_another_mailing_is_empty(client: UIClient, session: Session, answered: Poll) -> None:
    sign_in_as(client, session, "marketer")
    page = client.get(f"/polls/{answered.id}/report", params={"source": "mailing:8"})
    assert re.search(r'data-total="respondents">0<', page.text)
    assert client.get(f"/polls/{answered.id}/report", params={"source": "garbage:x"}).status_code == 200


def test_the_answers_export(client: UIClient, session: Session, answered: Poll) -> None:
    sign_in_as(client, session, "analyst")
    response = client.get(f"/polls/{answered.id}/answers.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"poll-{answered.id}-answers" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 3  # the header and two responses
    assert any("At the market" in cell for row in rows for cell in row)
