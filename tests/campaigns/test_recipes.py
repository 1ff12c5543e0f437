"""Instant campaigns: each recipe makes a draft whose graph validates but for the nodes left to complete
(a promo-code group or a poll that does not exist); with them present, nothing is left; templates are made
in the user's language and reused; the gallery and "Use" as the roles see them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.campaigns.graph import Graph
from smartcomm.campaigns.recipes import RECIPES, instantiate, recipe_named, requirements
from smartcomm.campaigns.service import campaign_service
from smartcomm.kit.errors import NotFound
from smartcomm.models import Campaign, MessageTemplate, MessageTemplateVersion, Poll, PromoCodeGroup
from tests.campaigns.helpers import ACTOR
from tests.factories import make_user

# The nodes each recipe leaves to complete when there is no promo-code group and no poll at all.
LEFT_WITHOUT_GROUPS_AND_POLLS = {
    "welcome": {"promo"},
    "birthday": {"congratulate", "sms"},
    "abandoned_cart": set(),
    "lost_view": set(),
    "win_back": {"offer", "reminder"},
    "post_purchase_poll": {"poll_sms"},
    "promo_reminder": {"remind"},
}


def problems_of(session: Session, campaign: Campaign) -> list[tuple[str, str]]:
    graph = campaign_service.editable_version(session, campaign).graph
    return [(error.field, error.message) for error in campaign_service.check(session, graph).errors]


def add_groups_and_a_poll(session: Session) -> None:
    for code, name in (("WELCOME", "Welcome"), ("birthday", "День рождения"), ("WINBACK", "Come back")):
        session.add(PromoCodeGroup(code=code, name=name))
    session.add(Poll(code="POLL-7", name="After the purchase", questions=[]))
    session.flush()


@pytest.mark.parametrize("key", [recipe.key for recipe in RECIPES])
def test_each_recipe_makes_a_draft_that_validates_but_for_the_nodes_to_complete(
    session: Session, key: str
) -> None:
    campaign = instantiate(session, ACTOR, key, "en")

    problems = problems_of(session, campaign)

    assert campaign.status == "draft" and campaign.published_version_id is None
    assert {field.split(".")[1] for field, _ in problems} == LEFT_WITHOUT_GROUPS_AND_POLLS[key]
    assert {field.split(".", 2)[2] for field, _ in problems} <= {"settings.template_version_id"}
    recipe = recipe_named(key)
    assert campaign.trigger_kind == recipe.nodes[0].kind
    assert campaign.reentry_minutes == recipe.reentry_minutes


@pytest.mark.parametrize("key", [recipe.key for recipe in RECIPES])
def test_with_the_groups_and_a_poll_present_nothing_is_left_to_complete(session: Session, key: str) -> None:
    add_groups_and_a_poll(session)

    campaign = instantiate(session, ACTOR, key, "en")

    assert problems_of(session, campaign) == []
    assert all(each.found for each in requirements(session, recipe_named(key)))


def test_the_messages_are_written_in_the_users_language_and_name_the_group_found(session: Session) -> None:
    add_groups_and_a_poll(session)

    campaign = instantiate(session, ACTOR, "birthday", "ru")

    graph = Graph.of(campaign_service.editable_version(session, campaign).graph)
    email = session.get(MessageTemplateVersion, graph.nodes["congratulate"].settings["template_version_id"])
    sms = session.get(MessageTemplateVersion, graph.nodes["sms"].settings["template_version_id"])
    assert email is not None and sms is not None
    assert email.subject == "С днём рождения, {{ client.first_name }}! 🎁"
    assert "{{ client.promocode('birthday') }}" in (email.html or "")
    assert "{{ client.last_promocode('birthday') }}" in (sms.body or "")
    assert graph.nodes["status"].settings == {"email_node": "congratulate", "settle_hours": 24}
    assert [(e.source, e.output, e.target) for e in graph.edges][-2:] == [
        ("status", "undelivered", "sms"),
        ("status", "delivered", "sms"),
    ]


def test_using_a_recipe_again_reuses_its_templates(session: Session) -> None:
    first = instantiate(session, ACTOR, "abandoned_cart", "en")
    templates = session.scalar(select(func.count()).select_from(MessageTemplate))

    second = instantiate(session, ACTOR, "abandoned_cart", "en")

    assert second.id != first.id
    assert session.scalar(select(func.count()).select_from(MessageTemplate)) == templates == 2
    first_graph = campaign_service.editable_version(session, first).graph
    assert campaign_service.editable_version(session, second).graph == first_graph


def test_the_promo_code_reminder_filters_on_the_newest_group(session: Session) -> None:
    add_groups_and_a_poll(session)

    campaign = instantiate(session, ACTOR, "promo_reminder", "en")

    rules = (
        Graph.of(campaign_service.editable_version(session, campaign).graph).nodes["unused"].settings["rules"]
    )
    codes = {condition["params"].get("group") for condition in rules["root"]["children"]}
    assert codes == {"WINBACK"}  # made last: the newest


def test_a_recipe_that_does_not_exist_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        instantiate(session, ACTOR, "nope", "en")


# --- the pages --------------------------------------------------------------------------------------------


def sign_in_as(session: Session, client: TestClient, role: str) -> None:
    user, password = make_user(session, role=role)
    session.commit()
    client.sign_in(user.email, password)  # type: ignore[attr-defined]


def campaigns(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Campaign)) or 0)


def test_a_marketer_uses_a_recipe_and_is_sent_to_the_editor(session: Session, client: TestClient) -> None:
    sign_in_as(session, client, "marketer")

    page = client.get("/campaigns/gallery")
    used = client.submit("/campaigns/gallery/lost_view")  # type: ignore[attr-defined]

    assert page.status_code == 200 and page.text.count("data-recipe=") == len(RECIPES)
    assert used.status_code == 303
    made = session.scalars(select(Campaign).execution_options(populate_existing=True)).one()
    assert used.headers["location"] == f"/campaigns/{made.id}"
    assert made.name == "Lost view of a product"


def test_an_analyst_sees_the_gallery_but_may_not_use_it(session: Session, client: TestClient) -> None:
    sign_in_as(session, client, "analyst")

    page = client.get("/campaigns/gallery")
    refused = client.submit("/campaigns/gallery/welcome")  # type: ignore[attr-defined]

    assert page.status_code == 200 and "data-use=" not in page.text
    assert refused.status_code == 403
    assert campaigns(session) == 0


def test_an_unknown_recipe_is_404_and_writes_nothing(session: Session, client: TestClient) -> None:
    sign_in_as(session, client, "marketer")

    assert client.submit("/campaigns/gallery/nope").status_code == 404  # type: ignore[attr-defined]
    assert campaigns(session) == 0
