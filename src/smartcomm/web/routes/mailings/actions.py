"""The actions on one mailing besides editing: pause, resume, cancel and resend to those not reached
(who launches), copy, delete and a test send (who prepares). Each goes through the mailing service (the
change and its history row) and comes back to the page with a toast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.kit.errors import DomainError
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import gettext_, lazy
from smartcomm.mailings.schemas import TestSendIn
from smartcomm.mailings.service import mailing_service
from smartcomm.web.forms import PostedForm, field_errors, rejected
from smartcomm.web.routes.mailings.common import CHANNEL_GROUP, Editor, Launcher, joined
from smartcomm.web.templating import flash, redirect

router = APIRouter()


def _act(
    request: Request,
    session: Session,
    mailing_id: int,
    action: Callable[[], Any],
    done: str,
    to: str | None = None,
) -> Response:
    try:
        action()
    except DomainError as error:
        problems = rejected(session, error)
        flash(request, joined(problems.values()), "danger")
        return redirect(request, f"/mailings/{mailing_id}")
    flash(request, done)
    return redirect(request, to or f"/mailings/{mailing_id}")


@router.post("/{mailing_id:int}/pause")
def pause(
    request: Request, session: DbSession, principal: Launcher, mailing_id: int, form: PostedForm
) -> Response:
    """Pause a mailing being sent; the reason typed is kept with it."""
    reason = str(form.get("reason") or "")[:500] or None
    return _act(
        request,
        session,
        mailing_id,
        lambda: mailing_service.pause(session, principal.actor, mailing_id, reason),
        lazy("The mailing was paused."),
    )


@router.post("/{mailing_id:int}/resume")
def resume(request: Request, session: DbSession, principal: Launcher, mailing_id: int) -> Response:
    return _act(
        request,
        session,
        mailing_id,
        lambda: mailing_service.resume(session, principal.actor, mailing_id),
        lazy("The mailing goes on."),
    )


@router.post("/{mailing_id:int}/cancel")
def cancel(request: Request, session: DbSession, principal: Launcher, mailing_id: int) -> Response:
    return _act(
        request,
        session,
        mailing_id,
        lambda: mailing_service.cancel(session, principal.actor, mailing_id),
        lazy("The mailing was cancelled."),
    )


@router.post("/{mailing_id:int}/resend")
def resend(request: Request, session: DbSession, principal: Launcher, mailing_id: int) -> Response:
    """Send again to those the mailing did not reach."""
    return _act(
        request,
        session,
        mailing_id,
        lambda: mailing_service.resend_not_reached(session, principal.actor, mailing_id),
        lazy("The mailing is sent again to those it did not reach."),
    )


@router.post("/{mailing_id:int}/copy")
def copy(request: Request, session: DbSession, principal: Editor, mailing_id: int) -> Response:
    """A new draft with the mailing's settings; opens in the editor."""
    try:
        created = mailing_service.copy(session, principal.actor, mailing_id)
    except DomainError as error:
        flash(request, joined(rejected(session, error).values()), "danger")
        return redirect(request, f"/mailings/{mailing_id}")
    flash(request, "The copy was created as a draft.")
    return redirect(request, f"/mailings/{created.id}")


@router.post("/{mailing_id:int}/delete")
def delete(request: Request, session: DbSession, principal: Editor, mailing_id: int) -> Response:
    """Delete a draft and go back to its channel's list."""
    mailing = mailing_service.get(session, mailing_id)
    back = f"/mailings/{CHANNEL_GROUP.get(mailing.channel, 'email')}"
    return _act(
        request,
        session,
        mailing_id,
        lambda: mailing_service.delete(session, principal.actor, mailing_id),
        lazy("The draft was deleted."),
        to=back,
    )


@router.post("/{mailing_id:int}/test-send")
def test_send(
    request: Request, session: DbSession, principal: Editor, mailing_id: int, form: PostedForm
) -> Response:
    """A test copy of the saved draft to an address or phone (rendered for a customer, if one is given)."""
    data = {key: form.get(key) for key in ("recipient", "customer_id", "variant")}
    try:
        wanted = TestSendIn.model_validate(data)
    except ValidationError as error:
        flash(request, joined(field_errors(error).values()), "danger")
        return redirect(request, f"/mailings/{mailing_id}")
    return _act(
        request,
        session,
        mailing_id,
        lambda: _send_test(session, principal.actor, mailing_id, wanted),
        gettext_("A test message was sent to %(recipient)s.") % {"recipient": wanted.recipient},
    )


def _send_test(session: Session, actor: Actor, mailing_id: int, wanted: TestSendIn) -> Any:
    return mailing_service.test_send(session, actor, mailing_id, wanted)
