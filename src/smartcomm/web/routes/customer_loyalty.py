"""The customer profile's "Loyalty operations" card: awarding points and asking the loyalty system for
bonuses by hand (Senior marketers), and sending a failed accrual again. Each answers htmx with the card
(422 with the errors per field) or a redirect to the profile."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.customers.service import customer_service
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.loyalty.profile import loyalty_card
from smartcomm.loyalty.schemas import AccrualForm, PointsForm, Source
from smartcomm.loyalty.service import loyalty_service
from smartcomm.web.deps import requires
from smartcomm.web.forms import FormErrors, PostedForm, rejected, validate_form
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/customers")
Operator = Annotated[Principal, Depends(requires(Permission.LOYALTY_OPERATE))]
# Keys of operations asked on the profile: the form's own key, so that a form sent twice acts once.
MANUAL = "manual:"


@router.post("/{customer_id}/points", response_class=HTMLResponse)
def award_points(
    request: Request, session: DbSession, principal: Operator, customer_id: int, form: PostedForm
) -> Response:
    """Award points to the customer (negative: take back), audited."""
    customer_service.get(session, customer_id)
    data, errors = validate_form(PointsForm, form)
    if data is None:
        return _card(request, session, customer_id, "points", form, errors)
    source = Source("user", str(principal.id))
    try:
        created = loyalty_service.award_points(
            session, customer_id, data.points, MANUAL + data.key, data.reason, source, principal.actor
        )
    except DomainError as error:
        return _card(request, session, customer_id, "points", form, rejected(session, error))
    if created:
        flash(request, "Points awarded.")
    else:
        flash(request, "These points were awarded already.")
    return redirect(request, f"/customers/{customer_id}")


@router.post("/{customer_id}/accruals", response_class=HTMLResponse)
def accrue_bonuses(
    request: Request, session: DbSession, principal: Operator, customer_id: int, form: PostedForm
) -> Response:
    """Ask the loyalty system to accrue bonuses to the customer (sent after this request), audited."""
    customer_service.get(session, customer_id)
    data, errors = validate_form(AccrualForm, form)
    if data is None:
        return _card(request, session, customer_id, "accrual", form, errors)
    source = Source("user", str(principal.id))
    try:
        created = loyalty_service.request_accrual(
            session, customer_id, data.amount, MANUAL + data.key, data.comment, source, principal.actor
        )
    except DomainError as error:
        return _card(request, session, customer_id, "accrual", form, rejected(session, error))
    if created:
        flash(request, "Bonus accrual sent to the loyalty system.")
    else:
        flash(request, "This accrual was asked for already.")
    return redirect(request, f"/customers/{customer_id}")


@router.post("/{customer_id}/accruals/{request_id}/send-again", response_class=HTMLResponse)
def send_again(
    request: Request, session: DbSession, principal: Operator, customer_id: int, request_id: int
) -> Response:
    """Send a failed accrual again from its first attempt, audited."""
    loyalty_service.send_again(session, principal.actor, customer_id, request_id)
    flash(request, "The accrual is sent again.")
    return redirect(request, f"/customers/{customer_id}")


def _card(
    request: Request,
    session: Session,
    customer_id: int,
    open_form: str,
    values: dict[str, Any],
    errors: FormErrors,
) -> Response:
    context = {
        "customer": customer_service.get(session, customer_id),
        "loyalty": loyalty_card(session, customer_id),
        "loyalty_form": open_form,
        "loyalty_values": values,
        "loyalty_errors": errors,
    }
    # Only ever swapped in place of the card, so the card is the whole answer.
    return render(request, "customers/profile/_loyalty_operations.html", context, status_code=422)
