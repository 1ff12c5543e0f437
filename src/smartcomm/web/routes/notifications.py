"""The bell in the top bar: the signed-in user's unread notifications, opening one, reading them all."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.http import DbSession
from smartcomm.notifications.service import notification_service, safe_link
from smartcomm.web.deps import requires
from smartcomm.web.templating import redirect, render

router = APIRouter(prefix="/notifications")
Me = Annotated[Principal, Depends(requires(Permission.ACCOUNT))]


@router.get("/bell", response_class=HTMLResponse)
def bell(request: Request, session: DbSession, principal: Me) -> HTMLResponse:
    """The bell and its list of unread notifications (every page loads it into the top bar)."""
    found = notification_service.bell(session, principal.id)
    return render(request, "notifications/_bell.html", {"bell": found})


@router.post("/{notification_id}/open")
def open_notification(request: Request, session: DbSession, principal: Me, notification_id: int) -> Response:
    """Mark the notification read and go where it links (the page it was opened on without a link)."""
    found = notification_service.open(session, principal.id, notification_id)
    return redirect(request, safe_link(found.link) or _back(request))


@router.post("/read", response_class=HTMLResponse)
def read_all(request: Request, session: DbSession, principal: Me) -> HTMLResponse:
    """Mark every notification of the user read; the bell comes back empty."""
    notification_service.read_all(session, principal.id)
    return bell(request, session, principal)


def _back(request: Request) -> str:
    referer = request.headers.get("referer") or ""
    base = str(request.base_url)
    path = "/" + referer[len(base) :] if referer.startswith(base) else "/"
    return safe_link(path) or "/"
