"""Mass messaging pages, server side: who may see, prepare and launch a mailing; a refused form shows its
errors next to the fields and writes nothing; the list's filters, order and pages; the header totals."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.mailings.schemas import MailingCreate
from smartcomm.mailings.service import mailing_service
from smartcomm.models import AttributedReceipt, AuditEntry, Mailing
from tests.attribution.helpers import make_message, make_receipt
from tests.conftest import UIClient
from tests.delivery.helpers import email_template, text_template
from tests.factories import make_user
from tests.mailings.helpers import audience_of, count_rows, customers
from tests.segments.shop import ACTOR

_names = itertools.count(1)


def sign_in_as(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role)
    session.commit()
    client.sign_in(user.email, password)
    return client


def history(session: Session, mailing_id: int) -> list[str]:
    statement = (
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "mailing", AuditEntry.object_id == str(mailing_id))
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(statement))


def draft(session: Session, channel: str = "email", **values: Any) -> Mailing:
    body = MailingCreate.model_validate({"channel": channel, "name": f"Mailing {next(_names)}"} | values)
    return mailing_service.create(session, ACTOR, body)


@pytest.fixture
def ready(session: Session) -> dict[str, Any]:
    """What a complete e-mail form posts: a template and an audience of three customers."""
    audience = audience_of(session, customers(session, 3))
    version = email_template(session)
    session.commit()
    return {
        "channel": "email",
        "name": "December sale",
        "template_version_id": str(version.id),
        "include_audience_ids[]": [str(audience.id)],
        "sender.name": "Shop",
        "sender.address": "news@shop.example",
        "control_mode": "percent",
        "control_percent": "10",
        "exclude_global_control": "true",
        "attribution_rule.window": "days",
        "attribution_rule.days": "7",
        "utm.utm_campaign": "december",
    }


def error_for(html: str, field: str) -> str:
    found = re.search(rf'data-error-for="{re.escape(field)}">([^<]*)<', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


# --- who may do what ------------------------------------------------------------------------------------


def test_an_analyst_sees_the_lists_and_a_mailing_but_prepares_nothing(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    mailing = draft(session, template_version_id=int(ready["template_version_id"]))
    session.commit()
    sign_in_as(client, session, "analyst")
    listed = client.get("/mailings/email")
    assert listed.status_code == 200
    assert f'data-mailing-id="{mailing.id}"' in listed.text
    assert 'id="new-mailing"' not in listed.text and 'data-action="delete"' not in listed.text
    page = client.get(f"/mailings/{mailing.id}")
    assert page.status_code == 200 and 'id="mailing-form"' not in page.text  # read-only
    assert client.get("/mailings/new?channel=email").status_code == 403

    before = count_rows(session, Mailing)
    assert client.submit("/mailings/new", ready).status_code == 403
    assert client.submit(f"/mailings/{mailing.id}/delete").status_code == 403
    assert count_rows(session, Mailing) == before
    assert client.get(f"/mailings/{mailing.id}/volume").json()["audience"] == 0


def test_a_marketer_saves_a_draft_but_cannot_launch_it(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    sign_in_as(client, session, "marketer")
    saved = client.submit("/mailings/new", ready)
    assert saved.status_code == 303, saved.text
    mailing = session.scalars(select(Mailing).where(Mailing.name == "December sale")).one()
    assert saved.headers["location"] == f"/mailings/{mailing.id}"
    assert (mailing.control_percent, mailing.sender) == (
        10.0,
        {"name": "Shop", "address": "news@shop.example"},
    )
    assert mailing.utm == {"utm_campaign": "december"}

    editor = client.get(f"/mailings/{mailing.id}")
    assert 'id="mailing-form"' in editor.text
    assert re.search(r'id="launch" disabled', editor.text) and 'id="launch-hint"' in editor.text

    refused = client.submit(f"/mailings/{mailing.id}/launch", ready | {"name": "Renamed"})
    assert refused.status_code == 403
    session.expire_all()
    assert (mailing.status, mailing.name) == ("draft", "December sale")  # nothing saved, nothing launched
    assert history(session, mailing.id) == ["create"]


def test_a_senior_marketer_saves_and_launches_in_one_step(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    sign_in_as(client, session, "senior_marketer")
    launched = client.submit("/mailings/new/launch", ready)
    assert launched.status_code == 303, launched.text
    mailing = session.scalars(select(Mailing).where(Mailing.name == "December sale")).one()
    session.expire_all()
    assert mailing.status == "sent"  # jobs run at once in tests
    assert history(session, mailing.id) == ["create", "launch"]
    page = client.get(f"/mailings/{mailing.id}")
    assert 'data-status="sent"' in page.text and 'id="mailing-form"' not in page.text
    assert 'id="resend"' in page.text
    progress = client.get(f"/mailings/progress?ids={mailing.id}").json()[str(mailing.id)]
    assert progress["status"] == "sent" and progress["percent"] == 100


def test_a_senior_marketer_pauses_resumes_and_cancels_a_mailing(client: UIClient, session: Session) -> None:
    mailing = draft(session)
    mailing.status, mailing.started_at = "sending", utcnow()
    session.commit()
    sign_in_as(client, session, "senior_marketer")
    assert client.submit(f"/mailings/{mailing.id}/pause", {"reason": "Wrong price"}).status_code == 303
    session.expire_all()
    assert (mailing.status, mailing.pause_reason) == ("paused", "Wrong price")
    assert "Wrong price" in client.get(f"/mailings/{mailing.id}").text
    client.submit(f"/mailings/{mailing.id}/resume")
    session.expire_all()
    assert mailing.status in ("collecting", "sending", "sent")
    client.submit(f"/mailings/{mailing.id}/cancel")
    session.expire_all()
    assert history(session, mailing.id)[1:3] == ["pause", "resume"]


# --- a refused form -------------------------------------------------------------------------------------


def test_a_bad_form_shows_the_error_by_its_field_and_writes_nothing(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    sign_in_as(client, session, "marketer")
    before = count_rows(session, Mailing)
    too_big = client.submit("/mailings/new", ready | {"control_percent": "80"})
    assert too_big.status_code == 422
    assert "50" in error_for(too_big.text, "control_percent")
    assert 'value="December sale"' in too_big.text  # what was typed stays

    bad_address = client.submit("/mailings/new", ready | {"sender.address": "not-an-address"})
    assert bad_address.status_code == 422
    error_for(bad_address.text, "sender.address")

    no_segment = client.submit("/mailings/new", ready | {"segment_id": "987654"})
    assert no_segment.status_code == 422
    error_for(no_segment.text, "segment_id")

    bad_time = client.submit("/mailings/new", ready | {"scheduled_at": "tomorrow"})
    assert bad_time.status_code == 422
    error_for(bad_time.text, "scheduled_at")
    assert count_rows(session, Mailing) == before


def test_a_refused_update_leaves_the_draft_as_it_was(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    mailing = draft(session, name="Keep me", control_percent=5)
    session.commit()
    sign_in_as(client, session, "marketer")
    refused = client.submit(f"/mailings/{mailing.id}", ready | {"name": "Changed", "lifetime_hours": "0"})
    assert refused.status_code == 422
    error_for(refused.text, "lifetime_hours")
    session.expire_all()
    assert (mailing.name, mailing.control_percent) == ("Keep me", 5.0)
    assert history(session, mailing.id) == ["create"]


def test_launching_a_draft_without_content_names_the_field_and_saves_nothing(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    sign_in_as(client, session, "senior_marketer")
    before = count_rows(session, Mailing)
    refused = client.submit("/mailings/new/launch", ready | {"template_version_id": ""})
    assert refused.status_code == 422
    error_for(refused.text, "template_version_id")
    assert count_rows(session, Mailing) == before


# --- the list -------------------------------------------------------------------------------------------


def test_the_list_filters_sorts_and_pages(client: UIClient, session: Session) -> None:
    start = utcnow() - timedelta(days=30)
    for number in range(12):
        mailing = draft(session, name=f"Promo {number:02d}")
        mailing.created_at = start + timedelta(days=number)
    sent = draft(session, name="Black Friday")
    sent.status = "sent"
    draft(session, "sms", name="SMS reminder")
    draft(session, "sms_viber", name="Viber reminder")
    session.commit()
    sign_in_as(client, session, "analyst")

    def names(url: str) -> list[str]:
        return re.findall(r'sc-mailing-name" title="([^"]+)"', client.get(url).text)

    assert len(names("/mailings/email?size=10")) == 10
    assert names("/mailings/email?size=10&page=2&sort=name") == ["Promo 09", "Promo 10", "Promo 11"]
    assert names("/mailings/email?sort=name&size=25")[:2] == ["Black Friday", "Promo 00"]
    assert names("/mailings/email?sort=-created&q=promo&size=25")[0] == "Promo 11"
    assert names("/mailings/email?status=sent") == ["Black Friday"]
    assert names("/mailings/email?q=FRIDAY") == ["Black Friday"]
    assert sorted(names("/mailings/sms")) == ["SMS reminder", "Viber reminder"]
    assert names("/mailings/push") == []
    assert len(names("/mailings/email?size=7")) == 13  # a size not offered falls back to 25


def test_the_header_totals_equal_the_attributed_receipts_of_the_channel(
    client: UIClient, session: Session
) -> None:
    buyer = customers(session, 1)[0]
    first, second, not_started = draft(session), draft(session), draft(session)
    sms = draft(session, "sms")
    for mailing in (first, second, sms):
        mailing.status, mailing.started_at = "sent", utcnow()

    def credit(mailing: Mailing, amount: str, credited: bool = True) -> None:
        message = make_message(session, buyer, mailing.channel, "mailing", mailing.id)
        receipt = make_receipt(session, buyer, utcnow(), total=amount)
        session.add(
            AttributedReceipt(
                receipt_id=receipt.id,
                message_id=message.id,
                customer_id=buyer.id,
                source_kind="mailing",
                source_id=mailing.id,
                channel=mailing.channel,
                touched_at=utcnow(),
                purchased_at=utcnow(),
                amount=Decimal(amount),
                credited=credited,
            )
        )

    credit(first, "100.00")
    credit(first, "20.00", credited=False)  # an earlier touch: the credit went elsewhere
    credit(second, "250.50")
    credit(sms, "999.00")
    session.commit()
    sign_in_as(client, session, "analyst")
    page = client.get("/mailings/email").text
    assert re.search(r'data-total="mailings">2<', page)
    assert re.search(r'data-total="receipts">2<', page)
    assert re.search(r'data-total="amount">350\.50', page)
    row = page.split(f'data-mailing-id="{first.id}"')[1].split("</tr>")[0]
    assert re.search(r'data-count="receipts">1<', row) and "100.00" in row
    assert not_started.id and re.search(r'data-total="receipts">1<', client.get("/mailings/sms").text)


def test_a_draft_is_copied_and_deleted_from_the_list(client: UIClient, session: Session) -> None:
    mailing_id = draft(session, name="Old news").id
    session.commit()
    sign_in_as(client, session, "marketer")
    copied = client.submit(f"/mailings/{mailing_id}/copy")
    assert copied.status_code == 303
    copy = session.scalars(select(Mailing).where(Mailing.name == "Old news (copy)")).one()
    copy_id = copy.id
    deleted = client.submit(f"/mailings/{mailing_id}/delete")
    assert deleted.headers["location"] == "/mailings/email"
    session.expire_all()
    assert session.get(Mailing, mailing_id) is None and session.get(Mailing, copy_id) is not None


def test_a_text_channel_editor_offers_its_own_templates(client: UIClient, session: Session) -> None:
    sms = text_template(session, "sms", "SMS body")
    viber = text_template(session, "viber", "Viber body")
    email = email_template(session)
    session.commit()
    sign_in_as(client, session, "marketer")
    page = client.get("/mailings/new?channel=sms_viber").text
    viber_leg = _select_options(page, "template_version_id")
    sms_leg = _select_options(page, "sms_template_version_id")
    assert str(viber.id) in viber_leg and str(sms.id) in sms_leg
    assert str(email.id) not in viber_leg | sms_leg
    assert client.get("/mailings/new?channel=fax").status_code == 404


def _select_options(page: str, name: str) -> set[str]:
    """The values offered by the form's <select name=...>, not any other field's."""
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select named {name}"
    return set(re.findall(r'<option value="([^"]*)"', found.group(1)))


def test_a_marketer_test_sends_a_draft_and_cannot_resend_a_mailing(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    mailing = draft(session, template_version_id=int(ready["template_version_id"]))
    session.commit()
    sign_in_as(client, session, "marketer")
    sent = client.submit(f"/mailings/{mailing.id}/test-send", {"recipient": "tester@example.com"})
    assert sent.status_code == 303
    assert "test_send" in history(session, mailing.id)
    bad = client.submit(f"/mailings/{mailing.id}/test-send", {"recipient": "x"})
    assert bad.status_code == 303 and history(session, mailing.id).count("test_send") == 1
    assert client.submit(f"/mailings/{mailing.id}/resend").status_code == 403
    assert client.submit(f"/mailings/{mailing.id}/pause").status_code == 403


def test_variants_an_auto_winner_and_an_attribution_rule_are_saved_from_the_form(
    client: UIClient, session: Session, ready: dict[str, Any]
) -> None:
    second = email_template(session, subject="Second subject")
    session.commit()
    sign_in_as(client, session, "marketer")
    form = ready | {
        "ab_enabled": "true",
        "variants[0].share": "50",
        "variants[1].template_version_id": str(second.id),
        "variants[1].subject": "Only today",
        "variants[1].share": "50",
        "ab_auto": "true",
        "ab_test.test_percent": "20",
        "ab_test.wait_hours": "6",
        "ab_test.metric": "clicks",
        "control_strata[]": ["gender", "city"],
        "attribution_rule.criteria.min_amount": "500",
        "attribution_rule.criteria.skus": "A-1, B-2",
    }
    assert client.submit("/mailings/new", form).status_code == 303
    mailing = session.scalars(select(Mailing).where(Mailing.name == "December sale")).one()
    assert [v.get("share") for v in mailing.variants] == [50.0, 50.0]
    assert mailing.variants[1]["subject"] == "Only today"
    assert mailing.ab_test == {"test_percent": 20.0, "wait_hours": 6, "metric": "clicks"}
    assert mailing.control_strata == ["gender", "city"]
    assert mailing.attribution_rule is not None
    assert mailing.attribution_rule["days"] == 7
    assert mailing.attribution_rule["criteria"]["skus"] == ["A-1", "B-2"]
    page = client.get(f"/mailings/{mailing.id}").text
    assert 'value="Only today"' in page and 'name="variants[1].share"' in page
