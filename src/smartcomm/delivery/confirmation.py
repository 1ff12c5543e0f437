"""Double opt-in for e-mail: while it is on (General settings → Delivery, `double_opt_in`), e-mail goes
only to an address its customer confirmed through a signed link.

- **The gate.** A contact check registered with the facts loader answers `not_confirmed` for every
  customer whose current address is not the one they confirmed (`customers.confirmed_email`); the policy
  gate suppresses their e-mail with that reason — except the confirmation e-mail itself.
- **Asking.** A new or changed address is asked once: the subscriber `consent.confirmations` reads the
  events of customers created or whose e-mail changed (`customer.created`, `customer.changed` naming
  `email`) and of bulk writes (`customers.changed`, `customers.imported`: every customer they list), and
  for each valid address not yet confirmed nor asked records an `EmailConfirmation` and plans a
  confirmation e-mail through the ledger (source `confirmation`, a built-in template in the customer's
  language with the brand of Settings → Design). The ledger's key (the address is its occasion) makes a
  second request for the same address impossible.
- **Confirming.** `GET /confirm/<token>` shows a page with a button (link scanners fetch links; a GET
  changes nothing); its POST confirms: the address, the time, the address and browser it came from are
  kept, the change is audited with the customer as the actor and `consent.changed` is published. A link
  to an address the customer has since changed confirms nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.service import audit_service
from smartcomm.delivery import tokens
from smartcomm.delivery.consent import Visitor, customer_actor_named
from smartcomm.delivery.consent_repository import ConfirmationRepository
from smartcomm.delivery.design import Brand, brand, customer_language
from smartcomm.delivery.facts import register_contact_check
from smartcomm.delivery.ledger import Priority, Reason, Source
from smartcomm.delivery.schemas import InlineSource, PlanRequest
from smartcomm.kit import i18n
from smartcomm.kit.outbox import Event, publish, subscriber
from smartcomm.kit.time import utcnow
from smartcomm.models import Customer, EmailConfirmation
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service

SWEEP_BATCH = 1000
ASKING_EVENTS = frozenset({"customer.created", "customer.changed", "customers.changed", "customers.imported"})


# --- the gate's fact --------------------------------------------------------------------------------------


def unconfirmed_addresses(session: Session, customer_ids: Sequence[int]) -> dict[int, str]:
    """{customer id: "not_confirmed"} for the customers whose e-mail is not the address they confirmed,
    while double opt-in is on."""
    if not settings_service.read(session, DeliverySettings).double_opt_in:
        return {}
    addresses = ConfirmationRepository(session).confirmed_addresses(customer_ids)
    return {
        customer_id: Reason.NOT_CONFIRMED
        for customer_id, (email, confirmed) in addresses.items()
        if email and email != confirmed
    }


register_contact_check("email", "double_opt_in", unconfirmed_addresses)


# --- asking ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmable:
    """A confirmation link's request and its customer."""

    confirmation: EmailConfirmation
    customer: Customer

    @property
    def current(self) -> bool:
        """The link confirms the customer's address as it is now."""
        return self.customer.email == self.confirmation.email

    @property
    def confirmed(self) -> bool:
        return (
            self.confirmation.confirmed_at is not None
            and self.customer.confirmed_email == self.customer.email
        )


class ConfirmationService:
    def request_for(self, session: Session, customer_ids: Sequence[int]) -> int:
        """Ask these customers to confirm their e-mail when double opt-in is on and the address is valid,
        not confirmed and never asked; returns how many were asked."""
        if not customer_ids or not settings_service.read(session, DeliverySettings).double_opt_in:
            return 0
        repository = ConfirmationRepository(session)
        return self._ask(session, repository.unconfirmed(sorted(set(customer_ids))))

    def request_all(self, session: Session) -> int:
        """Ask every customer with an unconfirmed, never-asked address (events about too many customers
        to list)."""
        if not settings_service.read(session, DeliverySettings).double_opt_in:
            return 0
        repository, asked, after = ConfirmationRepository(session), 0, 0
        while rows := repository.unconfirmed_after(after, SWEEP_BATCH):
            asked += self._ask(session, rows)
            after = rows[-1].id
        return asked

    def _ask(self, session: Session, rows: Sequence[Any]) -> int:
        repository = ConfirmationRepository(session)
        asked = repository.requested([(row.id, row.email) for row in rows])
        new = [row for row in rows if (row.id, row.email) not in asked]
        if not new:
            return 0
        customers = repository.customers([row.id for row in new])
        look, general = brand(session), settings_service.read(session, GeneralSettings)
        confirmations = [
            repository.add(EmailConfirmation(customer_id=row.id, email=row.email)) for row in new
        ]
        requests = [
            _request(c, customers[c.customer_id], look, general.default_language) for c in confirmations
        ]
        from smartcomm.delivery.service import delivery_service

        for confirmation, message in zip(
            confirmations, delivery_service.plan(session, requests), strict=True
        ):
            confirmation.message_id = message.id
        session.flush()
        return len(confirmations)

    # --- confirming ------------------------------------------------------------------------------------

    def find(self, session: Session, confirmation_id: int) -> Confirmable | None:
        repository = ConfirmationRepository(session)
        confirmation = repository.get(confirmation_id)
        if confirmation is None:
            return None
        customer = session.get(Customer, confirmation.customer_id)
        return Confirmable(confirmation, customer) if customer is not None else None

    def confirm(self, session: Session, found: Confirmable, visitor: Visitor) -> bool:
        """Confirm the link's address: False when the customer's address has changed since (nothing is
        confirmed then); a repeat changes nothing."""
        if found.confirmed:
            return True
        if not found.current:
            return False
        customer, confirmation, now = found.customer, found.confirmation, utcnow()
        before = customer.confirmed_email
        ConfirmationRepository(session).confirm_customer(customer.id, confirmation.email, now)
        confirmation.confirmed_at, confirmation.ip_address = now, visitor.ip
        confirmation.user_agent = (visitor.user_agent or "")[:300] or None
        session.flush()
        actor = customer_actor_named(customer, visitor, "e-mail confirmation")
        changes = {"confirmed_email": [before, confirmation.email]}
        audit_service.record(
            session,
            actor,
            object_type="customer",
            object_id=customer.id,
            action="confirm_email",
            changes=changes,
            object_label=customer.full_name,
        )
        entry = {
            "customer_id": customer.id,
            "external_id": customer.external_id,
            "channels_off": [],
            "channels_on": [],
            "categories": {},
            "email_confirmed": confirmation.email,
        }
        payload = {"customers": [entry], "source": actor.kind, "actor": actor.label}
        publish(session, "consent.changed", customer_id=customer.id, payload=payload)
        return True


def _request(
    confirmation: EmailConfirmation, customer: Customer, look: Brand, default_language: str
) -> PlanRequest:
    language = customer_language(customer) or default_language
    with i18n.language(language):
        parts = confirmation_email(look, tokens.confirm_url(confirmation.id))
    return PlanRequest(
        source_kind=Source.CONFIRMATION,
        channel="email",
        customer_id=customer.id,
        occurrence=confirmation.email,  # one message per address: the ledger's key
        inline=InlineSource("email", parts),
        priority=Priority.HIGH,
        options={"deliver_immediately": True},
    )


# --- the built-in e-mail ---------------------------------------------------------------------------------

EMAIL_HTML = """<!doctype html>
<html lang="{language}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{subject}</title></head>
<body style="margin:0;padding:0;background:{background};">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:{background};">
<tr><td align="center" style="padding:32px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"
 style="max-width:560px;background:#ffffff;border-radius:12px;font-family:Arial,Helvetica,sans-serif;color:{text};">
<tr><td style="padding:32px 32px 8px 32px;">{logo}</td></tr>
<tr><td style="padding:8px 32px;font-size:22px;font-weight:bold;line-height:1.3;">{title}</td></tr>
<tr><td style="padding:8px 32px 24px 32px;font-size:16px;line-height:1.5;">{greeting}<br>{body}</td></tr>
<tr><td style="padding:0 32px 24px 32px;"><a href="{url}" style="display:inline-block;
 background:{primary};color:{on_primary};text-decoration:none;font-size:16px;font-weight:bold;
 padding:14px 28px;border-radius:8px;">{button}</a></td></tr>
<tr><td style="padding:0 32px 32px 32px;font-size:13px;line-height:1.5;color:#667382;">{ignore}</td></tr>
</table>
<p style="font-family:Arial,Helvetica,sans-serif;font-size:12px;color:#667382;">{{{{ company }}}}</p>
</td></tr></table></body></html>"""


def confirmation_email(look: Brand, url: str) -> dict[str, str | None]:
    """Subject, HTML and text of the confirmation e-mail, in the current language. They are rendered like
    any template (`company` and `client` are variables); nothing here comes from what a user typed except
    through those variables, so no template syntax can slip in."""
    subject = i18n.gettext_("Confirm your e-mail address")
    greeting = "{% if client.first_name %}" + i18n.gettext_("Hello") + ", {{ client.first_name }}!{% endif %}"
    body = i18n.gettext_("Please confirm that you want to receive our e-mails at this address.")
    button = i18n.gettext_("Confirm my address")
    ignore = i18n.gettext_("If you did not ask for this, ignore this e-mail: nothing will be sent to you.")
    base = tokens.base_url()
    logo = (
        f'<img src="{base}{look.logo_url}" alt="" style="max-height:48px;max-width:200px;">'
        if look.logo_url
        else ""
    )
    html = EMAIL_HTML.format(
        language=i18n.current_language(),
        subject=subject,
        background=look.background,
        text=look.text,
        primary=look.primary,
        on_primary=look.on_primary,
        logo=logo,
        title=subject,
        greeting=greeting,
        body=body,
        url=url,
        button=button,
        ignore=ignore,
    )
    text = f"{subject}\n\n{body}\n\n{button}: {url}\n\n{ignore}\n\n{{{{ company }}}}\n"
    return {"subject": subject, "html": html, "text": text}


# --- the subscriber ---------------------------------------------------------------------------------------


def _asked_customers(events: Sequence[Event]) -> set[int] | None:
    """The customers whose address may be new: created, e-mail changed, or listed by a bulk write (None:
    a bulk write about too many customers to list)."""
    found: set[int] = set()
    for event in events:
        if event.kind == "customer.changed" and "email" not in event.payload.get("fields", ()):
            continue
        customers = event.customers
        if customers is None:
            return None
        found |= customers
    return found


@subscriber("consent.confirmations", kinds=ASKING_EVENTS)
def ask_to_confirm(session: Session, events: Sequence[Event]) -> None:
    if not settings_service.read(session, DeliverySettings).double_opt_in:
        return
    customers = _asked_customers(events)
    if customers is None:
        confirmation_service.request_all(session)
    else:
        confirmation_service.request_for(session, sorted(customers))


confirmation_service = ConfirmationService()
