"""Loyalty-programme members, their contacts, push tokens and consent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, Money, TimestampMixin
from smartcomm.kit.time import utcnow

CHANNELS = ("email", "sms", "viber", "push")


class Customer(TimestampMixin, Base):
    """A member. `id` is the platform id; `external_id` is the id in the retailer's loyalty system."""

    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_email", "email"),
        Index("ix_customers_phone", "phone"),
        Index("ix_customers_card_number", "card_number"),
        Index("ix_customers_last_name_lower", text("lower(last_name)")),
        Index("ix_customers_last_purchase_at", "last_purchase_at"),
        Index("ix_customers_registered_at", "registered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(1))  # m | f
    birth_date: Mapped[date | None]
    country: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    registered_at: Mapped[datetime | None]
    card_number: Mapped[str | None] = mapped_column(String(64))
    card_status: Mapped[str | None] = mapped_column(String(32))

    # Contacts: the normalised value when valid, else the value as given (shown with a warning).
    email: Mapped[str | None] = mapped_column(String(254))
    email_valid: Mapped[bool] = mapped_column(default=False)
    # Double opt-in: the address the customer confirmed through the signed link, and when. E-mail goes to
    # the current address only while it is that one (when double opt-in is on).
    confirmed_email: Mapped[str | None] = mapped_column(String(254))
    email_confirmed_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_valid: Mapped[bool] = mapped_column(default=False)
    phone_type: Mapped[str | None] = mapped_column(String(16))  # mobile | landline | other

    # Channel permissions (consent per channel as a whole).
    allow_email: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_viber: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_push: Mapped[bool] = mapped_column(Boolean, default=True)

    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # Purchase aggregates, kept current on every receipt write so segments never scan receipts for them.
    receipt_count: Mapped[int] = mapped_column(default=0)
    total_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    average_receipt: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    first_purchase_at: Mapped[datetime | None]
    last_purchase_at: Mapped[datetime | None]

    @property
    def full_name(self) -> str:
        parts = [self.last_name, self.first_name, self.middle_name]
        return " ".join(p for p in parts if p) or self.external_id


class PushToken(Base):
    """A device's push token (FCM, APNs, RuStore, Huawei, Web Push); invalid once the provider says so."""

    __tablename__ = "push_tokens"
    __table_args__ = (Index("ix_push_tokens_customer", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(512), unique=True)
    platform: Mapped[str] = mapped_column(String(16))  # android | ios | web | huawei | rustore
    app: Mapped[str | None] = mapped_column(String(100))
    device_id: Mapped[str | None] = mapped_column(String(128))
    is_valid: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Subscription(Base):
    """Subscription of a customer to a mailing category on one channel. No row = not in the category."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_category_channel", "category_id", "channel", "subscribed"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("mailing_categories.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    subscribed: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
