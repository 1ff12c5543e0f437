"""Customers → All customers: the searchable list and the customer profile (360°) with its edits."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.control_groups.service import global_control_service
from smartcomm.customers.profile import ProfilePages, contact_warnings, profile_service
from smartcomm.customers.repository import ContactBucket
from smartcomm.customers.schemas import Channel, ChannelPermissions, SubscriptionsIn, SubscriptionValue
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.orders.views import customer_orders
from smartcomm.segments.service import segment_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.routes.contact_quality import bucket_title
from smartcomm.web.segment_builder import customer_filter
from smartcomm.web.templating import flash, is_htmx, redirect, render

router = APIRouter(prefix="/customers")
Viewer = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_VIEW))]
Editor = Annotated[Principal, Depends(requires(Permission.CUSTOMERS_EDIT_CONTACTS))]

PAGE_SIZE = 25
DEFAULT_SORT = "-registered"
SORTABLE = ("name", "registered", "last_purchase", "total", "receipts")
TABS = ("receipts", "events", "web-events", "containers", "communications", "promocodes", "polls", "orders")
# htmx asks for one paged section of the profile by targeting its element.
SECTIONS = {
    "receipts-section": "receipts",
    "events-section": "events",
    "web-events-section": "web_events",
    "communications-section": "communications",
}


class SubscriptionChange(BaseModel):
    """One cell of the subscriptions matrix: Y subscribes, N unsubscribes, ND removes from the category."""

    category: str = Field(min_length=1, max_length=64)
    channel: Channel
    value: SubscriptionValue


class ContactsForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)


def _sort(value: str) -> str:
    return value if value.lstrip("-") in SORTABLE else DEFAULT_SORT


@router.get("", response_class=HTMLResponse)
def list_customers(
    request: Request,
    session: DbSession,
    principal: Viewer,
    q: str = "",
    sort: str = "",
    page: int = 1,
    rules: str = "",
    contact: ContactBucket | None = None,
) -> Response:
    """The customer base, searched by name, phone, e-mail, ids, card or receipt number, and filtered by
    segment conditions (`rules`, the builder's JSON) and by a contact data quality bucket (`contact`)."""
    query, order = q.strip(), _sort(sort)
    params, country = PageParams(page=max(page, 1), size=PAGE_SIZE), request.state.general.sms_default_country
    list_filter = customer_filter(request, session, principal, rules)
    wanted: dict[str, Any] = {"query": query, "sort": order, "default_country": country, "contact": contact}
    if list_filter is not None and list_filter.rules is not None:
        found = segment_service.search_customers(session, list_filter.rules, params, **wanted)
    else:
        found = customer_service.search(session, params, **wanted)
    context = {
        "page": found,
        "q": query,
        "sort": order,
        "warnings": {customer.id: contact_warnings(customer) for customer in found.items},
        # Without a query or a filter the page total is the whole base: no second count.
        "base_count": customer_service.count(session) if query or rules or contact else found.total,
        "filter": list_filter,
        "contact": contact,
        "contact_title": bucket_title(contact) if contact else None,
    }
    return render(request, "customers/list.html", context, fragment="customers/_table.html")


@router.get("/{customer_id}", response_class=HTMLResponse)
def profile(
    request: Request,
    session: DbSession,
    _: Viewer,
    customer_id: int,
    tab: str = "receipts",
    receipts_page: int = 1,
    events_page: int = 1,
    web_events_page: int = 1,
    communications_page: int = 1,
) -> Response:
    """The customer's 360° profile; an htmx request for one paged section gets that section only."""
    pages = ProfilePages(receipts_page, events_page, web_events_page, communications_page)
    section = SECTIONS.get(request.headers.get("HX-Target", "")) if is_htmx(request) else None
    if section is not None:
        return _section(request, session, customer_id, section, pages)
    loaded = profile_service.load(session, customer_id, pages, request.state.general.time_zone)
    context = {f.name: getattr(loaded, f.name) for f in fields(loaded)}
    context["tab"] = tab if tab in TABS else "receipts"
    context["global_control"] = global_control_service.stays(session, customer_id)
    if request.state.general.orders_enabled:  # the optional module's tab
        context["orders"] = customer_orders(session, customer_id)
    return render(request, "customers/profile.html", context)


@router.post("/{customer_id}/subscriptions", response_class=HTMLResponse)
def change_subscription(
    request: Request, session: DbSession, principal: Editor, customer_id: int, form: PostedForm
) -> Response:
    """Set one category × channel cell of the subscriptions matrix."""
    customer = customer_service.get(session, customer_id)
    change, _errors = validate_form(SubscriptionChange, form)
    status = 200
    if change is None:
        flash(request, "Choose a mailing category, a channel and a state.", "danger")
        status = 422
    else:
        data = SubscriptionsIn(categories={change.category: {change.channel: change.value}})
        try:
            customer_service.set_subscriptions(session, principal.actor, customer, data)
            flash(request, "Subscription saved.")
        except DomainError as error:
            rejected(session, error)
            flash(request, error.message, "danger")
            status = error.status_code
    if not is_htmx(request):
        return redirect(request, f"/customers/{customer_id}")
    return _subscriptions_fragment(request, session, customer_id, status)


@router.post("/{customer_id}/contacts", response_class=HTMLResponse)
def change_contacts(
    request: Request, session: DbSession, principal: Editor, customer_id: int, form: PostedForm
) -> Response:
    """Replace the customer's e-mail and phone; invalid values are refused with a message per field."""
    customer = customer_service.get(session, customer_id)
    data, errors = validate_form(ContactsForm, form)
    if data is None:
        return _contacts_card(request, session, customer_id, form, errors)
    try:
        customer_service.edit_contacts(session, principal.actor, customer, email=data.email, phone=data.phone)
    except DomainError as error:
        return _contacts_card(request, session, customer_id, form, rejected(session, error))
    flash(request, "Contacts saved.")
    return redirect(request, f"/customers/{customer_id}")


@router.post("/{customer_id}/permissions", response_class=HTMLResponse)
def change_permissions(
    request: Request, session: DbSession, principal: Editor, customer_id: int, form: PostedForm
) -> Response:
    """Allow or forbid whole channels (e-mail, SMS, Viber, push) for the customer."""
    customer = customer_service.get(session, customer_id)
    data, _errors = validate_form(ChannelPermissions, form)
    if data is None:
        flash(request, "Choose allowed or forbidden for each channel.", "danger")
    else:
        customer_service.set_permissions(session, principal.actor, customer, data)
        flash(request, "Channel permissions saved.")
    return redirect(request, f"/customers/{customer_id}")


def _section(
    request: Request, session: Session, customer_id: int, section: str, pages: ProfilePages
) -> Response:
    customer = customer_service.get(session, customer_id)
    context = {"customer": customer, section: profile_service.section(session, customer_id, section, pages)}
    return render(request, "customers/profile.html", context, fragment=f"customers/profile/_{section}.html")


def _subscriptions_fragment(request: Request, session: Session, customer_id: int, status: int) -> Response:
    customer = customer_service.get(session, customer_id)
    context = {
        "customer": customer,
        "warnings": contact_warnings(customer),
        "subscriptions": customer_service.subscriptions(session, customer),
    }
    return render(
        request,
        "customers/profile.html",
        context,
        status_code=status,
        fragment="customers/profile/_subscriptions.html",
    )


def _contacts_card(
    request: Request, session: Session, customer_id: int, values: dict[str, Any], errors: FormErrors
) -> Response:
    customer = customer_service.get(session, customer_id)
    context = {
        "customer": customer,
        "warnings": contact_warnings(customer),
        "push_tokens": customer_service.push_tokens(session, customer_id),
        "values": values,
        "errors": errors,
    }
    # Only ever swapped in place of the contacts card, so the card is the whole answer.
    return render(request, "customers/profile/_contacts.html", context, status_code=422)
