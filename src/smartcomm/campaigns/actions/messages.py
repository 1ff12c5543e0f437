"""Send e-mail, SMS (with the Viber → SMS cascade) and push: ledger rows, passed on only when sent.

Each message is recorded under the key (campaign, version and node, customer, journey and visit), so a
batch walked again after a crash finds its messages recorded and plans nothing twice. The policy gate
judges each at once: a message it suppresses (no consent, no valid contact, a frequency cap) stops the
journey — the node passes on only the customers it sent to; a message deferred to the recipient's
send-time window is sent then, and the journey goes on now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints

from smartcomm.campaigns.actions.base import Action, Go, Outcome, Step, Stop
from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.delivery.cascade import plan_cascade
from smartcomm.delivery.ledger import EXCLUDES_GLOBAL_CONTROL, FINAL, ISSUE_KEY, Priority, Source
from smartcomm.delivery.schemas import PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId
from smartcomm.models import Journey, Message, MessageTemplateVersion

SenderName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class SendSettings(Settings):
    template_version_id: RowId | None = None
    category_id: RowId | None = None
    deliver_immediately: bool = False  # ignore the recipients' send-time window
    lifetime_hours: Annotated[int, Field(ge=1, le=24 * 30)] | None = None
    sender_name: SenderName | None = None
    sender_address: SenderName | None = None  # e-mail only
    reply_to: SenderName | None = None  # e-mail only


class SmsSettings(SendSettings):
    # Viber first, SMS when Viber does not arrive: `template_version_id` is the Viber template then.
    viber_cascade: bool = False
    sms_template_version_id: RowId | None = None


class _Send(Action):
    family = "messages"
    channel: ClassVar[str]

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        problems = self._template_problem(
            context.session, settings.template_version_id, self._first_channel(settings)
        )
        return [("template_version_id", problems)] if problems else []

    def _first_channel(self, settings: Any) -> str:
        return self.channel

    @staticmethod
    def _template_problem(session: Any, version_id: int | None, channel: str) -> str | None:
        if version_id is None:
            return str(lazy("Choose the message's template"))
        version = session.get(MessageTemplateVersion, version_id)
        if version is None:
            return str(lazy("The template does not exist"))
        if version.channel != channel:
            return str(lazy("The template is for another channel"))
        return None

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        requests = [self._request(step, journey) for journey in journeys]
        messages = self._plan(step, requests)
        CampaignRepository(step.session).record_messages(
            [_link(step, journey, message) for journey, message in zip(journeys, messages, strict=True)]
        )
        return [_outcome(message) for message in messages]

    def _plan(self, step: Step, requests: list[PlanRequest]) -> list[Message]:
        return delivery_service.plan(step.session, requests, step.now)

    def _request(self, step: Step, journey: Journey) -> PlanRequest:
        settings = step.settings
        options: dict[str, Any] = {"deliver_immediately": settings.deliver_immediately}
        if step.campaign.exclude_global_control:
            options[EXCLUDES_GLOBAL_CONTROL] = True
        sender = _sender(settings)
        if sender:
            options["sender"] = sender
        if journey.context:
            options["context"] = journey.context
        lifetime = settings.lifetime_hours
        return PlanRequest(
            source_kind=Source.CAMPAIGN,
            source_id=step.campaign.id,
            channel=self._first_channel(settings),
            customer_id=journey.customer_id,
            part=f"v{step.version_id}.{step.node}",
            occurrence=f"j{journey.id}.{step.visit(journey)}",
            category_id=settings.category_id or step.campaign.category_id,
            template_version_id=settings.template_version_id,
            priority=Priority.NORMAL,
            expires_at=step.now + timedelta(hours=lifetime) if lifetime else None,
            options=options,
        )


@register
class SendEmail(_Send):
    name = "action.send_email"
    label = lazy("Send e-mail")
    description = lazy("An e-mail from a template; passes on the customers it was sent to")
    icon = "ti-mail"
    channel = "email"
    settings_model = SendSettings


@register
class SendPush(_Send):
    name = "action.send_push"
    label = lazy("Send push")
    description = lazy("A push notification to the customer's devices")
    icon = "ti-device-mobile-message"
    channel = "push"
    settings_model = SendSettings


@register
class SendSms(_Send):
    name = "action.send_sms"
    label = lazy("Send SMS")
    description = lazy("An SMS, or Viber first with SMS when Viber does not arrive")
    icon = "ti-message"
    channel = "sms"
    settings_model = SmsSettings

    def _first_channel(self, settings: Any) -> str:
        return "viber" if settings.viber_cascade else "sms"

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        problems = super().check(settings, context)
        if settings.viber_cascade:
            found = self._template_problem(context.session, settings.sms_template_version_id, "sms")
            if found:
                problems.append(("sms_template_version_id", found))
        return problems

    def _plan(self, step: Step, requests: list[PlanRequest]) -> list[Message]:
        if not step.settings.viber_cascade:
            return super()._plan(step, requests)
        planned = []
        for request in requests:
            sms = replace(  # the SMS stands in for the Viber message: it shows what that one issued
                request,
                channel="sms",
                template_version_id=step.settings.sms_template_version_id,
                options={**request.options, ISSUE_KEY: delivery_service.key_of(request)},
            )
            legs, _ = plan_cascade(step.session, request, sms)
            planned.append(_sent_leg(legs))
        return planned


def _sent_leg(legs: list[Message]) -> Message:
    """The leg that stands for the cascade: Viber unless it will never arrive and the SMS goes."""
    viber = legs[0]
    return legs[-1] if viber.status in FINAL and len(legs) > 1 else viber


def _sender(settings: SendSettings) -> dict[str, str]:
    values = {"name": settings.sender_name, "address": settings.sender_address, "reply_to": settings.reply_to}
    return {key: value for key, value in values.items() if value}


def _link(step: Step, journey: Journey, message: Message) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "campaign_id": step.campaign.id,
        "version_id": step.version_id,
        "node": step.node,
        "journey_id": journey.id,
        "customer_id": journey.customer_id,
        "created_at": step.now,
    }


def _outcome(message: Message) -> Outcome:
    if message.status in FINAL:
        return Stop(f"not_sent:{message.reason or message.status}")
    return Go()
