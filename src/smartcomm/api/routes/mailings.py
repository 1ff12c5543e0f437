"""Mass mailings over the API: drafts, their messaging volume, launching, pausing, resuming, cancelling,
and where the sending stands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response, status
from sqlalchemy.orm import Session

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import PageOut, PageSize, error_responses
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.delivery.schemas import MessageOut
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import PageNumber, PathId
from smartcomm.mailings.schemas import (
    MailingChannel,
    MailingCreate,
    MailingOut,
    MailingStatus,
    MailingUpdate,
    PauseIn,
    TestSendIn,
    VolumeOut,
)
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Mailing

router = APIRouter(tags=["mailings"])

Viewer = Annotated[Principal, Depends(api_requires(Permission.MAILINGS_VIEW))]
Editor = Annotated[Principal, Depends(api_requires(Permission.MAILINGS_EDIT))]
Launcher = Annotated[Principal, Depends(api_requires(Permission.MAILINGS_LAUNCH))]
NOT_FOUND = error_responses(404)
CHANGE_ERRORS = error_responses(404, 409)


def out(session: Session, mailing: Mailing) -> MailingOut:
    progress = mailing_service.progress(session, [mailing.id])[mailing.id]
    return MailingOut.model_validate(mailing).model_copy(update={"progress": progress})


@router.get("/mailings", response_model=PageOut[MailingOut])
def list_mailings(
    session: DbSession,
    _: Viewer,
    channel: Annotated[MailingChannel | None, Query()] = None,
    mailing_status: Annotated[MailingStatus | None, Query(alias="status")] = None,
    page: PageNumber = 1,
    size: PageSize = 50,
) -> PageOut[MailingOut]:
    """Mailings, the newest first, with their progress; filtered by channel and status."""
    found = mailing_service.search(session, PageParams(page=page, size=size), channel, mailing_status)
    progress = mailing_service.progress(session, [mailing.id for mailing in found.items])
    items = [
        MailingOut.model_validate(m).model_copy(update={"progress": progress[m.id]}) for m in found.items
    ]
    return PageOut[MailingOut](
        items=items, total=found.total, page=found.page, size=found.size, pages=found.pages
    )


@router.post("/mailings", response_model=MailingOut, status_code=status.HTTP_201_CREATED)
def create_mailing(session: DbSession, principal: Editor, body: MailingCreate) -> MailingOut:
    """Create a draft. Templates must be of the mailing's channel; the category, segment and audiences
    must exist (422 naming the field)."""
    return out(session, mailing_service.create(session, principal.actor, body))


@router.get("/mailings/{mailing_id}", response_model=MailingOut, responses=NOT_FOUND)
def get_mailing(session: DbSession, _: Viewer, mailing_id: PathId) -> MailingOut:
    """One mailing with its progress: messages planned, sent, delivered, failed, suppressed, cancelled,
    and the control group's size."""
    return out(session, mailing_service.get(session, mailing_id))


@router.patch("/mailings/{mailing_id}", response_model=MailingOut, responses=CHANGE_ERRORS)
def update_mailing(
    session: DbSession, principal: Editor, mailing_id: PathId, body: MailingUpdate
) -> MailingOut:
    """Change a draft (fields not sent stay); a mailing no longer a draft answers 409."""
    return out(session, mailing_service.update(session, principal.actor, mailing_id, body))


@router.delete("/mailings/{mailing_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CHANGE_ERRORS)
def delete_mailing(session: DbSession, principal: Editor, mailing_id: PathId) -> Response:
    """Delete a draft; a mailing no longer a draft answers 409."""
    mailing_service.delete(session, principal.actor, mailing_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/mailings/{mailing_id}/copy",
    response_model=MailingOut,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
def copy_mailing(session: DbSession, principal: Editor, mailing_id: PathId) -> MailingOut:
    """A new draft with the mailing's settings (and a control-group seed of its own)."""
    return out(session, mailing_service.copy(session, principal.actor, mailing_id))


@router.get("/mailings/{mailing_id}/volume", response_model=VolumeOut, responses=NOT_FOUND)
def mailing_volume(session: DbSession, _: Viewer, mailing_id: PathId) -> VolumeOut:
    """The messaging volume if the mailing were sent now: its audience, the control group, and the report
    buckets of the rest (good recipients, address issue, unsubscribed from the channel or the category,
    the global control group, blocked by the communication policy)."""
    return mailing_service.volume(session, mailing_id)


@router.post("/mailings/{mailing_id}/launch", response_model=MailingOut, responses=CHANGE_ERRORS)
def launch_mailing(session: DbSession, principal: Launcher, mailing_id: PathId) -> MailingOut:
    """Send a draft: at its `scheduled_at` when that is ahead, else now. 409 when it is not a draft; 422
    naming the field when it has no template or no audience."""
    return out(session, mailing_service.launch(session, principal.actor, mailing_id))


@router.post("/mailings/{mailing_id}/pause", response_model=MailingOut, responses=CHANGE_ERRORS)
def pause_mailing(
    session: DbSession,
    principal: Launcher,
    mailing_id: PathId,
    body: Annotated[PauseIn | None, Body()] = None,
) -> MailingOut:
    """Pause a collecting or sending mailing: nothing more of it goes until it is resumed."""
    reason = body.reason if body is not None else None
    return out(session, mailing_service.pause(session, principal.actor, mailing_id, reason))


@router.post("/mailings/{mailing_id}/resume", response_model=MailingOut, responses=CHANGE_ERRORS)
def resume_mailing(session: DbSession, principal: Launcher, mailing_id: PathId) -> MailingOut:
    """Resume a paused mailing where it stopped; nobody gets its message twice."""
    return out(session, mailing_service.resume(session, principal.actor, mailing_id))


@router.post("/mailings/{mailing_id}/cancel", response_model=MailingOut, responses=CHANGE_ERRORS)
def cancel_mailing(session: DbSession, principal: Launcher, mailing_id: PathId) -> MailingOut:
    """Cancel a scheduled, collecting, sending or paused mailing: what was not handed over is cancelled."""
    return out(session, mailing_service.cancel(session, principal.actor, mailing_id))


@router.post(
    "/mailings/{mailing_id}/test",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    responses=NOT_FOUND,
)
def test_send_mailing(
    session: DbSession, principal: Editor, mailing_id: PathId, body: TestSendIn
) -> MessageOut:
    """Send a test copy to an address, phone or push token, rendered with the data of `customer_id` (the
    sample customer when left out), of a variant when given. Test copies never count in the mailing."""
    return MessageOut.model_validate(mailing_service.test_send(session, principal.actor, mailing_id, body))


@router.post("/mailings/{mailing_id}/resend", response_model=MailingOut, responses=CHANGE_ERRORS)
def resend_mailing(session: DbSession, principal: Launcher, mailing_id: PathId) -> MailingOut:
    """Send a sent mailing once more to the customers none of whose messages got through (failed, expired or
    cancelled); everyone reached is left alone. 409 unless the mailing is sent."""
    return out(session, mailing_service.resend_not_reached(session, principal.actor, mailing_id))
