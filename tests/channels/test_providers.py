"""Provider configuration: secrets sealed at rest and masked, one active provider per channel, the sandbox
by default, test sends through real servers, callbacks read through the stored settings."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.channels import secrets
from smartcomm.channels.base import Channel, EmailContent, OutgoingMessage, PermanentError
from smartcomm.channels.receipts import CallbackRefused, CallbackRequest, DeliveryState
from smartcomm.channels.registry import sender_for
from smartcomm.channels.sandbox import SandboxSender, SandboxSettings
from smartcomm.channels.service import channel_provider_service
from smartcomm.kit.errors import Conflict, InvalidInput, NotFound
from smartcomm.models import AuditEntry, ChannelProvider
from tests.channels.smtp_server import smtp_server

ACTOR = Actor("user", None, "Anna Admin <boss@example.com>", "127.0.0.1")
PASSWORD = "correct-horse-battery-staple"


def smtp_form(port: int = 2525, **values: str) -> dict[str, str]:
    return {
        "name": "Relay",
        "host": "127.0.0.1",
        "port": str(port),
        "security": "none",
        "username": "shop",
        "password": PASSWORD,
        "from_address": "news@shop.example",
        "from_name": "Магазин",
        "verify_certificate": "true",
    } | values


def history(session: Session, provider_id: int) -> list[AuditEntry]:
    statement = select(AuditEntry).where(
        AuditEntry.object_type == "channel_provider", AuditEntry.object_id == str(provider_id)
    )
    return list(session.scalars(statement.order_by(AuditEntry.id)))


def test_secrets_are_sealed_at_rest_masked_on_the_form_and_redacted_in_the_history(session: Session) -> None:
    provider = channel_provider_service.create(session, ACTOR, "email", "smtp", smtp_form())
    stored = session.get(ChannelProvider, provider.id)
    assert stored is not None and stored.settings["password"].startswith(secrets.SEALED_PREFIX)
    assert PASSWORD not in json.dumps(stored.settings)
    assert secrets.unseal(stored.settings["password"]) == PASSWORD
    values, masks = channel_provider_service.form_values(stored)
    assert "password" not in values and masks["password"] == "••••aple"
    created = history(session, provider.id)[0]
    assert created.action == "create" and created.changes["password"] == [None, "••••"]
    assert PASSWORD not in json.dumps(created.changes)


def test_an_empty_secret_keeps_the_stored_one_and_the_clear_box_removes_it(session: Session) -> None:
    provider = channel_provider_service.create(session, ACTOR, "email", "smtp", smtp_form())
    channel_provider_service.update(session, ACTOR, provider.id, smtp_form(password="", from_name="Shop"))
    assert channel_provider_service.form_values(provider)[1]["password"] == "••••aple"
    channel_provider_service.update(
        session, ACTOR, provider.id, smtp_form(password="another-long-password", from_name="Shop")
    )
    changed = history(session, provider.id)[-1]
    assert changed.changes == {"password": ["••••", "••••"]}
    channel_provider_service.update(
        session,
        ACTOR,
        provider.id,
        smtp_form(password="", username="", from_name="Shop", clear__password="true"),
    )
    assert channel_provider_service.form_values(provider)[1]["password"] is None
    assert history(session, provider.id)[-1].changes["password"] == ["••••", None]


def test_invalid_settings_name_the_field_and_write_nothing(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        channel_provider_service.create(session, ACTOR, "email", "smtp", smtp_form(host="", port="many"))
    assert {e.field for e in caught.value.errors} == {"host", "port"}
    with pytest.raises(InvalidInput) as caught:
        channel_provider_service.create(
            session, ACTOR, "email", "smtp", smtp_form(from_address="not-an-address")
        )
    assert caught.value.errors[0].field == "from_address"
    session.rollback()
    assert session.scalars(select(ChannelProvider)).all() == []
    assert session.scalars(select(AuditEntry).where(AuditEntry.object_type == "channel_provider")).all() == []


def test_a_channel_sends_to_the_sandbox_until_a_provider_is_active(session: Session) -> None:
    default = sender_for(session, Channel.EMAIL)
    assert default.is_sandbox and default.provider_id is None
    first = channel_provider_service.create(session, ACTOR, "email", "smtp", smtp_form(name="First"))
    second = channel_provider_service.create(session, ACTOR, "email", "smtp", smtp_form(name="Second"))
    assert sender_for(session, Channel.EMAIL).is_sandbox  # new providers start inactive
    channel_provider_service.set_active(session, ACTOR, first.id, True)
    channel_provider_service.set_active(session, ACTOR, second.id, True)
    session.refresh(first)
    active = sender_for(session, Channel.EMAIL)
    assert not first.is_active and second.is_active
    assert active.provider_id == second.id and not active.is_sandbox and active.kind.kind == "smtp"
    assert sender_for(session, Channel.SMS).is_sandbox  # other channels are untouched
    with pytest.raises(Conflict):
        channel_provider_service.delete(session, ACTOR, second.id)
    channel_provider_service.set_active(session, ACTOR, second.id, False)
    assert sender_for(session, Channel.EMAIL).is_sandbox
    assert [e.changes for e in history(session, first.id)][-1] == {"is_active": [True, False]}


def test_the_sandbox_takes_everything_but_its_bounce_pattern() -> None:
    sandbox = SandboxSender(SandboxSettings())
    handovers: list[int] = []
    content = EmailContent("Hi", "<p>Hi</p>", "Hi")
    accepted = sandbox.send(
        OutgoingMessage(1, Channel.EMAIL, "anna@example.com", content), lambda: handovers.append(1)
    )
    assert accepted.delivered and accepted.provider_message_id and handovers == [1]
    with pytest.raises(PermanentError) as caught:
        sandbox.send(
            OutgoingMessage(2, Channel.EMAIL, "boris@bounce.example", content), lambda: handovers.append(2)
        )
    assert caught.value.invalid_contact and handovers == [1]
    refusing = SandboxSender(SandboxSettings(failure_percent=100))
    with pytest.raises(PermanentError):
        refusing.send(OutgoingMessage(3, Channel.EMAIL, "anna@example.com", content), lambda: None)


def test_a_test_send_goes_through_the_real_server_and_is_recorded(session: Session) -> None:
    with smtp_server() as server:
        provider = channel_provider_service.create(
            session, ACTOR, "email", "smtp", smtp_form(server.port, username="", password="")
        )
        outcome = channel_provider_service.test_send(session, ACTOR, provider.id, " Anna@Example.com ")
        received = server.recorder.messages
    assert outcome.accepted and outcome.provider_message_id == "Q00001"
    assert [m.rcpt_tos for m in received] == [["anna@example.com"]]
    assert history(session, provider.id)[-1].changes == {
        "recipient": [None, "anna@example.com"],
        "outcome": [None, "accepted"],
    }


def test_a_refused_test_send_shows_the_providers_words(session: Session) -> None:
    with smtp_server() as server:
        provider = channel_provider_service.create(
            session, ACTOR, "email", "smtp", smtp_form(server.port, username="", password="")
        )
        outcome = channel_provider_service.test_send(session, ACTOR, provider.id, "unknown@example.com")
    assert not outcome.accepted and outcome.invalid_contact and "User unknown" in (outcome.error or "")


def test_a_test_send_to_a_bad_address_is_refused_before_sending(session: Session) -> None:
    provider = channel_provider_service.create(session, ACTOR, "email", "smtp", smtp_form())
    before = len(history(session, provider.id))
    with pytest.raises(InvalidInput) as caught:
        channel_provider_service.test_send(session, ACTOR, provider.id, "nobody")
    assert caught.value.errors[0].field == "recipient"
    assert len(history(session, provider.id)) == before


def test_callbacks_are_read_with_the_stored_secret(session: Session) -> None:
    form = {
        "name": "Gateway",
        "url": "https://sms.example/send",
        "token": "t-1",
        "callback_secret": "cb-123456",
    }
    provider = channel_provider_service.create(session, ACTOR, "sms", "http", form)
    body = b'{"id": "P-1", "status": "delivered"}'
    updates = channel_provider_service.callback_updates(
        session, "sms", provider.id, CallbackRequest(body, {"x-callback-token": "cb-123456"})
    )
    assert [(u.provider_message_id, u.state) for u in updates] == [("P-1", DeliveryState.DELIVERED)]
    with pytest.raises(CallbackRefused):
        channel_provider_service.callback_updates(session, "sms", provider.id, CallbackRequest(body))
    with pytest.raises(NotFound):
        channel_provider_service.callback_updates(session, "viber", provider.id, CallbackRequest(body))


def test_secrets_sealed_with_another_secret_key_must_be_entered_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = channel_provider_service.create(session, ACTOR, "email", "smtp", smtp_form())
    monkeypatch.setitem(
        secrets.config.__dict__, "effective_secret_key", "a-different-secret-key-after-a-move"
    )
    with pytest.raises(Conflict):
        channel_provider_service.set_active(session, ACTOR, provider.id, True)
    assert channel_provider_service.form_values(provider)[1]["password"] is None
    channel_provider_service.update(session, ACTOR, provider.id, smtp_form(password="entered-again-password"))
    assert channel_provider_service.set_active(session, ACTOR, provider.id, True).is_active


def test_web_push_keys_are_generated_on_save(session: Session) -> None:
    provider = channel_provider_service.create(
        session, ACTOR, "push", "webpush", {"name": "Site", "vapid_subject": "mailto:admin@shop.example"}
    )
    assert provider.settings["vapid_private_key"].startswith(secrets.SEALED_PREFIX)
    assert channel_provider_service.form_values(provider)[1]["vapid_private_key"]
