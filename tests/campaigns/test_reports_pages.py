"""The campaign report page and the profile's "Campaigns" card, as the roles that use them see them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, Customer
from tests.campaigns.helpers import active_campaign, buy, edge, graph, node
from tests.campaigns.report_helpers import hits_written_inline, message_of, open_email
from tests.delivery.helpers import email_template, make_customer
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("hits_written_inline")
__all__ = ["hits_written_inline"]
HTMX = {"HX-Request": "true"}


def run_campaign(session: Session, client) -> tuple[Campaign, Customer]:  # type: ignore[no-untyped-def]
    template = email_template(session).id
    body = graph(
        [node("t", "trigger.cheque_issued"), node("e", "action.send_email", template_version_id=template)],
        [edge("t", "e")],
    )
    campaign = active_campaign(session, body, name="Thank you")
    customer = make_customer(session)
    buy(session, customer, when=utcnow() - timedelta(hours=1))
    open_email(client, message_of(session, campaign, customer))
    buy(session, customer, "250.00", utcnow() + timedelta(hours=1))
    return campaign, customer


def sign_in_as(session: Session, client, role: str) -> None:  # type: ignore[no-untyped-def]
    user, password = make_user(session, role=role)
    session.commit()
    client.sign_in(user.email, password)


@pytest.mark.parametrize("role", ["analyst", "marketer"])
def test_the_report_shows_the_cards_the_funnel_and_the_orders(session: Session, client, role: str) -> None:
    campaign, _ = run_campaign(session, client)
    sign_in_as(session, client, role)

    page = client.get(f"/campaigns/{campaign.id}/report")

    assert page.status_code == 200, page.text
    assert 'data-card="entered"' in page.text and 'data-card="orders"' in page.text
    assert 'data-node="t"' in page.text and 'data-node="e"' in page.text
    assert 'id="report-days-chart"' in page.text  # an order was credited: its chart is drawn
    assert 'id="opens-chart-canvas"' in page.text


def test_the_report_of_one_node_says_so_and_bad_input_gets_422(session: Session, client) -> None:
    campaign, _ = run_campaign(session, client)
    sign_in_as(session, client, "analyst")

    one = client.get(f"/campaigns/{campaign.id}/report", params={"node": "e", "date_from": "", "date_to": ""})
    unknown = client.get(f"/campaigns/{campaign.id}/report", params={"node": "nowhere"})
    bad_day = client.get(f"/campaigns/{campaign.id}/report", params={"date_from": "tomorrow"})

    assert one.status_code == 200 and 'id="node-banner"' in one.text
    assert unknown.status_code == 422 and bad_day.status_code == 422
    assert "date_from" in bad_day.text


def test_an_operator_cannot_open_the_report_but_sees_the_customers_campaigns(
    session: Session, client
) -> None:
    campaign, customer = run_campaign(session, client)
    sign_in_as(session, client, "operator")

    report = client.get(f"/campaigns/{campaign.id}/report")
    card = client.get(f"/customers/{customer.id}/campaigns", headers=HTMX)

    assert report.status_code == 403
    assert card.status_code == 200 and "Thank you" in card.text
    assert "data-campaign-link" not in card.text  # the campaign's pages are not theirs to open


def test_the_profile_card_links_each_journey_to_its_campaign(session: Session, client) -> None:
    campaign, customer = run_campaign(session, client)
    sign_in_as(session, client, "marketer")

    card = client.get(f"/customers/{customer.id}/campaigns", headers=HTMX)
    profile = client.get(f"/customers/{customer.id}")
    plain = client.get(f"/customers/{customer.id}/campaigns")

    assert f'href="/campaigns/{campaign.id}"' in card.text and 'data-status="done"' in card.text
    assert f'hx-get="/customers/{customer.id}/campaigns"' in profile.text
    assert plain.status_code == 303  # not a page of its own
