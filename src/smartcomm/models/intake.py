"""Bookkeeping of data intake: idempotent API writes and file imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.leases import LeasedJob
from smartcomm.kit.models import Base
from smartcomm.kit.time import utcnow


class IdempotencyRecord(Base):
    """The stored answer to a write sent with an Idempotency-Key; a repeat gets the same answer."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<user id>:<header value>"
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ImportJob(LeasedJob, Base):
    """A CSV import: its file, mode, progress and the row-level error report.

    While it is checked or written the row names the process running it (see `kit.leases`).
    """

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # customers | receipts | products
    file_name: Mapped[str] = mapped_column(String(255))
    file_path: Mapped[str] = mapped_column(String(1000))
    valid_rows_only: Mapped[bool] = mapped_column(default=False)
    # The catalogue version SKUs belong to (products and receipt lines; the main one when empty).
    classifier: Mapped[str | None] = mapped_column(String(64))
    # queued | checking (first pass) | writing (second pass) | done | rejected | failed
    # ("failed" with the message "interrupted": the process running it stopped; nothing was written)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    imported_rows: Mapped[int] = mapped_column(default=0)
    error_rows: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(String(1000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
