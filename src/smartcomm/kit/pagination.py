"""Page-numbered listing shared by the UI tables and the API."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, field_validator

from smartcomm.kit.types import MAX_PAGE

T = TypeVar("T")

MAX_PAGE_SIZE = 500


class PageParams(BaseModel):
    """A page to read. Page numbers outside 1…MAX_PAGE are moved inside (a link to page 0 or to page
    10^30 shows the first or a last, empty page): the API refuses them earlier, with a 422."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    size: int = Field(default=25, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("page", mode="before")
    @classmethod
    def _within_bounds(cls, value: Any) -> Any:
        return min(max(value, 1), MAX_PAGE) if isinstance(value, int) else value

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
    # True when `total` is a lower bound: the count stopped there (a count of a huge table costs more
    # than the page itself; people filter long before they page that far).
    more: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages or (self.more and len(self.items) == self.size)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        if self.more:  # the count stopped short: the page itself says how far it reaches
            return (self.page - 1) * self.size + len(self.items)
        return min(self.total, self.page * self.size)
