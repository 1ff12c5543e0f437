"""Input and output shapes of mass mailings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from smartcomm.kit.types import MAX_INT64, InputModel, RowId

MailingChannel = Literal["email", "sms", "sms_viber", "push"]
MAX_AUDIENCES = 50
MAX_CONTROL_PERCENT = 50.0
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
UtmValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
UtmKey = Literal["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]


class MailingStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    COLLECTING = "collecting"  # its audience is being recorded in the ledger, batch by batch
    SENDING = "sending"
    SENT = "sent"  # nothing of it waits any more
    PAUSED = "paused"
    CANCELLED = "cancelled"


# Statuses in which the mailing's messages may still go (pause and cancel act on them).
RUNNING = frozenset({MailingStatus.COLLECTING, MailingStatus.SENDING})


class SenderIn(InputModel):
    """Who the mailing is from: e-mail name, address and reply-to; SMS and Viber: the sender name."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=100)
    address: EmailStr | None = None
    reply_to: EmailStr | None = None


class MailingFields(InputModel):
    """The fields a draft is made of; every one may be left out of a draft (launching needs content and
    an audience)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category_id: RowId | None = None
    template_version_id: RowId | None = None
    sms_template_version_id: RowId | None = Field(
        default=None, description="The SMS leg of a Viber → SMS cascade (channel sms_viber)"
    )
    sender: SenderIn | None = None
    segment_id: RowId | None = None
    include_audience_ids: list[RowId] | None = Field(default=None, max_length=MAX_AUDIENCES)
    exclude_audience_ids: list[RowId] | None = Field(default=None, max_length=MAX_AUDIENCES)
    control_percent: float | None = Field(default=None, ge=0, le=MAX_CONTROL_PERCENT)
    control_seed: int | None = Field(default=None, ge=0, le=MAX_INT64)
    lifetime_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    scheduled_at: AwareDatetime | None = Field(
        default=None, description="Postpone the send to this moment (with its UTC offset)"
    )
    rate_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    deliver_immediately: bool | None = Field(default=None, description="Ignore the local-time send window")
    utm: dict[UtmKey, UtmValue] | None = None


class MailingCreate(MailingFields):
    channel: MailingChannel
    name: Name


class MailingUpdate(MailingFields):
    """Fields not sent stay as they are; null clears a field that may be empty."""

    name: Name | None = None


class MailingProgress(BaseModel):
    """Where the mailing's messages stand in the ledger, and the control group's size."""

    planned: int = 0  # recorded, not handed to a provider yet
    sent: int = 0  # handed over (delivered and later milestones included)
    delivered: int = 0
    failed: int = 0  # failed or expired
    suppressed: int = 0  # refused by the communication policy
    cancelled: int = 0
    control: int = 0  # control-group members: recorded, sent nothing


class MailingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    name: str
    status: str
    category_id: int | None
    template_version_id: int | None
    sms_template_version_id: int | None
    sender: dict[str, Any]
    segment_id: int | None
    include_audience_ids: list[int]
    exclude_audience_ids: list[int]
    control_percent: float
    control_seed: int
    lifetime_hours: int | None
    scheduled_at: datetime | None
    rate_per_minute: int | None
    deliver_immediately: bool
    utm: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    collected_at: datetime | None
    finished_at: datetime | None
    pause_reason: str | None
    progress: MailingProgress = Field(default_factory=MailingProgress)


class VolumeOut(BaseModel):
    """The audience as the send would meet it now: the report buckets of those who would be sent to."""

    audience: int  # after the excluded audiences
    control: int  # drawn into the control group: sent nothing
    buckets: dict[str, int]  # good_recipients, address_issue, unsubscribed_channel, …


class PauseIn(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(default=None, max_length=500)
