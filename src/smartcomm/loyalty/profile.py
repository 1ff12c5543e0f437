"""The customer profile's loyalty cards: "Bonuses" (the balance and the expiring portions as the loyalty
system last sent them, the points balance) and "Loyalty operations" (points awarded and accruals asked of
the loyalty system, newest first, with their status). Six short queries whatever the history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from smartcomm.kit.pagination import PageParams
from smartcomm.kit.signed_delivery import DELIVERED, FAILED, PENDING
from smartcomm.loyalty.repository import LoyaltyRepository
from smartcomm.models import BonusExpiration, LoyaltyRequest, PointsEntry
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service

# The card shows the latest operations of each kind; the API pages through all of them.
SHOWN = 30


@dataclass(frozen=True)
class Operation:
    """One line of "Loyalty operations": points awarded, or an accrual asked of the loyalty system."""

    kind: str  # points | accrual
    at: datetime
    points: PointsEntry | None = None
    request: LoyaltyRequest | None = None

    @property
    def status(self) -> str:
        return self.request.status if self.request is not None else "recorded"

    @property
    def text(self) -> str | None:
        return (
            self.request.comment if self.request is not None else self.points.reason if self.points else None
        )

    @property
    def source_kind(self) -> str:
        found = self.request or self.points
        assert found is not None
        return found.source_kind


@dataclass
class LoyaltyCard:
    bonus_balance: Decimal | None
    bonus_updated_at: datetime | None
    expiring: list[BonusExpiration]
    points_balance: int
    operations: list[Operation]
    # status -> (requests, amount) over all the customer's accruals
    accruals: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    # Whether the loyalty system's address is set (Settings → General → Loyalty system).
    connected: bool = False
    today: date = field(default_factory=date.today)  # in the project time zone
    # The key of the operation the card's dialogs would ask for: a form sent twice acts once.
    form_key: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def has_bonus_data(self) -> bool:
        return self.bonus_updated_at is not None

    def accrued(self, status: str) -> tuple[int, Decimal]:
        return self.accruals.get(status, (0, Decimal("0")))

    @property
    def delivered(self) -> tuple[int, Decimal]:
        return self.accrued(DELIVERED)

    @property
    def pending(self) -> tuple[int, Decimal]:
        return self.accrued(PENDING)

    @property
    def failed(self) -> tuple[int, Decimal]:
        return self.accrued(FAILED)

    def days_left(self, portion: BonusExpiration) -> int:
        return (portion.expires_on - self.today).days


def loyalty_card(session: Session, customer_id: int) -> LoyaltyCard:
    """Both loyalty cards of a customer's profile."""
    repository = LoyaltyRepository(session)
    account = repository.account(customer_id)
    shown = PageParams(page=1, size=SHOWN)
    points = [
        Operation("points", e.created_at, points=e) for e in repository.points_page(customer_id, shown).items
    ]
    asked = [
        Operation("accrual", r.created_at, request=r)
        for r in repository.requests_page(customer_id, shown).items
    ]
    operations = sorted(points + asked, key=lambda operation: operation.at, reverse=True)
    return LoyaltyCard(
        bonus_balance=account.bonus_balance if account else None,
        bonus_updated_at=account.bonus_updated_at if account else None,
        expiring=repository.expiring_of(customer_id),
        points_balance=account.points_balance if account else 0,
        operations=operations,
        accruals=repository.request_totals(customer_id),
        connected=bool(settings_service.read(session, DeliverySettings).webhook_url),
        today=datetime.now(ZoneInfo(settings_service.read(session, GeneralSettings).time_zone)).date(),
    )
