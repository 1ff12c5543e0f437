"""Shapes shared by API responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from smartcomm.kit.pagination import Page

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
