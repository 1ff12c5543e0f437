"""Settings → Action history: who changed what, when, with before/after values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

from babel.dates import format_datetime
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from smartcomm.audit.service import audit_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.auth.repository import UserRepository
from smartcomm.kit import i18n
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.time import end_of_day, start_of_day, to_zone
from smartcomm.web.audit_changes import ChangeReader, actor_name
from smartcomm.web.deps import requires
from smartcomm.web.templating import render

router = APIRouter(prefix="/settings/history")
Auditor = Annotated[Principal, Depends(requires(Permission.AUDIT_VIEW))]


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parse_int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _moments_in(zone: str) -> Callable[[datetime], str]:
    """Moments recorded in a change, shown like the time of the entry: short, in the project time zone."""
    return lambda moment: format_datetime(
        to_zone(moment, zone), format="short", locale=i18n.current_language()
    )


@router.get("", response_class=HTMLResponse)
def history(
    request: Request,
    session: DbSession,
    _: Auditor,
    user: str = "",
    object_type: str = "",
    object_id: str = "",
    since: str = "",
    until: str = "",
    page: int = 1,
) -> Response:
    """Action history filtered by user, object type and date range (days in the project time zone)."""
    zone = request.state.general.time_zone
    since_day, until_day = _parse_day(since), _parse_day(until)
    entries = audit_service.search(
        session,
        PageParams(page=max(page, 1), size=50),
        actor_id=_parse_int(user),
        object_type=object_type or None,
        object_id=object_id or None,
        since=start_of_day(since_day, zone) if since_day else None,
        until=end_of_day(until_day, zone) if until_day else None,
    )
    filters = {
        "user": user,
        "object_type": object_type,
        "object_id": object_id,
        "since": since,
        "until": until,
    }
    context = {
        "page": entries,
        "changes": ChangeReader(session, _moments_in(zone)).read(entries.items),
        "actor_name": actor_name,
        "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "users": UserRepository(session).all_ordered(),
        "object_types": audit_service.object_types(session),
    }
    return render(request, "settings/history/list.html", context, fragment="settings/history/_table.html")
