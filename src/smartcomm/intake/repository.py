"""SQL of the stored answers to idempotent API writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from smartcomm.kit.repository import Repository
from smartcomm.models import IdempotencyRecord

# The status of a key reserved by a request still running in this transaction (never committed as such).
RESERVED = 0


class IdempotencyRepository(Repository[IdempotencyRecord]):
    model = IdempotencyRecord

    def reserve(self, key: str, request_hash: str) -> IdempotencyRecord | None:
        """Insert the key for this request; None when a concurrent request committed it first."""
        record = IdempotencyRecord(key=key, request_hash=request_hash, status_code=RESERVED, response={})
        try:
            # A savepoint: on PostgreSQL the insert waits for a concurrent holder of the key and then fails,
            # which must not abort the request's transaction.
            with self.session.begin_nested():
                self.session.add(record)
        except IntegrityError:
            return None
        return record

    def fresh(self, key: str) -> IdempotencyRecord | None:
        """The stored record, read from the database (a concurrent request may just have committed it)."""
        return self.session.get(IdempotencyRecord, key, populate_existing=True)

    def purge_before(self, moment: datetime) -> int:
        result = self.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < moment))
        return int(getattr(result, "rowcount", 0) or 0)
