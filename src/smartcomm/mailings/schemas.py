"""Input and output shapes of mass mailings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from smartcomm.attribution.schemas import AttributionRuleIn as AttributionRuleIn  # (its home: attribution)
from smartcomm.kit.types import MAX_INT64, InputModel, RowId

MailingChannel = Literal["email", "sms", "sms_viber", "push"]
MAX_AUDIENCES = 50
MAX_CONTROL_PERCENT = 50.0
MAX_VARIANTS = 5
# The customer fields the control group may be stratified by (the draw keeps each stratum's share).
StratumField = Literal["gender", "age_band", "city", "region", "card_status", "buyer"]
WinnerMetric = Literal["opens", "clicks", "revenue"]
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


class VariantIn(InputModel):
    """One variant of an A/B test: its content, and optionally a subject and a sender of its own."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    template_version_id: RowId | None = None
    sms_template_version_id: RowId | None = Field(default=None, description="The SMS leg of a cascade")
    subject: str | None = Field(default=None, min_length=1, max_length=300, description="E-mail only")
    sender: SenderIn | None = None
    share: float | None = Field(default=None, gt=0, le=100, description="Percent; even when left out")


class AbTestIn(InputModel):
    """An automatic winner: the variants go to a test share first; after the wait the best of them by
    the metric goes to the rest of the audience."""

    model_config = ConfigDict(extra="forbid")

    test_percent: float = Field(default=20.0, ge=1, le=90)
    wait_hours: int = Field(default=4, ge=1, le=168)
    metric: WinnerMetric = "opens"


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
    control_audience_id: RowId | None = Field(
        default=None, description="The control group is this target audience's members (not a share)"
    )
    control_strata: list[StratumField] | None = Field(default=None, max_length=6)
    variants: list[VariantIn] | None = Field(
        default=None, max_length=MAX_VARIANTS, description="An A/B test: 2 to 5 variants, or none"
    )
    ab_test: AbTestIn | None = None
    exclude_global_control: bool | None = None
    attribution_rule: AttributionRuleIn | None = Field(
        default=None, description="Left out or null: the default of the settings"
    )
    watcher_group_ids: list[RowId] | None = Field(default=None, max_length=MAX_AUDIENCES)
    failure_limit: int | None = Field(
        default=None, ge=1, le=100_000, description="Pause after this many provider failures in a row"
    )


class TestSendIn(InputModel):
    """A test copy rendered for a customer (the sample test customer when left out), to an address or
    phone of the tester's choosing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    recipient: str = Field(min_length=3, max_length=254, description="E-mail, phone or push token")
    customer_id: RowId | None = None
    variant: int | None = Field(default=None, ge=0, lt=MAX_VARIANTS)


class MailingCreate(MailingFields):
    channel: MailingChannel
    name: Name


class MailingUpdate(MailingFields):
    """Fields not sent stay as they are; null clears a field that may be empty."""

    name: Name | None = None


class MailingProgress(BaseModel):
    """Where the mailing's messages stand in the ledger, and the control group's size."""

    recipients: int = 0  # customers with a message (a cascade's two legs are one recipient)
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
    control_audience_id: int | None
    control_strata: list[str]
    variants: list[dict[str, Any]]
    ab_test: dict[str, Any] | None
    winner_variant: int | None
    winner_chosen_at: datetime | None
    winner_reason: dict[str, Any] | None
    exclude_global_control: bool
    attribution_rule: dict[str, Any] | None
    watcher_group_ids: list[int]
    failure_limit: int | None
    failures_in_row: int
    resend_round: int
    collect_phase: str
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
