"""Base repository: the SQL of a domain lives in its repository, built on these helpers."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from smartcomm.kit.models import Base
from smartcomm.kit.pagination import Page, PageParams

ModelT = TypeVar("ModelT", bound=Base)
RowT = TypeVar("RowT")


class Repository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, identifier: Any) -> ModelT | None:
        return self.session.get(self.model, identifier)

    def add(self, instance: ModelT) -> ModelT:
        self.session.add(instance)
        self.session.flush()
        return instance

    def delete(self, instance: ModelT) -> None:
        self.session.delete(instance)
        self.session.flush()

    def paginate(self, statement: Select[RowT], params: PageParams) -> Page[RowT]:
        total = self.count(statement)
        rows = self.session.scalars(statement.limit(params.size).offset(params.offset)).unique().all()
        return Page(items=list(rows), total=total, page=params.page, size=params.size)

    def count(self, statement: Select[Any]) -> int:
        counted = select(func.count()).select_from(statement.order_by(None).subquery())
        return int(self.session.scalar(counted) or 0)
