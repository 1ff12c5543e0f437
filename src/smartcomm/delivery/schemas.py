"""What the ledger is asked to plan, how content is kept in it, and the shapes of the transactional API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from smartcomm.channels.base import Content, EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.delivery.ledger import Priority
from smartcomm.kit.types import JsonObject, RowId
from smartcomm.personalization.schemas import ContentIn, SmsContentIn

# --- planning ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InlineSource:
    """Template parts given with the send itself (not a saved version), rendered like a version."""

    channel: str
    parts: dict[str, str | None]
    utm: dict[str, str] = field(default_factory=dict)
    text_derived: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> InlineSource:
        return cls(
            data["channel"], dict(data["parts"]), dict(data.get("utm") or {}), data.get("text_derived", False)
        )


@dataclass(frozen=True)
class PlanRequest:
    """One message to record. Either `customer_id` (its contact for the channel is looked up) or a bare
    `recipient` (watchers, test addresses); either a saved `template_version_id` or an `inline` source."""

    source_kind: str
    channel: str
    customer_id: int | None = None
    recipient: str | None = None
    source_id: int | None = None
    part: str | None = None  # a campaign node, a mailing variant, a cascade leg
    occurrence: str | None = None  # what makes a repeat a new message (an event, an Idempotency-Key)
    category_id: int | None = None
    template_version_id: int | None = None
    inline: InlineSource | None = None
    priority: int = Priority.NORMAL
    not_before: datetime | None = None  # postponed
    expires_at: datetime | None = None  # default: planned + the lifetime setting
    options: dict[str, Any] = field(default_factory=dict)
    cascade_of: int | None = None


# --- content as the ledger keeps it -------------------------------------------------------------------


def content_to_json(content: Content) -> dict[str, Any]:
    kinds = {EmailContent: "email", SmsContent: "sms", ViberContent: "viber", PushContent: "push"}
    return {"kind": kinds[type(content)], **asdict(content)}


def content_from_json(data: dict[str, Any]) -> Content:
    values = {key: value for key, value in data.items() if key != "kind"}
    kind = data.get("kind")
    if kind == "email":
        return EmailContent(**values)
    if kind == "sms":
        return SmsContent(**values)
    if kind == "viber":
        return ViberContent(**values)
    return PushContent(**values)


# --- the transactional API ----------------------------------------------------------------------------

ApiChannel = Literal["email", "sms", "viber", "push", "sms_viber"]
PriorityName = Literal["low", "normal", "high"]
PRIORITIES: dict[str, int] = {"low": Priority.LOW, "normal": Priority.NORMAL, "high": Priority.HIGH}
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerRef(Strict):
    """Who receives the message: exactly one of the platform id, the external id, the e-mail or the phone."""

    id: RowId | None = None
    external_id: Text | None = None
    email: Text | None = None
    phone: Text | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("id", "external_id", "email", "phone") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of id, external_id, email or phone")
        return self


class SmsLeg(Strict):
    """The SMS of a Viber → SMS cascade: a saved SMS template (its latest version), a version, or text."""

    template_id: RowId | None = None
    template_version_id: RowId | None = None
    content: SmsContentIn | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (
            sum(value is not None for value in (self.template_id, self.template_version_id, self.content))
            != 1
        ):
            raise ValueError("give exactly one of template_id, template_version_id or content")
        return self


class MessageCreate(Strict):
    """A transactional message. Content: a saved template (`template_id`, its latest version, or
    `template_version_id`) or `content` given inline — either may use the template language. Channel
    `sms_viber` sends the Viber message first and the `sms` leg only if Viber is not delivered in time."""

    channel: ApiChannel
    customer: CustomerRef
    template_id: RowId | None = None
    template_version_id: RowId | None = None
    content: ContentIn | None = None
    sms: SmsLeg | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = (
        Field(
            default=None,
            description="The mailing category's code: only customers subscribed to it receive it",
        )
    )
    context: JsonObject | None = Field(
        default=None, description="The triggering event's context: `event` in templates"
    )
    priority: PriorityName = "high"
    deliver_immediately: bool = Field(
        default=True, description="Ignore the send-time window (transactional messages go at once by default)"
    )
    lifetime_minutes: int | None = Field(default=None, ge=1, le=43_200, description="Give up after this long")
    cascade_timeout_minutes: int | None = Field(
        default=None,
        ge=1,
        le=10_080,
        description="`sms_viber` only: wait this long for Viber (default: settings)",
    )

    @model_validator(mode="after")
    def _one_content(self) -> Self:
        sources = (self.template_id, self.template_version_id, self.content)
        if sum(value is not None for value in sources) != 1:
            raise ValueError("give exactly one of template_id, template_version_id or content")
        return self


class MessageEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    occurred_at: datetime
    is_machine: bool
    data: dict[str, Any]


class MessageOut(BaseModel):
    """A message in the ledger: where it stands and why."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    status: str
    reason: str | None
    detail: str | None
    recipient: str | None
    customer_id: int | None
    source_kind: str
    category_id: int | None
    template_version_id: int | None
    cascade_of: int | None
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    expires_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    failed_at: datetime | None
    opens: int
    clicks: int


class MessageDetailOut(MessageOut):
    history: list[MessageEventOut] = Field(default_factory=list)


class MessagesAccepted(BaseModel):
    """The message(s) recorded for a request: one, or both legs of a Viber → SMS cascade."""

    messages: list[MessageOut]


class CallbackOut(BaseModel):
    """What a provider's callback carried: receipts read, and the messages they were applied to."""

    received: int
    applied: int
