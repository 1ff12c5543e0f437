"""Writing and reading the action history. Every mutating service calls `record` in its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.repository import AuditRepository
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.models import AuditEntry

REDACTED = "••••"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as {field: [before, after]}."""
    changed: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = _jsonable(before.get(key)), _jsonable(after.get(key))
        if old != new:
            changed[key] = [old, new]
    return changed


class AuditService:
    def record(
        self,
        session: Session,
        actor: Actor,
        *,
        object_type: str,
        object_id: object,
        action: str,
        changes: dict[str, list[Any]] | None = None,
        object_label: str = "",
    ) -> AuditEntry:
        """Add one history row to the current transaction, flushed at once."""
        entry = AuditEntry(**self.row(actor, object_type, object_id, action, changes, object_label))
        session.add(entry)
        session.flush()
        return entry

    def record_all(self, session: Session, rows: Sequence[dict[str, Any]]) -> None:
        """Add many history rows (made by `row`) to the current transaction in one insert: the requests
        of a group commit, each with its own row, without an object per row to track."""
        if rows:
            AuditRepository(session).insert_all(rows)

    @staticmethod
    def row(
        actor: Actor,
        object_type: str,
        object_id: object,
        action: str,
        changes: dict[str, list[Any]] | None = None,
        object_label: str = "",
    ) -> dict[str, Any]:
        """The values of one history row."""
        return {
            "actor_kind": actor.kind,
            "actor_id": actor.user_id,
            "actor_label": actor.label,
            "object_type": object_type,
            "object_id": str(object_id),
            "object_label": object_label[:254],
            "action": action,
            "changes": _jsonable(changes or {}),
            "ip_address": actor.ip_address,
        }

    def search(
        self,
        session: Session,
        params: PageParams,
        *,
        actor_id: int | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEntry]:
        """Filtered, newest-first page of the action history."""
        return AuditRepository(session).search(
            params, actor_id=actor_id, object_type=object_type, object_id=object_id, since=since, until=until
        )

    def object_types(self, session: Session) -> list[str]:
        return AuditRepository(session).object_types()


audit_service = AuditService()
