"""The queries of the campaign pages and the list API: the list with its header totals, the orders credited to
many campaigns at once, the versions with who published them, and the choices the canvas's side panel offers
(templates per channel, segments, target audiences, polls, mailing categories). Each is one set-based
statement, whatever the page size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.delivery.ledger import Source
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.i18n import lazy
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import (
    Audience,
    Campaign,
    CampaignVersion,
    MailingCategory,
    MessageTemplate,
    MessageTemplateVersion,
    Poll,
    Segment,
    User,
)
from smartcomm.models.attribution import AttributedReceipt

STATUSES = ("draft", "active", "suspended")
PICKER_LIMIT = 500  # the side panel's drop-downs: more than this is searched for, not scrolled through
TEMPLATE_CHANNELS = ("email", "sms", "viber", "push")


@dataclass(frozen=True)
class ListFilter:
    """What the list shows: a status ("only active" is status "active") and a name search."""

    status: str = ""
    query: str = ""


@dataclass(frozen=True)
class Attributed:
    orders: int = 0
    amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Totals:
    """The header cards of the list: campaigns running now, and the orders credited to any campaign."""

    active: int
    orders: int
    amount: Decimal


@dataclass(frozen=True)
class VersionRow:
    id: int
    number: int
    created_at: datetime
    published_at: datetime | None
    published_by: str | None


@dataclass(frozen=True)
class TemplateChoice:
    version_id: int
    template_id: int
    name: str
    number: int
    channel: str
    subject: str | None
    latest: bool

    @property
    def label(self) -> str:
        return f"{self.name} (v{self.number})"


class CampaignListing(Repository[Campaign]):
    model = Campaign

    # --- the list ------------------------------------------------------------------------------------

    def page(self, wanted: ListFilter, params: PageParams) -> Page[Campaign]:
        statement = select(Campaign)
        if wanted.status:
            statement = statement.where(Campaign.status == wanted.status)
        if wanted.query:
            statement = statement.where(
                func.lower(Campaign.name).contains(wanted.query.lower(), autoescape=True)
            )
        return self.paginate(statement.order_by(Campaign.updated_at.desc(), Campaign.id.desc()), params)

    def totals(self) -> Totals:
        active = select(func.count()).where(Campaign.status == "active")
        credited = select(func.count(), func.coalesce(func.sum(AttributedReceipt.amount), 0)).where(
            AttributedReceipt.source_kind == Source.CAMPAIGN, AttributedReceipt.credited.is_(True)
        )
        orders, amount = self.session.execute(credited).one()
        return Totals(int(self.session.scalar(active) or 0), int(orders), _money(amount))

    def attributed(self, campaign_ids: Sequence[int]) -> dict[int, Attributed]:
        """Per campaign: the receipts (orders) credited to its messages and their amount."""
        if not campaign_ids:
            return {}
        statement = (
            select(AttributedReceipt.source_id, func.count(), func.sum(AttributedReceipt.amount))
            .where(
                AttributedReceipt.source_kind == Source.CAMPAIGN,
                AttributedReceipt.credited.is_(True),
                AttributedReceipt.source_id.in_(list(campaign_ids)),
            )
            .group_by(AttributedReceipt.source_id)
        )
        return {int(r[0] or 0): Attributed(int(r[1]), _money(r[2])) for r in self.session.execute(statement)}

    # --- versions ------------------------------------------------------------------------------------

    def versions(self, campaign_id: int) -> list[VersionRow]:
        """The campaign's versions, newest first, with the name of who published each."""
        statement = (
            select(
                CampaignVersion.id,
                CampaignVersion.number,
                CampaignVersion.created_at,
                CampaignVersion.published_at,
                User.full_name,
            )
            .outerjoin(User, User.id == CampaignVersion.published_by_id)
            .where(CampaignVersion.campaign_id == campaign_id)
            .order_by(CampaignVersion.number.desc())
        )
        return [VersionRow(*row) for row in self.session.execute(statement)]

    # --- the side panel's choices --------------------------------------------------------------------

    def templates(self, keep: Sequence[int] = ()) -> list[TemplateChoice]:
        """The latest version of every template of the message channels, and the versions in `keep` (a
        node may name an older one), by template name."""
        latest = MessageTemplateVersion.number == MessageTemplate.version_count
        kept = sorted({int(v) for v in keep})
        statement = (
            select(
                MessageTemplateVersion.id,
                MessageTemplate.id,
                MessageTemplate.name,
                MessageTemplateVersion.number,
                MessageTemplateVersion.channel,
                MessageTemplateVersion.subject,
                latest,
            )
            .join(MessageTemplate, MessageTemplate.id == MessageTemplateVersion.template_id)
            .where(
                latest | MessageTemplateVersion.id.in_(kept),
                MessageTemplateVersion.channel.in_(TEMPLATE_CHANNELS),
            )
            .order_by(MessageTemplate.name, MessageTemplateVersion.number.desc())
            .limit(PICKER_LIMIT)
        )
        return [
            TemplateChoice(int(r[0]), int(r[1]), r[2], int(r[3]), r[4], r[5], bool(r[6]))
            for r in self.session.execute(statement)
        ]

    def segments(self) -> list[tuple[int, str, int]]:
        statement = select(Segment.id, Segment.name, Segment.member_count).order_by(Segment.name)
        return [(int(r[0]), r[1], int(r[2])) for r in self.session.execute(statement.limit(PICKER_LIMIT))]

    def audiences(self) -> list[tuple[int, str, int]]:
        statement = select(Audience.id, Audience.name, Audience.member_count).order_by(Audience.name)
        return [(int(r[0]), r[1], int(r[2])) for r in self.session.execute(statement.limit(PICKER_LIMIT))]

    def polls(self) -> list[tuple[int, str]]:
        return self._pairs(select(Poll.id, Poll.name).order_by(Poll.name))

    def campaigns(self, other_than: int) -> list[tuple[int, str]]:
        others = select(Campaign.id, Campaign.name).where(Campaign.id != other_than)
        return self._pairs(others.order_by(Campaign.name))

    def categories(self) -> list[tuple[int, str]]:
        return self._pairs(select(MailingCategory.id, MailingCategory.name).order_by(MailingCategory.name))

    def _pairs(self, statement: Any) -> list[tuple[int, str]]:
        return [(int(r[0]), str(r[1])) for r in self.session.execute(statement.limit(PICKER_LIMIT))]


def check_category(session: Session, category_id: int | None) -> None:
    """A campaign's mailing category must exist (422 naming the field)."""
    if category_id is not None and session.get(MailingCategory, category_id) is None:
        raise InvalidInput.for_field("category_id", lazy("The mailing category does not exist"))


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
