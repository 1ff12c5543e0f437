"""The action history over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from smartcomm.api.deps import api_requires
from smartcomm.api.schemas import AuditEntryOut, PageOut, PageSize
from smartcomm.audit.service import audit_service
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit.http import DbSession
from smartcomm.kit.pagination import PageParams
from smartcomm.kit.types import MAX_INT64, NO_NUL_PATTERN, PageNumber

router = APIRouter(prefix="/audit-entries", tags=["action history"])


@router.get("", response_model=PageOut[AuditEntryOut])
def list_audit_entries(
    session: DbSession,
    _: Annotated[Principal, Depends(api_requires(Permission.API_READ))],
    user_id: Annotated[int | None, Query(ge=1, le=MAX_INT64)] = None,
    object_type: Annotated[str | None, Query(max_length=64, pattern=NO_NUL_PATTERN)] = None,
    object_id: Annotated[str | None, Query(max_length=64, pattern=NO_NUL_PATTERN)] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 instant, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 instant, exclusive")] = None,
    page: PageNumber = 1,
    size: PageSize = 50,
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
