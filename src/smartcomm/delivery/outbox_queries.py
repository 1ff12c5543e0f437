"""The reads behind the Outbox and a customer's Communications: lists of messages with what a row shows,
one message with its content and history. Each page is a fixed number of queries, however many
messages it shows (the excerpt is read out of the stored content by the database, not loaded whole)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, select
from sqlalchemy.orm import Session

from smartcomm.channels.base import Content
from smartcomm.delivery.ledger import Source, Status, issue_key_of
from smartcomm.delivery.schemas import InlineSource, content_from_json
from smartcomm.delivery.tokens import message_links
from smartcomm.kit.errors import NotFound
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.models import (
    Customer,
    MailingCategory,
    Message,
    MessageContent,
    MessageEvent,
    MessageTemplate,
    MessageTemplateVersion,
)
from smartcomm.personalization.context import context_builder
from smartcomm.personalization.errors import RenderError
from smartcomm.personalization.renderer import VersionSource, compile_version, render_compiled, renderer
from smartcomm.personalization.sample import sample_customer_context

CHANNELS = ("email", "sms", "viber", "push")
STATUSES = tuple(status.value for status in Status)
SOURCES = tuple(source.value for source in Source)
EXCERPT_LENGTH = 160
# The Outbox counts matching messages up to this many and then says "more than": an exact count of a
# ledger of tens of millions would cost seconds on every page.
COUNT_CAP = 100_000
ENGAGEMENT = ("opens", "clicks", "machine_opens", "machine_clicks")


@dataclass(frozen=True)
class OutboxFilter:
    """What the Outbox list is narrowed to; values it does not know are ignored."""

    channel: str = ""
    status: str = ""
    source: str = ""
    q: str = ""
    customer_id: int | None = None

    @classmethod
    def of(cls, channel: str = "", status: str = "", source: str = "", q: str = "") -> OutboxFilter:
        return cls(
            channel if channel in CHANNELS else "",
            status if status in STATUSES else "",
            source if source in SOURCES else "",
            q.strip()[:254],
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.channel:
            found.append(Message.channel == self.channel)
        if self.status:
            found.append(Message.status == self.status)
        if self.source:
            found.append(Message.source_kind == self.source)
        if self.q:
            found.append(Message.recipient.ilike(f"{_escaped(self.q)}%", escape="\\"))
        if self.customer_id is not None:
            found.append(Message.customer_id == self.customer_id)
        return found


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class MessageRow:
    """A message as a list shows it."""

    message: Message
    customer_name: str | None
    excerpt: str | None
    template_name: str | None


@dataclass
class MessageView:
    """One message with everything its page shows."""

    message: Message
    customer: Customer | None
    content: dict[str, Any] | None
    headers: dict[str, Any]
    history: list[MessageEvent]
    template_name: str | None
    category_name: str | None
    legs: list[Message] = field(default_factory=list)  # the other leg(s) of a Viber → SMS cascade


def _excerpt() -> ColumnElement[Any]:
    """The subject of an e-mail, the title of a push or the text of an SMS or Viber message."""
    content = MessageContent.content
    parts = (content["subject"], content["title"], content["text"])
    return func.substr(func.coalesce(*(part.as_string() for part in parts)), 1, EXCERPT_LENGTH)


def _name() -> ColumnElement[Any]:
    full = func.trim(func.coalesce(Customer.last_name, "") + " " + func.coalesce(Customer.first_name, ""))
    return func.coalesce(func.nullif(full, ""), cast(Customer.external_id, String))


class OutboxQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page(self, wanted: OutboxFilter, params: PageParams) -> Page[MessageRow]:
        """Messages, newest first, with the customer's name and an excerpt: two queries."""
        conditions = wanted.conditions()
        statement = self._rows().where(*conditions).order_by(Message.id.desc())
        rows = self.session.execute(statement.limit(params.size).offset(params.offset))
        items = [MessageRow(message, name, excerpt, template) for message, name, excerpt, template in rows]
        total = self._capped_count(conditions)
        more = total > COUNT_CAP
        return Page(items, min(total, COUNT_CAP), params.page, params.size, more=more)

    def _capped_count(self, conditions: Sequence[ColumnElement[bool]]) -> int:
        """The number of matching messages, counted no further than one past COUNT_CAP."""
        matching = select(Message.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        return int(self.session.scalar(select(func.count()).select_from(matching)) or 0)

    def counts(self, customer_id: int) -> dict[str, int]:
        """A customer's messages by status, and their opens and clicks by people and by machines."""
        statement = (
            select(
                Message.status,
                func.count(),
                func.sum(Message.opens),
                func.sum(Message.clicks),
                func.sum(Message.machine_opens),
                func.sum(Message.machine_clicks),
            )
            .where(Message.customer_id == customer_id)
            .group_by(Message.status)
        )
        found: dict[str, int] = dict.fromkeys(ENGAGEMENT, 0)
        for status, count, *engagement in self.session.execute(statement):
            found[status] = int(count)
            for name, value in zip(ENGAGEMENT, engagement, strict=True):
                found[name] += int(value or 0)
        return found

    def histories(self, message_ids: Sequence[int]) -> dict[int, list[MessageEvent]]:
        """The history of each of these messages (one query for a whole page)."""
        found: dict[int, list[MessageEvent]] = {message_id: [] for message_id in message_ids}
        if not message_ids:
            return found
        statement = (
            select(MessageEvent)
            .where(MessageEvent.message_id.in_(list(message_ids)))
            .order_by(MessageEvent.id)
        )
        for event in self.session.scalars(statement):
            found[event.message_id].append(event)
        return found

    def view(self, message_id: int) -> MessageView:
        message = self.session.get(Message, message_id)
        if message is None:
            raise NotFound("Message", message_id)
        stored = self.session.get(MessageContent, message.id)
        history = list(
            self.session.scalars(
                select(MessageEvent).where(MessageEvent.message_id == message.id).order_by(MessageEvent.id)
            )
        )
        return MessageView(
            message=message,
            customer=self.session.get(Customer, message.customer_id) if message.customer_id else None,
            content=stored.content if stored is not None else None,
            headers=dict(stored.headers or {}) if stored is not None else {},
            history=history,
            template_name=self._template_name(message.template_version_id),
            category_name=self._category_name(message.category_id),
            legs=self._legs(message),
        )

    def _rows(self) -> Select[Any]:
        return (
            select(Message, _name(), _excerpt(), MessageTemplate.name)
            .outerjoin(Customer, Customer.id == Message.customer_id)
            .outerjoin(MessageContent, MessageContent.message_id == Message.id)
            .outerjoin(MessageTemplateVersion, MessageTemplateVersion.id == Message.template_version_id)
            .outerjoin(MessageTemplate, MessageTemplate.id == MessageTemplateVersion.template_id)
        )

    def _template_name(self, version_id: int | None) -> str | None:
        if version_id is None:
            return None
        statement = (
            select(MessageTemplate.name)
            .join(MessageTemplateVersion, MessageTemplateVersion.template_id == MessageTemplate.id)
            .where(MessageTemplateVersion.id == version_id)
        )
        return self.session.scalar(statement)

    def _category_name(self, category_id: int | None) -> str | None:
        if category_id is None:
            return None
        return self.session.scalar(select(MailingCategory.name).where(MailingCategory.id == category_id))

    def _legs(self, message: Message) -> list[Message]:
        """A cascade's other leg: the Viber message an SMS follows, or the SMS that follows a Viber one."""
        condition = (
            Message.id == message.cascade_of
            if message.cascade_of is not None
            else and_(Message.cascade_of == message.id, Message.cascade_of.is_not(None))
        )
        return list(self.session.scalars(select(Message).where(condition).order_by(Message.id)))


def latest_time(message: Message) -> datetime:
    """The time of the message's latest milestone (what a list shows beside its status)."""
    moments = (
        message.clicked_at,
        message.opened_at,
        message.delivered_at,
        message.sent_at,
        message.failed_at,
    )
    return max((moment for moment in moments if moment is not None), default=message.created_at)


def shown_content(session: Session, view: MessageView) -> Content | None:
    """What the message says: the content the ledger kept, else its template rendered again for the same
    customer (deterministic), without the tracked links, so looking at it never counts as an open or a
    click. None when there is nothing to show (its template was deleted, or it no longer renders)."""
    if view.content:
        return content_from_json(view.content)
    message = view.message
    stored = session.get(MessageContent, message.id)
    found = context_builder.for_customer(session, message.customer_id) if message.customer_id else None
    context = (found or sample_customer_context(session)).with_values(
        event=(message.options or {}).get("context") or {}, **message_links(message.id)
    )
    utm, key = (message.options or {}).get("utm"), issue_key_of(message.idempotency_key, message.options)
    try:
        if message.template_version_id is not None:
            return renderer.render(
                message.template_version_id, context, utm=utm, message_key=key, preview=True, session=session
            )
        if stored is not None and stored.source:
            inline = InlineSource.of(stored.source)
            version = VersionSource(inline.channel, inline.parts, inline.utm, inline.text_derived)
            return render_compiled(
                compile_version(version, draft=True), context, utm=utm, message_key=key, preview=True
            )
    except RenderError:
        return None
    return None


@dataclass
class Communications:
    """A customer's messages, newest first, each with its history (the profile's Communications tab)."""

    page: Page[MessageRow]
    histories: dict[int, list[MessageEvent]]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return self.page.total


def communications(session: Session, customer_id: int, page: int, size: int = 10) -> Communications:
    """One page of a customer's messages with their histories and the customer's totals: four queries."""
    queries = OutboxQueries(session)
    found = queries.page(OutboxFilter(customer_id=customer_id), PageParams(page=max(page, 1), size=size))
    histories = queries.histories([row.message.id for row in found.items])
    return Communications(found, histories, queries.counts(customer_id))
