"""SMS over SMPP against a real SMPP server on loopback: bind, submit, encodings, splitting, receipts."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from smartcomm.channels.base import (
    Channel,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SenderIdentity,
    SmsContent,
)
from smartcomm.channels.receipts import DeliveryState, DeliveryUpdate
from smartcomm.channels.sms.smpp import SmppSender, SmppSettings
from tests.channels.smpp_server import HANG_UP, INVALID, THROTTLED, UNDELIVERED, Smsc, smpp_server


class Handovers:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def sms(text: str, phone: str = "+79161234567", message_id: int = 1) -> OutgoingMessage:
    return OutgoingMessage(message_id, Channel.SMS, phone, SmsContent(text), SenderIdentity(name=None))


def sender(smsc: Smsc, receipts: list[DeliveryUpdate] | None = None, **values: object) -> SmppSender:
    settings = SmppSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "shop",
            "password": "secret",
            "source_address": "SHOP",
        }
        | values
    )
    return SmppSender(settings, on_receipt=None if receipts is None else receipts.append)


def collect_receipts(smpp: SmppSender, receipts: list[DeliveryUpdate], expected: int) -> None:
    for _ in range(50):  # bounded: each round waits at most a fifth of a second for the SMSC
        if len(receipts) >= expected:
            return
        smpp.poll_receipts(0.2)


def test_a_short_latin_text_goes_as_one_gsm7_submit_and_its_receipt_comes_back() -> None:
    receipts: list[DeliveryUpdate] = []
    with smpp_server() as smsc:
        smpp = sender(smsc, receipts)
        smpp.open()
        handovers = Handovers()
        accepted = smpp.send(sms("Your code is 4711. Shop"), handovers)
        collect_receipts(smpp, receipts, 1)
        smpp.close()
        submitted = smsc.state.submitted
        answered_enquiry = smsc.state.enquire_link_answers
    assert handovers.count == 1
    assert [(s.source, s.destination, s.data_coding, s.esm_class) for s in submitted] == [
        ("SHOP", "79161234567", 0, 0)
    ]
    assert submitted[0].short_message == b"Your code is 4711. Shop"
    assert accepted.provider_message_id == submitted[0].message_id and not accepted.delivered
    assert [(r.provider_message_id, r.state) for r in receipts] == [
        (accepted.provider_message_id, DeliveryState.DELIVERED)
    ]
    assert "stat:DELIVRD" in (receipts[0].detail or "")
    assert answered_enquiry == 1  # the SMSC's enquire_link was answered while we waited


def test_a_long_cyrillic_text_is_split_into_ucs2_parts_with_a_udh() -> None:
    text = "Здравствуйте, Анна! Ваша персональная скидка 20 % действует до воскресенья. " * 2
    with smpp_server() as smsc:
        smpp = sender(smsc)
        smpp.open()
        accepted = smpp.send(sms(text), Handovers())
        smpp.close()
        parts = smsc.state.submitted
    assert len(parts) == 3
    assert {(p.data_coding, p.esm_class) for p in parts} == {(8, 0x40)}
    headers = [p.short_message[:6] for p in parts]
    assert [h[:3] for h in headers] == [b"\x05\x00\x03"] * 3 and len({h[3] for h in headers}) == 1
    assert [(h[4], h[5]) for h in headers] == [(3, 1), (3, 2), (3, 3)]
    assert b"".join(p.short_message[6:] for p in parts).decode("utf-16-be") == text
    assert accepted.provider_message_id == parts[0].message_id


def test_a_long_latin_text_is_split_into_gsm7_parts() -> None:
    text = "Spring sale: 20% off everything until Sunday, in every store and online. " * 3
    with smpp_server() as smsc:
        smpp = sender(smsc)
        smpp.open()
        smpp.send(sms(text), Handovers())
        smpp.close()
        parts = smsc.state.submitted
    assert len(parts) == 2 and {(p.data_coding, p.esm_class) for p in parts} == {(0, 0x40)}
    assert b"".join(p.short_message[6:] for p in parts).decode("ascii") == text


def test_refusals_map_to_errors_and_an_undelivered_receipt_is_reported() -> None:
    receipts: list[DeliveryUpdate] = []
    with smpp_server() as smsc:
        smpp = sender(smsc, receipts)
        smpp.open()
        with pytest.raises(PermanentError) as invalid:
            smpp.send(sms("Hello", "+" + INVALID), Handovers())
        with pytest.raises(RetryableError) as throttled:
            smpp.send(sms("Hello", "+" + THROTTLED), Handovers())
        lost = smpp.send(sms("Hello", "+" + UNDELIVERED), Handovers())
        collect_receipts(smpp, receipts, 1)
        smpp.close()
    assert invalid.value.invalid_contact and "Invalid Destination Address" in str(invalid.value)
    assert not throttled.value.invalid_contact and "Throttling" in str(throttled.value)
    assert [(r.provider_message_id, r.state) for r in receipts] == [
        (lost.provider_message_id, DeliveryState.UNDELIVERED)
    ]


def test_a_wrong_password_is_refused_at_bind() -> None:
    with smpp_server() as smsc, pytest.raises(RetryableError, match="cannot bind"):
        sender(smsc, password="wrong").open()


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_connection_the_smsc_closed_is_bound_again() -> None:
    with smpp_server() as smsc:
        smpp = sender(smsc)
        smpp.open()
        smpp.send(sms("one", "+" + HANG_UP), Handovers())
        wait_for(lambda: smsc.state.closed == 1)  # the SMSC has hung up before the next message
        smpp.send(sms("two"), Handovers())
        smpp.close()
        submitted = [s.short_message for s in smsc.state.submitted]
        binds = smsc.state.binds
    assert submitted == [b"one", b"two"] and binds == 2 and smpp.binds == 2


def test_a_text_that_is_not_a_phone_number_is_an_invalid_contact() -> None:
    with smpp_server() as smsc:
        smpp = sender(smsc)
        smpp.open()
        handovers = Handovers()
        with pytest.raises(PermanentError) as caught:
            smpp.send(sms("Hello", "anna@example.com"), handovers)
        smpp.close()
        submitted = smsc.state.submitted
    assert caught.value.invalid_contact and handovers.count == 0 and submitted == []
