"""SQL of the action history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, insert, select

from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import AuditEntry


class AuditRepository(Repository[AuditEntry]):
    model = AuditEntry

    def insert_all(self, rows: Sequence[dict[str, Any]]) -> None:
        # Into the table itself: the ORM's bulk path adds nothing here but its own bookkeeping.
        table = AuditEntry.__table__
        assert isinstance(table, Table)
        self.session.execute(insert(table), list(rows))

    def search(
        self,
        params: PageParams,
        *,
        actor_id: int | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEntry]:
        statement: Select[AuditEntry] = select(AuditEntry)
        if actor_id is not None:
            statement = statement.where(AuditEntry.actor_id == actor_id)
        if object_type:
            statement = statement.where(AuditEntry.object_type == object_type)
        if object_id:
            statement = statement.where(AuditEntry.object_id == object_id)
        if since is not None:
            statement = statement.where(AuditEntry.occurred_at >= since)
        if until is not None:
            statement = statement.where(AuditEntry.occurred_at < until)
        statement = statement.order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        return self.paginate(statement, params)

    def object_types(self) -> list[str]:
        return list(
            self.session.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type))
        )
