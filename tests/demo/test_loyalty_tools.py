"""The demo's promo codes and poll: three groups in the states their list shows, the welcome letter's codes
one per recipient and shown in the Outbox, codes redeemed on receipts, a poll answered by a quarter of its
SMS's recipients — figures that agree with the rows — and nothing made twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.channels.base import EmailContent
from smartcomm.cli.demo import load_if_empty
from smartcomm.delivery.ledger import issue_key_of
from smartcomm.delivery.outbox_queries import OutboxQueries, shown_content
from smartcomm.demo.communications import add_communications, add_loyalty_tools
from smartcomm.demo.communications.polls import POLL_MAILING, POLL_NAME
from smartcomm.demo.communications.promos import WELCOME_MAILING
from smartcomm.demo.repository import DemoRepository
from smartcomm.kit.db import Database, session_scope
from smartcomm.kit.outbox import events_table
from smartcomm.models import (
    Message,
    Poll,
    PollAnswer,
    PollInvitation,
    PollResponse,
    PromoCode,
    PromoCodeGroup,
    Receipt,
    ReceiptLine,
)
from smartcomm.polls.reports import poll_report
from smartcomm.promocodes.schemas import GroupOut
from smartcomm.promocodes.service import promocode_service
from tests.conftest import UIClient
from tests.demo.conftest import AS_OF, count, make_demo

ACTOR = Actor.system("first run")
NOW = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 9, tzinfo=UTC)


@pytest.fixture
def history(session: Session) -> Iterator[int]:
    with time_machine.travel(NOW, tick=False):
        make_demo(session, customers=400)
        yield add_communications(session, ACTOR)


def groups(session: Session) -> dict[str, GroupOut]:
    return {group.code: group for group in promocode_service.groups(session)}


def given(group: GroupOut) -> int:
    return group.counts.issued + group.counts.redeemed


def welcome_messages(session: Session) -> list[Message]:
    return DemoRepository(session).handed_messages(WELCOME_MAILING)


def utc(value: datetime | None) -> datetime:
    assert value is not None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_the_three_groups_are_full_running_low_and_exhausted(session: Session, history: int) -> None:
    found = groups(session)
    welcome, birthday, black_friday = found["WELCOME"], found["BIRTHDAY"], found["BF"]
    assert (welcome.counts.total, birthday.counts.total, black_friday.counts.total) == (3000, 160, 40)
    assert welcome.nominal == "10 %" and welcome.valid_from == AS_OF - timedelta(days=100)
    assert welcome.valid_to == AS_OF + timedelta(days=120)
    letters = len(welcome_messages(session))
    assert letters > 50 and given(welcome) == letters
    assert 0.15 <= welcome.counts.redeemed / letters <= 0.25
    assert welcome.stock == "ok" and welcome.counts.active == 3000 - letters
    assert given(birthday) == 125 and birthday.counts.active == 35
    assert birthday.low_threshold == 50 and birthday.stock == "low"
    assert 0.2 <= birthday.counts.redeemed / 125 <= 0.4
    assert black_friday.counts.active == 0 and black_friday.counts.redeemed == 12
    assert black_friday.stock == "exhausted"


def test_each_welcome_letter_holds_its_own_code_issued_when_it_went(session: Session, history: int) -> None:
    letters = {m.id: m for m in welcome_messages(session)}
    group = session.scalars(select(PromoCodeGroup).where(PromoCodeGroup.code == "WELCOME")).one()
    codes = session.scalars(select(PromoCode).where(PromoCode.group_id == group.id)).all()
    held = [code for code in codes if code.message_id is not None]
    assert sorted(code.message_id for code in held) == sorted(letters)  # one code per letter
    assert len({code.code for code in held}) == len(held)
    for code in held:
        message = letters[code.message_id or 0]
        assert code.customer_id == message.customer_id
        assert code.issue_key == issue_key_of(message.idempotency_key, message.options)
        assert utc(code.issued_at) == utc(message.sent_at)
    assert all(
        code.status == "active" and code.customer_id is None for code in codes if code.message_id is None
    )


def test_redeemed_codes_came_back_on_their_holders_receipts(session: Session, history: int) -> None:
    redeemed = session.scalars(select(PromoCode).where(PromoCode.status == "redeemed")).all()
    assert redeemed
    receipt_ids = [code.receipt_id for code in redeemed]
    receipts = {r.id: r for r in session.scalars(select(Receipt).where(Receipt.id.in_(receipt_ids)))}
    assert len(receipts) == len(set(receipt_ids)) == len(redeemed)  # one receipt per code
    for code in redeemed:
        receipt = receipts[code.receipt_id or 0]
        assert receipt.promo_codes == [code.code] and receipt.customer_id == code.customer_id
        assert utc(code.issued_at) < utc(code.redeemed_at) == utc(receipt.purchased_at) < NOW
        assert any(line_discount > 0 for line_discount in _discounts(session, receipt.id))


def test_the_outbox_shows_each_letter_its_own_code(
    session: Session, history: int, admin_client: UIClient
) -> None:
    letters = welcome_messages(session)[:3]
    codes = dict(
        session.execute(
            select(PromoCode.message_id, PromoCode.code).where(
                PromoCode.message_id.in_([m.id for m in letters])
            )
        ).all()
    )
    for message in letters:
        body = admin_client.get(f"/outbox/{message.id}/body")
        assert body.status_code == 200
        assert codes[message.id] in body.text
        assert all(other not in body.text for key, other in codes.items() if key != message.id)


def test_the_poll_report_agrees_with_the_answers(session: Session, history: int) -> None:
    poll = session.scalars(select(Poll).where(Poll.name == POLL_NAME)).one()
    sms = DemoRepository(session).handed_messages(POLL_MAILING)
    delivered = [m for m in sms if m.delivered_at is not None]
    report = poll_report(session, poll.id)
    assert report.invited == count(session, PollInvitation) == len(sms)
    assert report.respondents == count(session, PollResponse) == round(len(delivered) * 0.25)
    responses = session.scalars(select(PollResponse)).all()
    sent = {m.id: utc(m.sent_at) for m in sms}
    assert all(sent[r.message_id or 0] < utc(r.completed_at) < NOW for r in responses)
    ratings = Counter(
        session.scalars(select(PollAnswer.option_id).where(PollAnswer.question_id == "q1")).all()
    )
    first = report.questions[0]
    assert {option.id: number for option, number in first.options} == {
        option: ratings.get(option, 0) for option in ("excellent", "good", "fair", "poor")
    }
    assert (ratings["excellent"] + ratings["good"]) > 0.6 * report.respondents
    low = {r.customer_id for r in responses if r.answers["q1"] in ("fair", "poor")}
    improvers = session.scalars(select(PollAnswer.customer_id).where(PollAnswer.question_id == "q2")).all()
    assert improvers and set(improvers) <= low  # shown only after a fair or poor rating
    open_answers = report.questions[3]
    assert open_answers.open_total == count(session, PollAnswer, PollAnswer.question_id == "q4") > 0


def test_answers_publish_their_events_and_the_receipt_subscriber_redeems_nothing_more(
    session: Session, history: int
) -> None:
    before = {code: group.counts for code, group in groups(session).items()}
    session.commit()  # the events are written; the dispatcher then hands the receipts to the subscriber
    events = events_table()
    answered = session.scalar(
        select(func.count()).select_from(events).where(events.c.kind == "poll.answered")
    )
    assert answered == count(session, PollResponse)
    assert {code: group.counts for code, group in groups(session).items()} == before


def test_a_second_run_adds_nothing(session: Session, history: int) -> None:
    models = (PromoCodeGroup, PromoCode, Poll, PollInvitation, PollResponse, PollAnswer, Receipt)
    before = [count(session, model) for model in models]
    states = {code: group.counts for code, group in groups(session).items()}
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        add_loyalty_tools(session, ACTOR)
        assert add_communications(session, ACTOR) == history
    assert [count(session, model) for model in models] == before
    assert {code: group.counts for code, group in groups(session).items()} == states


def test_the_first_run_makes_them_on_a_database_that_commits(live_database: Database) -> None:
    """`smartcomm run` loads the demo in transactions that commit, and the macros of a template read the
    groups and polls in sessions of their own: the groups and the poll must be committed before the
    templates that name them are checked."""
    with time_machine.travel(NOW, tick=False):
        assert load_if_empty(customers=200, seed=3) is not None
    with session_scope(read_only=True) as session:
        found = groups(session)
        letters = welcome_messages(session)
        held = session.scalars(
            select(PromoCode.message_id).where(PromoCode.message_id.in_([m.id for m in letters]))
        )
        assert letters and len(set(held)) == len(letters)  # (the welcome series' letters hold codes too)
        assert given(found["WELCOME"]) >= len(letters)
        assert found["BF"].stock == "exhausted"
        assert count(session, PollResponse) > 0
        code = session.scalar(select(PromoCode.code).where(PromoCode.message_id == letters[0].id))
        shown = shown_content(session, OutboxQueries(session).view(letters[0].id))
        assert code and isinstance(shown, EmailContent) and code in shown.html


def _discounts(session: Session, receipt_id: int) -> list[float]:
    statement = select(ReceiptLine.discount).where(ReceiptLine.receipt_id == receipt_id)
    return [float(value) for value in session.scalars(statement)]
