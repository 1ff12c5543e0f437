"""The queries of the mailing pages: the list of a channel with its header totals, attributed receipts of
many mailings at once, and the choices the editor offers (categories, segments, audiences, templates,
watcher groups, product categories). Each is one set-based statement, whatever the page size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from smartcomm.delivery.ledger import Source
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import (
    Audience,
    Mailing,
    MailingCategory,
    MessageTemplate,
    MessageTemplateVersion,
    Segment,
)
from smartcomm.models.attribution import AttributedReceipt
from smartcomm.models.catalog import Category
from smartcomm.models.consent import WatcherGroup

# The channels a list page shows: the SMS list holds plain SMS and the Viber → SMS cascade.
CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "sms": ("sms", "sms_viber"),
    "push": ("push",),
}
SORTS = ("name", "status", "created", "send_date")
DEFAULT_SORT = "-created"
PICKER_LIMIT = 500  # the editor's drop-downs: more than this is searched for, not scrolled through


@dataclass(frozen=True)
class ListFilter:
    """What the list shows: the channel group, a status, a name search and the order."""

    group: str
    status: str = ""
    query: str = ""
    sort: str = DEFAULT_SORT


@dataclass(frozen=True)
class Attributed:
    receipts: int = 0
    amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class ChannelTotals:
    """The header cards of a list: mailings that started sending, and the receipts credited to them."""

    mailings_sent: int
    receipts: int
    amount: Decimal


@dataclass(frozen=True)
class VersionChoice:
    version_id: int
    template_name: str
    number: int
    subject: str | None

    @property
    def label(self) -> str:
        return f"{self.template_name} · v{self.number}"


class MailingListing(Repository[Mailing]):
    model = Mailing

    # --- the list ------------------------------------------------------------------------------------

    def page(self, wanted: ListFilter, params: PageParams) -> Page[Mailing]:
        statement = select(Mailing).where(Mailing.channel.in_(CHANNEL_GROUPS[wanted.group]))
        if wanted.status:
            statement = statement.where(Mailing.status == wanted.status)
        if wanted.query:
            statement = statement.where(
                func.lower(Mailing.name).contains(wanted.query.lower(), autoescape=True)
            )
        return self.paginate(statement.order_by(*_order(wanted.sort)), params)

    def by_ids(self, mailing_ids: Sequence[int]) -> list[Mailing]:
        if not mailing_ids:
            return []
        return list(self.session.scalars(select(Mailing).where(Mailing.id.in_(list(mailing_ids)))))

    def channel_totals(self, group: str) -> ChannelTotals:
        channels = CHANNEL_GROUPS[group]
        started = select(func.count()).where(Mailing.channel.in_(channels), Mailing.started_at.is_not(None))
        mailing_ids = select(Mailing.id).where(Mailing.channel.in_(channels))
        credited = select(func.count(), func.coalesce(func.sum(AttributedReceipt.amount), 0)).where(
            AttributedReceipt.source_kind == Source.MAILING,
            AttributedReceipt.credited.is_(True),
            AttributedReceipt.source_id.in_(mailing_ids.scalar_subquery()),
        )
        receipts, amount = self.session.execute(credited).one()
        return ChannelTotals(int(self.session.scalar(started) or 0), int(receipts), _money(amount))

    def attributed(self, mailing_ids: Sequence[int]) -> dict[int, Attributed]:
        """Per mailing: the receipts credited to it and their amount."""
        if not mailing_ids:
            return {}
        statement = (
            select(AttributedReceipt.source_id, func.count(), func.sum(AttributedReceipt.amount))
            .where(
                AttributedReceipt.source_kind == Source.MAILING,
                AttributedReceipt.credited.is_(True),
                AttributedReceipt.source_id.in_(list(mailing_ids)),
            )
            .group_by(AttributedReceipt.source_id)
        )
        rows = self.session.execute(statement)
        return {int(row[0] or 0): Attributed(int(row[1]), _money(row[2])) for row in rows}

    def subjects(self, version_ids: Sequence[int | None]) -> dict[int, str]:
        """The e-mail subject of each template version."""
        wanted = sorted({v for v in version_ids if v is not None})
        if not wanted:
            return {}
        statement = select(MessageTemplateVersion.id, MessageTemplateVersion.subject).where(
            MessageTemplateVersion.id.in_(wanted)
        )
        return {int(row[0]): row[1] or "" for row in self.session.execute(statement)}

    # --- the editor's choices ------------------------------------------------------------------------

    def versions(self, channel: str, keep: Sequence[int | None] = ()) -> list[VersionChoice]:
        """The latest version of every template of a channel, and the versions in `keep` (a draft may
        name an older one), by template name."""
        latest = (
            select(func.max(MessageTemplateVersion.id))
            .where(MessageTemplateVersion.channel == channel)
            .group_by(MessageTemplateVersion.template_id)
        )
        kept = [v for v in keep if v is not None]
        statement = (
            select(
                MessageTemplateVersion.id,
                MessageTemplate.name,
                MessageTemplateVersion.number,
                MessageTemplateVersion.subject,
            )
            .join(MessageTemplate, MessageTemplate.id == MessageTemplateVersion.template_id)
            .where(MessageTemplateVersion.id.in_(latest) | MessageTemplateVersion.id.in_(kept))
            .order_by(MessageTemplate.name, MessageTemplateVersion.number.desc())
            .limit(PICKER_LIMIT)
        )
        return [VersionChoice(int(r[0]), r[1], int(r[2]), r[3]) for r in self.session.execute(statement)]

    def categories(self) -> list[tuple[int, str]]:
        return self._pairs(select(MailingCategory.id, MailingCategory.name).order_by(MailingCategory.name))

    def segments(self) -> list[tuple[int, str, int]]:
        statement = select(Segment.id, Segment.name, Segment.member_count).order_by(Segment.name)
        return [(int(r[0]), r[1], int(r[2])) for r in self.session.execute(statement.limit(PICKER_LIMIT))]

    def audiences(self) -> list[tuple[int, str, int]]:
        statement = select(Audience.id, Audience.name, Audience.member_count).order_by(Audience.name)
        return [(int(r[0]), r[1], int(r[2])) for r in self.session.execute(statement.limit(PICKER_LIMIT))]

    def watcher_groups(self) -> list[tuple[int, str]]:
        return self._pairs(select(WatcherGroup.id, WatcherGroup.name).order_by(WatcherGroup.name))

    def product_categories(self) -> list[tuple[int, str]]:
        return self._pairs(select(Category.id, Category.name).order_by(Category.name, Category.id))

    def _pairs(self, statement: Any) -> list[tuple[int, str]]:
        return [(int(r[0]), str(r[1])) for r in self.session.execute(statement.limit(PICKER_LIMIT))]


def _order(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    column: Any = {
        "name": func.lower(Mailing.name),
        "status": Mailing.status,
        "send_date": func.coalesce(Mailing.started_at, Mailing.scheduled_at),
        "created": Mailing.created_at,
    }.get(key, Mailing.created_at)
    tie = Mailing.id.desc() if descending else Mailing.id.asc()
    return [column.desc().nulls_last() if descending else column.asc().nulls_last(), tie]


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))
