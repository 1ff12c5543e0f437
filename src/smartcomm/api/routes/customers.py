"""Customers over the API: upserts, batches, channel permissions, contacts, subscriptions, receipts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import ExternalId, PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.quality import ContactQualityOut, contact_quality_service
from smartcomm.customers.schemas import (
    ChannelPermissions,
    ContactsIn,
    CustomerBatchIn,
    CustomerBatchOut,
    CustomerOut,
    CustomerPut,
    SubscriptionOut,
    SubscriptionsIn,
)
from smartcomm.customers.service import customer_service
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber
from smartcomm.models import Customer
from smartcomm.receipts.schemas import ReceiptOut
from smartcomm.receipts.service import receipt_service

router = APIRouter(prefix="/customers", tags=["customers"])

Reader = Annotated[Principal, Depends(api_requires(Permission.API_READ))]
Writer = Annotated[Principal, Depends(api_requires(Permission.API_WRITE))]
NOT_FOUND = error_responses(404)


def channel_permissions(customer: Customer) -> ChannelPermissions:
    return ChannelPermissions(
        email=customer.allow_email,
        sms=customer.allow_sms,
        viber=customer.allow_viber,
        push=customer.allow_push,
    )


@router.post("/batch", response_model=CustomerBatchOut)
def upsert_customers(session: DbSession, principal: Writer, body: CustomerBatchIn) -> CustomerBatchOut:
    """Create or update up to 1,000 customers; one invalid item rejects the batch (`customers[3].email`)."""
    return customer_service.upsert_batch(session, principal.actor, body.customers)


@router.get("/{external_id}", response_model=CustomerOut, responses=NOT_FOUND)
def get_customer(session: DbSession, _: Reader, external_id: ExternalId) -> CustomerOut:
    """A customer with contacts, consent, custom fields and purchase aggregates."""
    return CustomerOut.model_validate(customer_service.get_by_external_id(session, external_id))


@router.put(
    "/{external_id}",
    response_model=CustomerOut,
    responses={201: {"model": CustomerOut, "description": "The customer was created"}},
)
def put_customer(
    session: DbSession, principal: Writer, external_id: ExternalId, body: CustomerPut, response: Response
) -> CustomerOut:
    """Create the customer (201) or change the fields sent (200); fields not sent stay, null clears."""
    customer, created = customer_service.upsert(session, principal.actor, body.for_external_id(external_id))
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return CustomerOut.model_validate(customer)


@router.get("/{external_id}/channel", response_model=ChannelPermissions, responses=NOT_FOUND)
def get_channel_permissions(session: DbSession, _: Reader, external_id: ExternalId) -> ChannelPermissions:
    """Whether the customer allows messages on each channel as a whole."""
    return channel_permissions(customer_service.get_by_external_id(session, external_id))


@router.post("/{external_id}/channel", response_model=ChannelPermissions, responses=NOT_FOUND)
def set_channel_permissions(
    session: DbSession, principal: Writer, external_id: ExternalId, body: ChannelPermissions
) -> ChannelPermissions:
    """Allow (true) or forbid (false) whole channels; channels not sent stay unchanged."""
    customer = customer_service.get_by_external_id(session, external_id)
    return channel_permissions(customer_service.set_permissions(session, principal.actor, customer, body))


@router.post("/{external_id}/contacts", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def update_contacts(session: DbSession, principal: Writer, external_id: ExternalId, body: ContactsIn) -> None:
    """Replace the e-mail or phone (normalised) and register push tokens (a token moves to its last owner)."""
    customer = customer_service.get_by_external_id(session, external_id)
    customer_service.update_contacts(session, principal.actor, customer, body)


@router.get("/{external_id}/subscribe", response_model=list[SubscriptionOut], responses=NOT_FOUND)
def get_subscriptions(session: DbSession, _: Reader, external_id: ExternalId) -> list[SubscriptionOut]:
    """The mailing categories the customer is subscribed to on at least one channel."""
    customer = customer_service.get_by_external_id(session, external_id)
    return subscribed_only(customer_service.subscriptions(session, customer))


@router.patch("/{external_id}/subscribe", response_model=list[SubscriptionOut], responses=NOT_FOUND)
def set_subscriptions(
    session: DbSession, principal: Writer, external_id: ExternalId, body: SubscriptionsIn
) -> list[SubscriptionOut]:
    """Per category and channel: Y subscribes, N unsubscribes, ND leaves the category; others unchanged."""
    customer = customer_service.get_by_external_id(session, external_id)
    customer_service.set_subscriptions(session, principal.actor, customer, body)
    return subscribed_only(customer_service.subscriptions(session, customer))


@router.get("/{external_id}/receipts", response_model=PageOut[ReceiptOut], responses=NOT_FOUND)
def list_customer_receipts(
    session: DbSession,
    _: Reader,
    external_id: ExternalId,
    page: PageNumber = 1,
    size: PageSize = 25,
) -> PageOut[ReceiptOut]:
    """The customer's receipts with their lines, newest first."""
    customer = customer_service.get_by_external_id(session, external_id)
    found = receipt_service.for_customer(session, customer.id, PageParams(page=page, size=size))
    lines = receipt_service.lines_of(session, [receipt.id for receipt in found.items])
    items = [ReceiptOut.with_lines(receipt, lines[receipt.id]) for receipt in found.items]
    return PageOut[ReceiptOut](
        items=items, total=found.total, page=found.page, size=found.size, pages=found.pages
    )


def subscribed_only(states: list[SubscriptionOut]) -> list[SubscriptionOut]:
    return [state for state in states if any((state.email, state.sms, state.viber, state.push))]


# --- contact data quality ---------------------------------------------------------------------------


@router.get("/contact-quality", response_model=ContactQualityOut)
def contact_quality(session: DbSession, _: Reader) -> ContactQualityOut:
    """Customers by the state of their e-mail, phone and push tokens, with duplicates (the numbers of
    Customers → Contact data quality); each bucket's `filter` is its customer list (`/customers?contact=`)."""
    return contact_quality_service.report(session)


# Matched before `/{external_id}`, which would otherwise take "contact-quality" for an external id.
router.routes.insert(0, router.routes.pop())
