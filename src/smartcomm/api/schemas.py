"""Shapes shared by API responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict

from smartcomm.kit.pagination import MAX_PAGE_SIZE, Page
from smartcomm.kit.types import NO_NUL_PATTERN

ItemT = TypeVar("ItemT", bound=BaseModel)


class PageOut(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    page: int
    size: int
    pages: int

    @classmethod
    def of(cls, page: Page[Any], item_type: type[ItemT]) -> PageOut[ItemT]:
        return cls(
            items=[item_type.model_validate(item, from_attributes=True) for item in page.items],
            total=page.total,
            page=page.page,
            size=page.size,
            pages=page.pages,
        )


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_kind: str
    actor_id: int | None
    actor_label: str
    object_type: str
    object_id: str
    object_label: str
    action: str
    changes: dict[str, Any]
    ip_address: str | None


class ErrorItem(BaseModel):
    status: int
    code: str
    title: str
    field: str | None = None


class ErrorBody(BaseModel):
    errors: list[ErrorItem]


# The answers every operation of /api/v1 may give besides its own (declared on the router).
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "The body could not be read (not UTF-8, not JSON, or nested too deeply)",
    401: "Missing or invalid token",
    403: "The token's role may not use this endpoint",
    404: "The object named in the path does not exist",
    409: "The request conflicts with the stored data, or another request with the same Idempotency-Key "
    "is still running",
    413: "The body is larger than the configured limit (SMARTCOMM_API_MAX_BODY_BYTES)",
    422: "Invalid input; each error names its field",
    429: "More than the allowed requests per minute from this address",
}
COMMON_ERRORS = (400, 401, 403, 413, 422, 429)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each with the error body."""
    return {status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}


# Route parameters shared by the routers.
ExternalId = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=NO_NUL_PATTERN, description="The customer's id in your system"),
]
Code = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")]
SearchText = Annotated[str, Query(max_length=200, pattern=NO_NUL_PATTERN, description="Text to look for")]
