"""Idempotency keys: a write repeated with the same key and request gets the first answer, once stored.

The key is scoped by the API user. The answer is stored in the transaction of the write itself, so a
write that is rolled back leaves no answer behind, and a stored answer always belongs to a committed write.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.intake.repository import IdempotencyRepository
from smartcomm.kit.errors import Conflict, DomainError, FieldError
from smartcomm.kit.time import utcnow
from smartcomm.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class StoredAnswer:
    """The answer given to the first request with a key."""

    status_code: int
    body: Any


class KeyReused(DomainError):
    def __init__(self) -> None:
        message = f"This {HEADER} was already used for a different request"
        super().__init__(
            message,
            status_code=422,
            code="idempotency_key_reused",
            errors=[FieldError(HEADER, message, "idempotency_key_reused")],
        )


def request_fingerprint(method: str, target: str, body: bytes) -> str:
    """A hash of what the request asks for: method, path with query, and the body (JSON in canonical form)."""
    try:
        canonical = (
            json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
        )
    except ValueError:
        canonical = body
    return hashlib.sha256(f"{method} {target}\n".encode() + canonical).hexdigest()


class IdempotencyService:
    def claim(
        self, session: Session, user_id: int, key: str, fingerprint: str
    ) -> IdempotencyRecord | StoredAnswer:
        """Reserve the key for this request, or return the answer stored for the same earlier request."""
        repository = IdempotencyRepository(session)
        scoped = f"{user_id}:{key}"
        record = self._unexpired(repository, scoped)
        if record is None:
            reserved = repository.reserve(scoped, fingerprint)
            if reserved is not None:
                return reserved
            record = repository.fresh(scoped)
            if record is None:
                raise Conflict(f"Another request with this {HEADER} is still running; send it again")
        if record.request_hash != fingerprint:
            raise KeyReused()
        return StoredAnswer(record.status_code, record.response)

    def complete(self, session: Session, record: IdempotencyRecord, status_code: int, body: Any) -> None:
        """Keep the answer of a successful write; a failed request frees its key."""
        if status_code >= 400:
            self.release(session, record)
            return
        record.status_code, record.response = status_code, body
        session.flush()

    def release(self, session: Session, record: IdempotencyRecord) -> None:
        """Free a key reserved by this request: nothing is kept for it."""
        IdempotencyRepository(session).delete(record)

    def purge(self, session: Session) -> int:
        """Delete the answers older than the retention period; returns how many."""
        return IdempotencyRepository(session).purge_before(utcnow() - RETENTION)

    def _unexpired(self, repository: IdempotencyRepository, key: str) -> IdempotencyRecord | None:
        record = repository.get(key)
        if record is not None and record.created_at < utcnow() - RETENTION:
            repository.delete(record)
            return None
        return record


idempotency_service = IdempotencyService()
