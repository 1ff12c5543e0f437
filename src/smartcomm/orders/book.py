"""The status dictionary as a write reads it: every status of every dimension, loaded once per action
(the table holds a few dozen rows), looked up by code and by id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from smartcomm.models import OrderStatus
from smartcomm.orders.repository import StatusRepository


@dataclass(frozen=True, slots=True)
class StatusEntry:
    id: int
    dimension: str
    code: str
    include_in_analytics: bool
    is_final: bool


class StatusBook:
    def __init__(self, statuses: Iterable[OrderStatus]) -> None:
        entries = [
            StatusEntry(s.id, s.dimension, s.code, s.include_in_analytics, s.is_final) for s in statuses
        ]
        self._by_code = {(entry.dimension, entry.code): entry for entry in entries}
        self._by_id = {entry.id: entry for entry in entries}

    @classmethod
    def load(cls, session: Session) -> StatusBook:
        return cls(StatusRepository(session).all())

    def find(self, dimension: str, code: str) -> StatusEntry | None:
        return self._by_code.get((dimension, code))

    def code_of(self, status_id: int | None) -> str | None:
        entry = self._by_id.get(status_id) if status_id is not None else None
        return entry.code if entry else None

    def in_analytics(self, status_ids: Mapping[str, int | None]) -> bool:
        """An order counts in analytics unless one of its statuses is excluded."""
        return all(
            self._by_id[status_id].include_in_analytics
            for status_id in status_ids.values()
            if status_id is not None and status_id in self._by_id
        )
