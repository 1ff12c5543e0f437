"""Actions that tell staff about a customer: send notification (to chosen users) and notify manager (the
customer's own manager, from a customer field, or a fixed address).

Each writes an in-product notification (the bell in the top bar) for every staff user concerned and
an e-mail through the ledger to their address — a message with a bare recipient and the campaign as its
source, sent at once whatever the send-time window. Both are keyed by (campaign, version and node,
journey and visit, addressee), so a step walked again notifies nobody twice. The notification names the
customer and links to their profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import EmailStr, Field, StringConstraints, model_validator

from smartcomm.campaigns.actions.base import Action, Go, Outcome, Step, Stop
from smartcomm.campaigns.actions.customers import step_key
from smartcomm.campaigns.actions.queries import ActionQueries
from smartcomm.campaigns.nodes import Settings, register
from smartcomm.delivery.ledger import Priority, Source
from smartcomm.delivery.schemas import InlineSource, PlanRequest
from smartcomm.delivery.service import delivery_service
from smartcomm.delivery.tokens import base_url
from smartcomm.kit import i18n
from smartcomm.kit.i18n import lazy
from smartcomm.kit.types import RowId
from smartcomm.models import Customer, Journey
from smartcomm.notifications.service import NotificationIn, notification_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


@dataclass(frozen=True)
class Addressee:
    """Who is told about a journey's customer: a staff user (notified in the product), an address
    (e-mailed), or both — in the user's language, else the project's."""

    email: str | None
    user_id: int | None = None
    language: str | None = None


class _Tell(Action):
    family = "staff"

    def tell(self, step: Step, journey: Journey, customer: Customer, whom: Sequence[Addressee]) -> list[Any]:
        """Notifications and e-mail requests about one journey's customer."""
        title, text = step.settings.title, step.settings.text
        key = step_key(step, journey)
        link = f"/customers/{customer.id}"
        told: list[Any] = []
        for each in whom:
            with i18n.language(each.language or _project_language(step)):
                body = _body(customer, text)
            if each.user_id is not None:
                told.append(NotificationIn(each.user_id, title, body, link, f"{key}:u{each.user_id}"))
            if each.email is not None:
                told.append(_email(step, journey, each.email, title, body, link))
        return told

    def deliver(self, step: Step, told: list[Any]) -> None:
        notes = [each for each in told if isinstance(each, NotificationIn)]
        requests = [each for each in told if isinstance(each, PlanRequest)]
        notification_service.notify(step.session, notes)
        if requests:
            delivery_service.plan(step.session, requests, step.now)


class NotificationSettings(Settings):
    user_ids: list[RowId] = Field(min_length=1, max_length=50)
    title: Title
    text: Text | None = None
    email: bool = True  # also e-mail each user


@register
class SendNotification(_Tell):
    name = "action.send_notification"
    label = lazy("Send notification")
    description = lazy("Tell staff users about the customer: a notification in the product and an e-mail")
    icon = "ti-bell-ringing"
    settings_model = NotificationSettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        found = ActionQueries(context.session).active_users(settings.user_ids)
        if len(found) < len(set(settings.user_ids)):
            return [("user_ids", str(lazy("Some of the users do not exist or are blocked")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        queries = ActionQueries(step.session)
        users = queries.active_users(step.settings.user_ids)
        if not users:  # every user chosen has been blocked since
            return [Stop("no_recipients") for _ in journeys]
        emailed = step.settings.email
        whom = [
            Addressee(email if emailed else None, uid, language) for uid, (email, language) in users.items()
        ]
        customers = queries.customers([journey.customer_id for journey in journeys])
        told: list[Any] = []
        for journey in journeys:
            told += self.tell(step, journey, customers[journey.customer_id], whom)
        self.deliver(step, told)
        return [Go() for _ in journeys]


class ManagerSettings(Settings):
    # The manager's address: the customer field named in Settings → General, or this fixed address.
    to: Literal["field", "address"] = "field"
    address: EmailStr | None = None
    title: Title
    text: Text | None = None

    @model_validator(mode="after")
    def _address_given(self) -> ManagerSettings:
        if self.to == "address" and self.address is None:
            raise ValueError("give the manager's e-mail address")
        return self


@register
class NotifyManager(_Tell):
    """E-mails the customer's manager (and notifies them in the product when they are a staff user). A
    customer without a valid manager address stops here."""

    name = "action.notify_manager"
    label = lazy("Notify manager")
    description = lazy("Tell the customer's manager about the customer, by e-mail and in the product")
    icon = "ti-user-exclamation"
    settings_model = ManagerSettings

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        if settings.to == "field" and not _manager_field(context.session):
            return [("to", str(lazy("Choose the manager e-mail field in Settings → General first")))]
        return []

    def run(self, step: Step, journeys: Sequence[Journey]) -> list[Outcome]:
        queries = ActionQueries(step.session)
        customers = queries.customers([journey.customer_id for journey in journeys])
        addresses = {j.id: self._address(step, customers[j.customer_id]) for j in journeys}
        users = queries.users_by_email([a for a in addresses.values() if a])
        told: list[Any] = []
        outcomes: list[Outcome] = []
        for journey in journeys:
            address = addresses[journey.id]
            if address is None:
                outcomes.append(Stop("no_manager"))
                continue
            user_id, language = users.get(address.lower(), (None, None))
            whom = [Addressee(address, user_id, language)]
            told += self.tell(step, journey, customers[journey.customer_id], whom)
            outcomes.append(Go())
        self.deliver(step, told)
        return outcomes

    def _address(self, step: Step, customer: Customer) -> str | None:
        if step.settings.to == "address":
            return str(step.settings.address)
        if "field" not in step.memo:
            step.memo["field"] = _manager_field(step.session)
        value = (customer.custom or {}).get(step.memo["field"]) if step.memo["field"] else None
        return _valid_email(value)


def _project_language(step: Step) -> str:
    if "language" not in step.memo:
        step.memo["language"] = settings_service.read(step.session, GeneralSettings).default_language
    return str(step.memo["language"])


def _manager_field(session: Any) -> str | None:
    return settings_service.read(session, GeneralSettings).manager_email_field


def _valid_email(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _body(customer: Customer, text: str | None) -> str:
    name = customer.full_name.strip() or customer.external_id
    about = str(lazy("Customer: {name} ({external_id})")).format(name=name, external_id=customer.external_id)
    return f"{text}\n{about}" if text else about


# The staff e-mail's parts: what a user typed arrives as the message's event values, never as template
# code (the HTML part escapes them).
EMAIL_PARTS: dict[str, str | None] = {
    "subject": "{{ event.title }}",
    "html": (
        '<p style="white-space:pre-line">{{ event.body }}</p>'
        '<p><a href="{{ event.url }}">{{ event.url }}</a></p>'
    ),
    "text": "{{ event.body }}\n\n{{ event.url }}\n",
}


def _email(step: Step, journey: Journey, address: str, title: str, body: str, link: str) -> PlanRequest:
    """A staff e-mail through the ledger: to the address, from the campaign, sent at once."""
    return PlanRequest(
        source_kind=Source.CAMPAIGN,
        source_id=step.campaign.id,
        channel="email",
        recipient=address,
        part=f"v{step.version_id}.{step.node}",
        occurrence=f"j{journey.id}.{step.visit(journey)}",
        inline=InlineSource("email", EMAIL_PARTS),
        priority=Priority.HIGH,
        options={
            "deliver_immediately": True,
            "context": {"title": title, "body": body, "url": f"{base_url()}{link}"},
        },
    )
