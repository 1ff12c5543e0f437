"""E-mail over SMTP against a real aiosmtpd server on loopback: what arrives, signed, over TLS, refused."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import dkim
import pytest

from smartcomm.channels.base import (
    Channel,
    EmailContent,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    SenderIdentity,
)
from smartcomm.channels.email.mime import MimeBuilder
from smartcomm.channels.email.settings import SmtpSettings
from smartcomm.channels.email.signing import load_private_key, public_key_record
from smartcomm.channels.email.smtp import SmtpSender
from smartcomm.kit.errors import InvalidInput
from tests.channels.smtp_server import smtp_server
from tests.channels.tls import rsa_key_pem, self_signed

SUBJECT = "Скидка 20 % только для вас, Анна — до воскресенья включительно!"
HTML = (
    "<html><body>" + "<p>Здравствуйте, Анна! <a href='https://shop.example/a?b=1&c=2'>Каталог</a></p>\n" * 40
)
TEXT = "Здравствуйте, Анна!\n.\n.a line that starts with a dot\n" + "Plain ASCII line " * 20
HEADERS = {
    "Message-ID": "<m-42.ab12@shop.example>",
    "List-Unsubscribe": "<https://shop.example/u/tok-42>, <mailto:unsubscribe@shop.example?subject=tok-42>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "List-ID": "Акции магазина <promotions.shop.example>",
}


def message(recipient: str = "anna@example.com", message_id: int = 42, **headers: str) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id,
        channel=Channel.EMAIL,
        recipient=recipient,
        content=EmailContent(SUBJECT, HTML, TEXT),
        sender=SenderIdentity(name="Магазин «Ромашка»", address="news@shop.example"),
        headers=HEADERS | headers,
    )


def settings(port: int, **values: object) -> SmtpSettings:
    return SmtpSettings.model_validate(
        {"host": "127.0.0.1", "port": port, "security": "none", "from_address": "news@shop.example"} | values
    )


class Handovers:
    """The `handing_over` callback: counts the messages the provider may have."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def send_one(sender: SmtpSender, outgoing: OutgoingMessage, handovers: Handovers | None = None):
    sender.open()
    try:
        return sender.send(outgoing, handovers or Handovers())
    finally:
        sender.close()


def parsed(data: bytes) -> EmailMessage:
    parsed_message = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed_message, EmailMessage)
    return parsed_message


def test_the_message_arrives_with_its_headers_and_the_cyrillic_subject_decoded() -> None:
    with smtp_server() as server:
        accepted = send_one(SmtpSender(settings(server.port)), message())
        received = server.recorder.messages[0]
    assert accepted.provider_message_id == "Q00001"
    assert received.mail_from == "news@shop.example" and received.rcpt_tos == ["anna@example.com"]
    arrived = parsed(received.data)
    assert arrived["Subject"] == SUBJECT
    assert arrived["From"].addresses[0].display_name == "Магазин «Ромашка»"
    assert arrived["From"].addresses[0].addr_spec == "news@shop.example"
    assert arrived["To"] == "anna@example.com"
    assert arrived["Message-ID"] == "<m-42.ab12@shop.example>"
    assert arrived["List-Unsubscribe"] == HEADERS["List-Unsubscribe"]
    assert arrived["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert arrived["List-ID"] == "Акции магазина <promotions.shop.example>"
    assert arrived.get_content_type() == "multipart/alternative"
    text, html = arrived.iter_parts()
    assert text.get_content().replace("\r\n", "\n") == TEXT + "\n"
    assert html.get_content().replace("\r\n", "\n") == HTML


def test_lines_end_in_crlf_and_keep_the_length_limits() -> None:
    builder = MimeBuilder(SenderIdentity("Магазин", "news@shop.example"), "shop.example")
    data = builder.build(message())
    head, body = data.split(b"\r\n\r\n", 1)
    assert b"\n" not in data.replace(b"\r\n", b"") and b"\r" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"List-Unsubscribe:"))
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert data.isascii()


def test_a_line_break_in_a_header_value_cannot_add_a_header() -> None:
    builder = MimeBuilder(SenderIdentity(None, "news@shop.example"), "shop.example")
    data = builder.build(message(**{"X-Campaign": "spring\r\nBcc: victim@example.com"}))
    arrived = parsed(data)
    assert arrived["Bcc"] is None
    assert arrived["X-Campaign"] == "spring Bcc: victim@example.com"


def test_the_dkim_signature_verifies_and_breaks_when_the_message_is_changed() -> None:
    key = rsa_key_pem()
    record = public_key_record(load_private_key(key)).encode()
    lookups: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        lookups.append(name)
        return record

    signing = {"dkim_domain": "shop.example", "dkim_selector": "mail", "dkim_private_key": key}
    with smtp_server() as server:
        send_one(SmtpSender(settings(server.port, **signing)), message())
        data = server.recorder.messages[0].data
    assert data.startswith(b"DKIM-Signature:")
    assert dkim.verify(data, dnsfunc=dns)
    assert lookups == [b"mail._domainkey.shop.example."]
    signed = dkim.DKIM(data)
    signed.verify(dnsfunc=dns)
    assert {b"from", b"subject", b"list-unsubscribe", b"list-unsubscribe-post", b"list-id"} <= set(
        signed.include_headers
    )
    assert not dkim.verify(data.replace(b"<m-42.ab12@", b"<m-43.ab12@", 1), dnsfunc=dns)
    assert not dkim.verify(data.replace(b"\r\n\r\n--", b"\r\n\r\nX--", 1), dnsfunc=dns)


def test_starttls_with_a_self_signed_certificate_and_auth() -> None:
    certificate = self_signed()
    secure = {"security": "starttls", "ca_certificate": certificate.cert_pem, "username": "shop"}
    with smtp_server(tls=certificate.server_context(), login=("shop", "s3cret")) as server:
        send_one(SmtpSender(settings(server.port, **secure, password="s3cret")), message())
        with pytest.raises(RetryableError, match="535"):
            SmtpSender(settings(server.port, **secure, password="wrong")).open()
        with pytest.raises(RetryableError, match="certificate verify failed"):
            SmtpSender(settings(server.port, **{**secure, "ca_certificate": None}, password="s3cret")).open()
        received = server.recorder.messages
    assert len(received) == 1
    assert parsed(received[0].data)["Subject"] == SUBJECT


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_refusals_map_to_permanent_and_retryable_errors_with_the_servers_words(pipelining: bool) -> None:
    with smtp_server(pipelining=pipelining) as server:
        sender = SmtpSender(settings(server.port))
        sender.open()
        outcomes: dict[str, Exception] = {}
        handovers = Handovers()
        for address in ("unknown@example.com", "greylisted@example.com", "full@example.com"):
            with pytest.raises((PermanentError, RetryableError)) as caught:
                sender.send(message(address), handovers)
            outcomes[address] = caught.value
        accepted = sender.send(message("anna@example.com"), handovers)
        sender.close()
        received = server.recorder.messages
    unknown = outcomes["unknown@example.com"]
    assert isinstance(unknown, PermanentError) and unknown.invalid_contact
    assert "550 5.1.1" in str(unknown) and "User unknown" in str(unknown)
    greylisted = outcomes["greylisted@example.com"]
    assert isinstance(greylisted, RetryableError) and "450 4.2.0" in str(greylisted)
    full = outcomes["full@example.com"]
    assert isinstance(full, RetryableError) and "452 4.3.1 Insufficient system storage" in str(full)
    # Only the refusal after DATA came after the hand-over; the connection survived every refusal.
    assert handovers.count == 2
    assert accepted.provider_message_id == "Q00001"
    assert [m.rcpt_tos for m in received] == [["anna@example.com"]]
    assert sender.connections == 1


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_one_connection_carries_the_whole_batch(pipelining: bool) -> None:
    with smtp_server(pipelining=pipelining) as server:
        sender = SmtpSender(settings(server.port))
        sender.open()
        handovers = Handovers()
        for number in range(25):
            sender.send(message(f"customer{number}@example.com", number), handovers)
        sender.close()
        received = server.recorder.messages
    assert len(received) == 25 and handovers.count == 25
    assert server.recorder.connections == 1 and sender.connections == 1


def test_a_connection_dropped_between_messages_is_reopened() -> None:
    with smtp_server() as server:
        sender = SmtpSender(settings(server.port))
        sender.open()
        sender.send(message("drop@example.com", 1), Handovers())
        sender.send(message("anna@example.com", 2), Handovers())
        sender.close()
        received = server.recorder.messages
    assert [m.rcpt_tos for m in received] == [["drop@example.com"], ["anna@example.com"]]
    assert server.recorder.connections == 2 and sender.connections == 2


def test_a_failed_hand_over_leaves_the_message_undelivered() -> None:
    def ledger_down() -> None:
        raise RuntimeError("the ledger could not record the hand-over")

    with smtp_server() as server:
        sender = SmtpSender(settings(server.port))
        sender.open()
        with pytest.raises(RuntimeError):
            sender.send(message("anna@example.com", 1), ledger_down)
        sender.send(message("boris@example.com", 2), Handovers())
        sender.close()
        received = server.recorder.messages
    assert [m.rcpt_tos for m in received] == [["boris@example.com"]]


def test_a_connection_lost_after_the_final_dot_is_an_unknown_outcome() -> None:
    with smtp_server() as server:
        sender = SmtpSender(settings(server.port))
        sender.open()
        handovers = Handovers()
        with pytest.raises(OutcomeUnknown) as caught:
            sender.send(message("vanish@example.com"), handovers)
        sender.close()
        received = server.recorder.messages
    # The server has the message although the sender never heard so: sending it again would duplicate it.
    assert [m.rcpt_tos for m in received] == [["vanish@example.com"]]
    assert handovers.count == 1
    assert isinstance(caught.value, PermanentError)  # never retried, whoever catches it


def test_an_unreachable_server_is_retryable() -> None:
    import services

    with pytest.raises(RetryableError, match="cannot connect"):
        SmtpSender(settings(services.free_port())).open()


def test_settings_refuse_half_a_dkim_configuration_naming_the_field() -> None:
    half = SmtpSettings.model_validate(
        {"host": "smtp.example.com", "from_address": "news@shop.example", "dkim_domain": "shop.example"}
    )
    with pytest.raises(InvalidInput) as caught:
        half.check()
    assert caught.value.errors[0].field == "dkim_selector"
    bad_key = half.model_copy(update={"dkim_selector": "mail", "dkim_private_key": "not a key"})
    with pytest.raises(InvalidInput) as caught:
        bad_key.check()
    assert caught.value.errors[0].field == "dkim_private_key"
