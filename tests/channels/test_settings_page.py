"""Settings → Channels over HTTP as an administrator: forms from the schemas, masked secrets, refusals."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, ChannelProvider
from tests.channels.smtp_server import smtp_server
from tests.conftest import UIClient
from tests.factories import make_user

SECRET = "s3cret-relay-password-2026"


def smtp_fields(server_port: int, **values: str) -> dict[str, str]:
    return {
        "channel": "email",
        "kind": "smtp",
        "name": "Office relay",
        "host": "127.0.0.1",
        "port": str(server_port),
        "security": "none",
        "username": "",
        "password": "",
        "verify_certificate": "true",
        "from_address": "news@shop.example",
    } | values


def test_the_overview_shows_every_channel_on_the_sandbox(admin_client: UIClient) -> None:
    page = admin_client.get("/settings/channels")
    assert page.status_code == 200
    for channel in ("email", "sms", "viber", "push"):
        assert f'id="channel-{channel}"' in page.text
    assert page.text.count('data-active="sandbox"') == 4
    assert 'href="/settings/channels/new?channel=sms&amp;kind=smpp"' in page.text
    assert 'name="viber_timeout_minutes" value="180"' in page.text


def test_a_provider_is_created_from_its_form_and_its_secret_is_never_shown(
    admin_client: UIClient, session: Session
) -> None:
    form = admin_client.get("/settings/channels/new?channel=email&kind=smtp")
    assert form.status_code == 200 and 'name="dkim_private_key"' in form.text and 'value="587"' in form.text
    created = admin_client.submit("/settings/channels", smtp_fields(2525, username="shop", password=SECRET))
    assert created.status_code == 303
    provider = session.scalars(select(ChannelProvider)).one()
    page = admin_client.get(created.headers["location"])
    assert SECRET not in page.text and "••••2026" in page.text
    assert provider.name == "Office relay" and not provider.is_active
    assert 'id="test-send"' in page.text


def test_a_form_with_errors_names_the_fields_and_writes_nothing(
    admin_client: UIClient, session: Session
) -> None:
    refused = admin_client.submit("/settings/channels", smtp_fields(2525, host="", port="lots"))
    assert refused.status_code == 422
    assert 'data-error-for="host">This field is required.' in refused.text
    assert 'data-error-for="port">Enter a whole number.' in refused.text
    assert 'value="Office relay"' in refused.text  # what was typed stays
    assert session.scalars(select(ChannelProvider)).all() == []
    assert session.scalars(select(AuditEntry).where(AuditEntry.object_type == "channel_provider")).all() == []


def test_a_test_send_shows_the_outcome_in_the_card(admin_client: UIClient, session: Session) -> None:
    with smtp_server() as server:
        created = admin_client.submit("/settings/channels", smtp_fields(server.port))
        url = created.headers["location"]
        headers = {"HX-Request": "true", "HX-Target": "test-send"}
        sent = admin_client.submit(f"{url}/test", {"recipient": "anna@example.com"}, headers=headers)
        refused = admin_client.submit(f"{url}/test", {"recipient": "unknown@example.com"}, headers=headers)
        invalid = admin_client.submit(f"{url}/test", {"recipient": "anna"}, headers=headers)
        received = server.recorder.messages
    assert sent.status_code == 200 and 'data-outcome="accepted"' in sent.text and "Q00001" in sent.text
    assert 'data-outcome="failed"' in refused.text and "User unknown" in refused.text
    assert invalid.status_code == 422 and 'data-error-for="recipient"' in invalid.text
    assert [m.rcpt_tos for m in received] == [["anna@example.com"]]


def test_activation_switches_the_channel_and_the_active_one_cannot_be_deleted(
    admin_client: UIClient, session: Session
) -> None:
    url = admin_client.submit("/settings/channels", smtp_fields(2525)).headers["location"]
    assert admin_client.submit(f"{url}/active", {"active": "true"}).status_code == 303
    overview = admin_client.get("/settings/channels")
    provider = session.scalars(select(ChannelProvider)).one()
    assert f'data-active="{provider.id}"' in overview.text
    admin_client.submit(f"{url}/delete")
    session.expire_all()
    assert session.scalars(select(ChannelProvider)).one().is_active
    admin_client.submit(f"{url}/active", {"active": "false"})
    assert admin_client.submit(f"{url}/delete").status_code == 303
    assert session.scalars(select(ChannelProvider)).all() == []


def test_the_cascade_timeout_is_saved_and_checked(admin_client: UIClient) -> None:
    assert (
        admin_client.submit("/settings/channels/cascade", {"viber_timeout_minutes": "90"}).status_code == 303
    )
    assert 'name="viber_timeout_minutes" value="90"' in admin_client.get("/settings/channels").text
    refused = admin_client.submit("/settings/channels/cascade", {"viber_timeout_minutes": "0"})
    assert refused.status_code == 422
    assert 'data-error-for="viber_timeout_minutes">Enter a number of minutes from 1 to 10080' in refused.text


def test_the_page_speaks_russian(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="administrator", language="ru")
    client.sign_in(user.email, password)
    page = client.get("/settings/channels")
    assert "Каналы" in page.text and "Песочница" in page.text and "Добавить провайдера" in page.text
    form = client.get("/settings/channels/new?channel=sms&kind=http")
    assert "Адрес метода отправки" in form.text and "Уведомления о статусе доставки" in form.text


def test_other_roles_cannot_open_the_page(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="marketer")
    client.sign_in(user.email, password)
    assert client.get("/settings/channels").status_code == 403
