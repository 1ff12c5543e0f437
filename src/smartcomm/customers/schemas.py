"""Input and output shapes of customers, contacts, consent and subscriptions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.time import known_time_zones
from smartcomm.kit.types import InputModel
from smartcomm.loyalty.schemas import MAX_EXPIRING_PORTIONS, BonusAmount, ExpiringBonusIn

Channel = Literal["email", "sms", "viber", "push"]
SubscriptionValue = Literal["Y", "N", "ND"]

_GENDERS = {"m": "m", "male": "m", "м": "m", "f": "f", "female": "f", "ж": "f"}


class ChannelPermissions(InputModel):
    """Consent per channel as a whole; channels not sent stay unchanged."""

    model_config = ConfigDict(extra="forbid")

    email: bool | None = None
    sms: bool | None = None
    viber: bool | None = None
    push: bool | None = None


class CustomerFields(InputModel):
    """A customer's profile, contacts, consent and custom fields (everything but the id)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    middle_name: str | None = Field(default=None, max_length=100)
    gender: str | None = Field(default=None, description="m or f")
    birth_date: date | None = None
    country: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    city: str | None = Field(default=None, max_length=100)
    time_zone: str | None = Field(default=None, description="IANA name, e.g. Europe/Moscow")
    registered_at: datetime | None = None
    card_number: str | None = Field(default=None, max_length=64)
    card_status: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    permissions: ChannelPermissions | None = None
    custom: dict[str, Any] = Field(default_factory=dict, description="Custom fields by code")
    # Bonus data of the loyalty system (stored by `loyalty.bonuses`, read at /customers/{id}/bonuses).
    bonus_balance: BonusAmount | None = Field(default=None, description="The bonus balance; null clears it")
    expiring_bonuses: list[ExpiringBonusIn] | None = Field(
        default=None,
        max_length=MAX_EXPIRING_PORTIONS,
        description="Bonuses expiring, by day; replaces those stored as a whole ([] or null: none expire)",
    )

    @field_validator("gender")
    @classmethod
    def _gender(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        gender = _GENDERS.get(value.strip().lower())
        if gender is None:
            raise ValueError("expected m or f")
        return gender

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value and value not in known_time_zones():
            raise ValueError(f"unknown time zone {value!r}")
        return value or None

    @field_validator(
        "first_name",
        "last_name",
        "middle_name",
        "email",
        "phone",
        "city",
        "region",
        "country",
        "card_number",
        "card_status",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class CustomerIn(CustomerFields):
    """A customer as sent by the loyalty system. On update, fields not sent stay unchanged; null clears."""

    external_id: str = Field(min_length=1, max_length=64, description="The customer's id in your system")


class CustomerPut(CustomerFields):
    """A customer addressed by the id in the URL; `external_id` may be repeated but must then be the same."""

    external_id: str | None = Field(default=None, max_length=64, description="Optional; the id in the URL")

    def for_external_id(self, external_id: str) -> CustomerIn:
        """The customer as a CustomerIn with the URL's id; the fields not sent stay unsent."""
        if self.external_id is not None and self.external_id != external_id:
            raise InvalidInput.for_field("external_id", f"differs from the id in the URL ({external_id})")
        sent = self.model_dump(exclude_unset=True, exclude={"external_id"})
        return CustomerIn.model_validate({**sent, "external_id": external_id})


class CustomerBatchIn(InputModel):
    customers: list[CustomerIn] = Field(min_length=1, max_length=1000)


class UpsertOutcome(BaseModel):
    id: int
    external_id: str
    created: bool


class CustomerBatchOut(BaseModel):
    created: int
    updated: int
    items: list[UpsertOutcome]


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    first_name: str | None
    last_name: str | None
    middle_name: str | None
    gender: str | None
    birth_date: date | None
    country: str | None
    region: str | None
    city: str | None
    time_zone: str | None
    registered_at: datetime | None
    card_number: str | None
    card_status: str | None
    email: str | None
    email_valid: bool
    phone: str | None
    phone_valid: bool
    phone_type: str | None
    allow_email: bool
    allow_sms: bool
    allow_viber: bool
    allow_push: bool
    custom: dict[str, Any]
    receipt_count: int
    total_amount: Decimal
    average_receipt: Decimal
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PushTokenIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=8, max_length=512)
    platform: Literal["android", "ios", "web", "huawei", "rustore"]
    app: str | None = Field(default=None, max_length=100)
    device_id: str | None = Field(default=None, max_length=128)


class ContactsIn(InputModel):
    """Contacts to add or replace: the e-mail and phone, and any number of push tokens."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    push_tokens: list[PushTokenIn] = Field(default_factory=list, max_length=50)


class SubscriptionsIn(InputModel):
    """{category code: {channel: Y | N | ND}}. Y subscribes, N unsubscribes, ND removes from the category;
    categories and channels not mentioned stay unchanged."""

    categories: dict[str, dict[Channel, SubscriptionValue]]


class SubscriptionOut(BaseModel):
    category: str
    name: str
    email: bool | None
    sms: bool | None
    viber: bool | None
    push: bool | None
