"""Promo codes issued at render time: one distinct code per recipient, the same code when a message is
rendered again or resent, none burnt by test sends and previews, and a recipient skipped — never sent an
empty code — when the group has nothing left to give."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.delivery.ledger import Reason, Status
from smartcomm.kit.db import Database
from smartcomm.mailings.schemas import TestSendIn as SendTest
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Customer, Message, MessageContent, PromoCode, PromoCodeGroup
from smartcomm.personalization import hooks
from smartcomm.personalization.context import context_builder
from smartcomm.personalization.errors import TemplateInvalid
from smartcomm.personalization.renderer import renderer
from smartcomm.promocodes import issuing
from tests.delivery.helpers import email_template
from tests.mailings.helpers import customers, hold_dispatch, mailing_messages, make_mailing, send_due

ACTOR = Actor.system("tests")
SUBJECT = "Your code {{ client.promocode('spring') }}"


def code_group(session: Session, count: int, code: str = "SPRING", **values: Any) -> PromoCodeGroup:
    group = PromoCodeGroup(code=code, name=f"{code} offer", **values)
    session.add(group)
    session.flush()
    session.add_all([PromoCode(group_id=group.id, code=f"{code}-{n:04d}") for n in range(count)])
    session.commit()
    return group


def subjects(session: Session, mailing_id: int) -> dict[int, str]:
    """The subject each message of the mailing was sent with, by message id."""
    ids = [m.id for m in mailing_messages(session, mailing_id)]
    rows = session.execute(select(MessageContent.message_id, MessageContent.content).where(
        MessageContent.message_id.in_(ids)
    ))  # fmt: skip
    return {message_id: content["subject"] for message_id, content in rows}


def issued(session: Session) -> list[PromoCode]:
    session.expire_all()
    return list(session.scalars(select(PromoCode).where(PromoCode.status == "issued").order_by(PromoCode.id)))


def launched(session: Session, mailing_id: int) -> None:
    mailing_service.launch(session, ACTOR, mailing_id)
    session.commit()
    send_due()
    mailing_service.settle_sending(session)
    session.commit()


def test_each_recipient_gets_a_code_of_their_own_and_a_resend_shows_the_same(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    code_group(session, 20)
    people = customers(session, 6)
    mailing = make_mailing(session, people, template_version_id=email_template(session, SUBJECT).id)

    launched(session, mailing.id)

    shown = subjects(session, mailing.id)
    codes = {text.removeprefix("Your code ") for text in shown.values()}
    assert len(shown) == 6 and len(codes) == 6
    given = issued(session)
    assert {c.code for c in given} == codes
    by_message = {m.id: m for m in mailing_messages(session, mailing.id)}
    for code in given:  # each code is held by the customer of the message it was shown in
        assert by_message[code.message_id].customer_id == code.customer_id
        assert shown[code.message_id] == f"Your code {code.code}"

    lost = list(by_message)[:2]
    session.execute(update(Message).where(Message.id.in_(lost)).values(
        status=Status.FAILED, reason=Reason.PROVIDER_REFUSED
    ))  # fmt: skip
    session.commit()
    mailing_service.resend_not_reached(session, ACTOR, mailing.id)
    session.commit()
    send_due()

    again = subjects(session, mailing.id)
    resent = {
        m.customer_id: again[m.id] for m in mailing_messages(session, mailing.id) if m.id not in by_message
    }
    assert resent == {by_message[i].customer_id: shown[i] for i in lost}
    assert len(issued(session)) == 6  # the resend burnt no code


def test_an_exhausted_group_skips_the_recipients_left_with_the_reason_no_promo_code(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    code_group(session, 3)
    mailing = make_mailing(
        session, customers(session, 5), template_version_id=email_template(session, SUBJECT).id
    )

    launched(session, mailing.id)

    outcome = Counter((m.status, m.reason) for m in mailing_messages(session, mailing.id))
    assert outcome == Counter({(Status.DELIVERED, None): 3, (Status.SUPPRESSED, Reason.NO_PROMOCODE): 2})
    assert all(text.startswith("Your code SPRING-") for text in subjects(session, mailing.id).values())
    assert mailing_service.recorded_buckets(session, mailing.id)["no_promocode"] == 2
    assert len(issued(session)) == 3


def test_blocked_codes_and_blocked_groups_are_never_issued(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    group = code_group(session, 4)
    first_two = list(session.scalars(select(PromoCode.id).where(PromoCode.group_id == group.id).limit(2)))
    session.execute(update(PromoCode).where(PromoCode.id.in_(first_two)).values(blocked=True))
    code_group(session, 5, code="CLOSED", blocked=True)
    template = email_template(session, SUBJECT + " and {{ client.promocode('CLOSED') }}")
    mailing = make_mailing(session, customers(session, 3), template_version_id=template.id)

    launched(session, mailing.id)

    # SPRING's two open codes were taken and given back: a skipped message holds no code.
    assert {m.reason for m in mailing_messages(session, mailing.id)} == {Reason.NO_PROMOCODE}
    assert issued(session) == []


def test_a_message_rendered_twice_holds_one_code(session: Session) -> None:
    code_group(session, 5)
    person = customers(session, 1)[0]
    version = email_template(session, SUBJECT)
    context = context_builder.for_customer(session, person.id)
    assert context is not None

    def render(message_id: int) -> str:
        with hooks.issuing(session, message_id):
            content = renderer.render(version.id, context, message_key="key-1", session=session)
        return content.subject  # type: ignore[union-attr]

    first, second = render(101), render(101)

    assert first == second and first.startswith("Your code SPRING-")
    assert [(c.customer_id, c.issue_key, c.message_id) for c in issued(session)] == [
        (person.id, "key-1", 101)
    ]


def test_previews_and_test_sends_show_a_sample_and_burn_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    code_group(session, 5)
    person = customers(session, 1)[0]
    mailing = make_mailing(session, [person], template_version_id=email_template(session, SUBJECT).id)

    test = mailing_service.test_send(session, ACTOR, mailing.id, SendTest(recipient="qa@example.com",
                                                                          customer_id=person.id))  # fmt: skip
    session.commit()
    send_due()
    context = context_builder.for_customer(session, person.id)
    assert context is not None
    preview = renderer.render(mailing.template_version_id or 0, context, preview=True, session=session)

    stored = session.scalar(select(MessageContent.content).where(MessageContent.message_id == test.id))
    assert stored is not None and stored["subject"] == "Your code XXXXXX-0000"
    assert preview.subject == "Your code XXXXXX-0000"  # type: ignore[union-attr]
    assert issued(session) == []


def test_last_promocode_shows_the_latest_code_and_skips_whoever_never_got_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    group = code_group(session, 5)
    given, never = customers(session, 2)
    session.execute(update(PromoCode).where(PromoCode.code == "SPRING-0003").values(
        status="issued", customer_id=given.id, issue_key="earlier", issued_at=func.now()
    ))  # fmt: skip
    session.commit()
    reminder = email_template(session, "Still yours: {{ client.last_promocode('SPRING') }}")
    mailing = make_mailing(session, [given, never], template_version_id=reminder.id)

    launched(session, mailing.id)

    messages = {m.customer_id: m for m in mailing_messages(session, mailing.id)}
    assert subjects(session, mailing.id) == {messages[given.id].id: "Still yours: SPRING-0003"}
    assert (messages[never.id].status, messages[never.id].reason) == (Status.SUPPRESSED, Reason.NO_PROMOCODE)
    assert issuing.last_issued(session, group.id, given.id) is not None


def test_a_template_naming_an_unknown_group_is_refused_on_save(session: Session) -> None:
    with pytest.raises(TemplateInvalid) as refused:
        email_template(session, "{{ client.promocode('NOPE') }}")

    assert "NOPE" in str(refused.value.problems[0].message)


def test_a_group_deleted_after_the_template_was_saved_fails_the_render_naming_it(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_dispatch(monkeypatch)
    group = code_group(session, 2, code="GONE")
    template = email_template(session, "{{ client.promocode('GONE') }}")
    mailing = make_mailing(session, customers(session, 1), template_version_id=template.id)
    session.delete(group)
    session.commit()

    launched(session, mailing.id)

    [message] = mailing_messages(session, mailing.id)
    assert (message.status, message.reason) == (Status.FAILED, Reason.RENDER_ERROR)
    assert "GONE" in (message.detail or "")


def test_workers_issuing_at_once_never_share_a_code(backend: str, live_database: Database) -> None:
    """Threads with sessions of their own claim from one group at the same time (on PostgreSQL each
    skips the codes the others hold locked): every code goes to one key only."""
    with live_database.session() as session:
        group = code_group(session, 300, code="RUSH")
        person = customers(session, 1)[0]
        session.commit()
        group_id, customer_id = group.id, person.id
    taken: list[str] = []
    errors: list[BaseException] = []

    def claim(worker: int) -> None:
        try:
            for n in range(100):
                with live_database.session() as own:
                    found = own.get(PromoCodeGroup, group_id)
                    assert found is not None
                    taken.append(issuing.issue(own, found, customer_id, f"w{worker}-{n}", None).code)
                    own.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(taken) == 300 and len(set(taken)) == 300
    with live_database.session() as session:
        keys = session.scalars(select(PromoCode.issue_key).where(PromoCode.group_id == group_id))
        assert Counter(keys)[None] == 0


def test_the_messaging_volume_counts_ahead_the_recipients_a_group_cannot_serve(session: Session) -> None:
    group = code_group(session, 7)
    session.execute(update(PromoCode).where(PromoCode.code == "SPRING-0000").values(blocked=True))
    session.commit()
    mailing = make_mailing(
        session, customers(session, 10), template_version_id=email_template(session, SUBJECT).id
    )

    volume = mailing_service.volume(session, mailing.id)

    assert (volume.buckets["good_recipients"], volume.buckets["no_promocode"]) == (6, 4)
    group.blocked = True
    session.commit()
    assert mailing_service.volume(session, mailing.id).buckets["no_promocode"] == 10


def test_codes_are_issued_while_other_writers_commit(
    live_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a real database (no test connection shared by every session) the dispatcher renders in a read
    snapshot while others write — here a thread committing all the time: issuing writes in a short
    transaction of its own, so no render fails on a lock."""
    hold_dispatch(monkeypatch)
    with live_database.session() as session:
        code_group(session, 80)
        people = customers(session, 60)
        session.commit()
        mailing = make_mailing(session, people, template_version_id=email_template(session, SUBJECT).id)
        mailing_service.launch(session, ACTOR, mailing.id)
        session.commit()
        busy_id = people[0].id
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            with live_database.session() as other:
                other.execute(
                    update(Customer).where(Customer.id == busy_id).values(middle_name=str(time.time()))
                )
                other.commit()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        send_due(batch_size=20)
    finally:
        stop.set()
        writer.join(timeout=10)

    with live_database.session() as session:
        outcome = Counter((m.status, m.reason) for m in mailing_messages(session, mailing.id))
        assert outcome == Counter({(Status.DELIVERED, None): 60})
        assert len(set(subjects(session, mailing.id).values())) == 60
