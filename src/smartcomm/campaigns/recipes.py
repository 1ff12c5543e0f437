"""Instant campaigns: ready-made campaigns a marketer starts from, and the function that makes one.

A recipe is data: its title and description, its graph (nodes with their settings, and the connections),
and the messages its send nodes need, written in English and Russian (`recipe_messages`). Using a recipe
makes a draft campaign with that graph: each message becomes a template in the user's language (one of
that name is reused), a promo-code macro names the group of a matching name when one exists, a poll link
the newest open poll. A node whose message needs a group or a poll there is none of is left without its
template, so the editor shows it as the thing to complete. Nothing is activated: the campaign is a draft
to adjust.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.campaigns.recipe_messages import (
    BIRTHDAY_EMAIL,
    BIRTHDAY_SMS,
    CART_EMAIL,
    CART_SMS,
    CODE_REMINDER,
    COME_BACK,
    FIRST_PURCHASE,
    HELLO,
    POLL_SMS,
    WINBACK_OFFER,
    WINBACK_REMINDER,
    Message,
    Text,
)
from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import campaign_service
from smartcomm.kit import i18n
from smartcomm.kit.errors import NotFound
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.pagination import PageParams
from smartcomm.models import Campaign
from smartcomm.personalization.schemas import TemplateCreate
from smartcomm.personalization.service import template_service
from smartcomm.polls.service import poll_service
from smartcomm.promocodes.service import promocode_service

# The editor's canvas: where the first node stands and how far apart columns and rows are.
CANVAS_LEFT, CANVAS_TOP, COLUMN, ROW = 60, 80, 340, 170
NO_PURCHASES = {"root": {"children": [{"metric": "purchases.count", "operator": "eq", "value": 0}]}}
REGULARS = {"root": {"children": [{"metric": "purchases.count", "operator": "gte", "value": 2}]}}
STILL_ASLEEP = {
    "root": {"children": [{"metric": "purchases.days_since_last", "operator": "gte", "value": 97}]}
}
WEEK = 7 * 24 * 60  # minutes
MONTH = 30 * 24 * 60


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    message: Message | None = None
    template_field: str = "template_version_id"  # the setting the message's template goes into


@dataclass(frozen=True)
class Recipe:
    key: str
    title: LazyString
    description: LazyString
    icon: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str, str], ...]  # (source, output, target)
    reentry_minutes: int | None = None
    exit_rules: tuple[dict[str, str], ...] = ()
    needs: str | None = None  # a module of the product it needs ("tracker")

    def graph(self) -> dict[str, Any]:
        """The recipe's graph as the editor stores it, laid out left to right."""
        places = layout(self.nodes, self.edges)
        return {
            "nodes": [
                {"id": n.id, "kind": n.kind, "settings": dict(n.settings), "x": x, "y": y}
                for n in self.nodes
                for x, y in [_on_canvas(places[n.id])]
            ],
            "edges": [{"source": s, "output": o, "target": t} for s, o, t in self.edges],
        }


def layout(nodes: tuple[Node, ...], edges: tuple[tuple[str, str, str], ...]) -> dict[str, tuple[int, int]]:
    """(column, row) of each node: its distance from the trigger, and its place among that column's."""
    following: dict[str, list[str]] = {}
    for source, _, target in edges:
        following.setdefault(source, []).append(target)
    column: dict[str, int] = {nodes[0].id: 0}
    pending = deque([nodes[0].id])
    while pending:
        current = pending.popleft()
        for target in following.get(current, []):
            if target not in column:
                column[target] = column[current] + 1
                pending.append(target)
    rows: dict[int, int] = {}
    places = {}
    for node in nodes:
        where = column.get(node.id, 0)
        places[node.id] = (where, rows.get(where, 0))
        rows[where] = rows.get(where, 0) + 1
    return places


def _on_canvas(place: tuple[int, int]) -> tuple[int, int]:
    return CANVAS_LEFT + place[0] * COLUMN, CANVAS_TOP + place[1] * ROW


# --- the recipes ---------------------------------------------------------------------------------------


def _chain(*ids: str) -> tuple[tuple[str, str, str], ...]:
    """Connections one after another by the plain output."""
    return tuple((source, "out", target) for source, target in pairwise(ids))


WELCOME = Recipe(
    key="welcome",
    title=lazy("Welcome series"),
    description=lazy(
        "Greets every new customer, and three days later sends a promo code to those who have not bought yet."
    ),
    icon="ti-hand-stop",
    nodes=(
        Node("registered", "trigger.customer_registered"),
        Node("hello", "action.send_email", message=HELLO),
        Node("wait", "action.wait", {"amount": 3, "unit": "days"}),
        Node("no_purchase", "action.filter", {"rules": NO_PURCHASES}),
        Node("promo", "action.send_email", message=FIRST_PURCHASE),
    ),
    edges=(*_chain("registered", "hello", "wait", "no_purchase"), ("no_purchase", "yes", "promo")),
)
BIRTHDAY = Recipe(
    key="birthday",
    title=lazy("Birthday with a promo code"),
    description=lazy(
        "On the birthday at 10:00 an e-mail with a gift promo code; whoever has not read it a day later gets "
        "it by SMS."
    ),
    icon="ti-cake",
    nodes=(
        Node(
            "birthday", "trigger.anniversary", {"base": "birthday", "every": 1, "unit": "years", "hour": 10}
        ),
        Node("congratulate", "action.send_email", message=BIRTHDAY_EMAIL),
        Node("wait", "action.wait", {"amount": 1, "unit": "days"}),
        Node("status", "action.check_email_status", {"email_node": "congratulate", "settle_hours": 24}),
        Node("sms", "action.send_sms", message=BIRTHDAY_SMS),
    ),
    edges=(
        *_chain("birthday", "congratulate", "wait", "status"),
        ("status", "undelivered", "sms"),
        ("status", "delivered", "sms"),
    ),
    reentry_minutes=300 * 24 * 60,
)
ABANDONED_CART = Recipe(
    key="abandoned_cart",
    title=lazy("Abandoned cart"),
    description=lazy(
        "Reminds of the products left in the cart on the site by e-mail, and by SMS a day later if the "
        "e-mail was not read; an order ends it."
    ),
    icon="ti-shopping-cart-exclamation",
    nodes=(
        Node("lost_cart", "trigger.lost_cart"),
        Node("cart_email", "action.send_email", message=CART_EMAIL),
        Node("wait", "action.wait", {"amount": 1, "unit": "days"}),
        Node("status", "action.check_email_status", {"email_node": "cart_email", "settle_hours": 24}),
        Node("cart_sms", "action.send_sms", message=CART_SMS),
    ),
    edges=(
        *_chain("lost_cart", "cart_email", "wait", "status"),
        ("status", "undelivered", "cart_sms"),
        ("status", "delivered", "cart_sms"),
    ),
    reentry_minutes=24 * 60,
    exit_rules=({"kind": "order"}, {"kind": "site_order"}),
    needs="tracker",
)
LOST_VIEW = Recipe(
    key="lost_view",
    title=lazy("Lost view of a product"),
    description=lazy(
        "Two hours after a customer looked at a product on the site without adding it to the cart, an e-mail "
        "invites them back."
    ),
    icon="ti-eye-search",
    nodes=(
        Node("viewed", "trigger.lost_product_view", {"amount": 2, "unit": "hours"}),
        Node("come_back", "action.send_email", message=COME_BACK),
    ),
    edges=_chain("viewed", "come_back"),
    reentry_minutes=WEEK,
    exit_rules=({"kind": "site_order"},),
    needs="tracker",
)
WIN_BACK = Recipe(
    key="win_back",
    title=lazy("Win back sleeping customers"),
    description=lazy(
        "Ninety days after the last receipt, regular customers get a promo code; a week later, whoever still "
        "has not bought gets a reminder."
    ),
    icon="ti-zzz",
    nodes=(
        Node("asleep", "trigger.days_since_receipt", {"days": 90, "hour": 11}),
        Node("regulars", "action.filter", {"rules": REGULARS}),
        Node("offer", "action.send_email", message=WINBACK_OFFER),
        Node("wait", "action.wait", {"amount": 7, "unit": "days"}),
        Node("still_asleep", "action.filter", {"rules": STILL_ASLEEP}),
        Node("reminder", "action.send_email", message=WINBACK_REMINDER),
    ),
    edges=(
        ("asleep", "out", "regulars"),
        ("regulars", "yes", "offer"),
        *_chain("offer", "wait", "still_asleep"),
        ("still_asleep", "yes", "reminder"),
    ),
    reentry_minutes=180 * 24 * 60,
    exit_rules=({"kind": "receipt"},),
)
POST_PURCHASE_POLL = Recipe(
    key="post_purchase_poll",
    title=lazy("Post-purchase poll"),
    description=lazy(
        "Two days after a purchase, an SMS asks the customer how it went, with a link to the poll."
    ),
    icon="ti-checklist",
    nodes=(
        Node("bought", "trigger.cheque_issued"),
        Node("wait", "action.wait", {"amount": 2, "unit": "days"}),
        Node("poll_sms", "action.send_sms", message=POLL_SMS),
    ),
    edges=_chain("bought", "wait", "poll_sms"),
    reentry_minutes=MONTH,
)
PROMO_REMINDER = Recipe(
    key="promo_reminder",
    title=lazy("Promo-code reminder"),
    description=lazy(
        "Every Monday at 11:00, customers who were issued a promo code in the last two weeks and have not "
        "used it get a reminder."
    ),
    icon="ti-ticket",
    nodes=(
        Node("monday", "trigger.repeat_date", {"frequency": "weekly", "weekdays": [1], "hour": 11}),
        Node("unused", "action.filter"),  # its rules name the group found (`_unused_code`)
        Node("remind", "action.send_email", message=CODE_REMINDER),
    ),
    edges=(("monday", "out", "unused"), ("unused", "yes", "remind")),
    reentry_minutes=6 * 24 * 60,
)
RECIPES: tuple[Recipe, ...] = (
    WELCOME,
    BIRTHDAY,
    ABANDONED_CART,
    LOST_VIEW,
    WIN_BACK,
    POST_PURCHASE_POLL,
    PROMO_REMINDER,
)
BY_KEY = {recipe.key: recipe for recipe in RECIPES}


def recipe_named(key: str) -> Recipe:
    found = BY_KEY.get(key)
    if found is None:
        raise NotFound("Recipe", key)
    return found


@dataclass(frozen=True)
class Requirement:
    """Something a recipe's messages name: a promo-code group (`name`: its code, or "" for any) or a poll;
    `found` is what there is of it (the group's code, the poll's code), None when nothing is."""

    kind: str  # group | poll
    name: str
    found: str | None


def requirements(session: Session, recipe: Recipe) -> list[Requirement]:
    """The promo-code groups and polls the recipe's messages need, and whether they exist."""
    found, wanted = _Finder(session), []
    for message in (node.message for node in recipe.nodes if node.message is not None):
        if message.group:
            name = "" if message.group == ("*",) else message.group[0]
            wanted.append(Requirement("group", name, found.group(message.group)))
        if message.poll:
            wanted.append(Requirement("poll", "", found.poll()))
    return list(dict.fromkeys(wanted))


# --- making a campaign of a recipe ------------------------------------------------------------------------


def instantiate(session: Session, actor: Actor, key: str, language: str) -> Campaign:
    """A draft campaign made of the recipe, its messages' templates in `language` (made, or reused by
    name); nodes that need a promo-code group or a poll there is none of are left to complete."""
    recipe = recipe_named(key)
    found = _Finder(session)
    graph = recipe.graph()
    settings = {node["id"]: node["settings"] for node in graph["nodes"]}
    for node in recipe.nodes:
        if node.message is not None:
            version_id = _template(session, actor, node.message, language, found)
            if version_id is not None:
                settings[node.id][node.template_field] = version_id
    if recipe is PROMO_REMINDER:
        settings["unused"]["rules"] = _unused_code(found.group(("*",)))
    with i18n.language(language):
        data = CampaignIn(
            name=str(recipe.title),
            description=str(recipe.description),
            reentry_minutes=recipe.reentry_minutes,
            exit_rules=[dict(rule) for rule in recipe.exit_rules],
        )
    return campaign_service.create(session, actor, data, graph)


def _template(session: Session, actor: Actor, message: Message, language: str, found: _Finder) -> int | None:
    """The template version the node sends: the one of the message's name, else a new one; None when the
    message needs a promo-code group or a poll that does not exist."""
    group = found.group(message.group) if message.group else None
    poll = found.poll() if message.poll else None
    if (message.group and group is None) or (message.poll and poll is None):
        return None
    name = _in(message.name, language)
    existing = found.template(message.channel, name)
    if existing is not None:
        return existing
    content = {"channel": message.channel, **_content(message, language, group or "", poll or "")}
    _, version = template_service.create(
        session, actor, TemplateCreate.model_validate({"name": name, "content": content})
    )
    return version.id


def _content(message: Message, language: str, group: str, poll: str) -> dict[str, str]:
    def filled(text: Text) -> str:
        return _in(text, language).replace("{group}", group).replace("{poll}", poll)

    if message.channel == "email":
        return {"editor": "html", "subject": filled(message.subject), "html": filled(message.body)}
    return {"text": filled(message.body)}


def _in(text: Text, language: str) -> str:
    return text.get(language) or text["en"]


def _unused_code(group: str | None) -> dict[str, Any]:
    """A code issued in the last two weeks and none redeemed since (of the group, when there is one)."""
    params: dict[str, Any] = {"period": {"kind": "last", "n": 14, "unit": "days"}}
    if group is not None:
        params["group"] = group
    issued = {"metric": "promocodes.issued_count", "operator": "gte", "value": 1, "params": params}
    redeemed = {"metric": "promocodes.redeemed", "operator": "is_false", "params": params}
    return {"root": {"children": [issued, redeemed]}}


class _Finder:
    """What a recipe's messages name, looked up once each: promo-code groups, the newest open poll, the
    templates made from recipes before."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._groups: list[Any] | None = None

    def group(self, candidates: tuple[str, ...]) -> str | None:
        """The code of the group whose code or name is one of the candidates ("*": the newest group);
        blocked groups issue nothing and are passed over."""
        if self._groups is None:
            self._groups = [g for g in promocode_service.groups(self.session) if not g.blocked]
        if candidates == ("*",):
            return self._groups[0].code if self._groups else None
        wanted = {candidate.casefold() for candidate in candidates}
        match = next((g for g in self._groups if {g.code.casefold(), g.name.casefold()} & wanted), None)
        return match.code if match is not None else None

    def poll(self) -> str | None:
        rows, _ = poll_service.search(self.session, None, 1, 50)
        return next((row.poll.code for row in rows if row.poll.code and not row.poll.closed), None)

    def template(self, channel: str, name: str) -> int | None:
        page = template_service.search(self.session, channel, PageParams(page=1, size=50), name)
        for row in page.items:
            if row.template.name.casefold() == name.casefold() and row.latest is not None:
                return row.latest.id
        return None
