"""The action history over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import AuditEntryOut, PageOut
from smartcomm.audit.service import audit_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import MAX_PAGE_SIZE, PageParams

router = APIRouter(prefix="/audit-entries", tags=["action history"])


@router.get("", response_model=PageOut[AuditEntryOut])
def list_audit_entries(
    session: DbSession,
    _: Annotated[Principal, Depends(api_requires(Permission.API_READ))],
    user_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 instant, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 instant, exclusive")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageOut[AuditEntryOut]:
    """Action history, newest first, filtered by user, object and time range."""
    result = audit_service.search(
        session,
        PageParams(page=page, size=size),
        actor_id=user_id,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    return PageOut.of(result, AuditEntryOut)
