"""The Summary dashboard's computed figures: one snapshot per period, replaced at every recomputation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base
from smartcomm.kit.time import utcnow


class DashboardSnapshot(Base):
    """The figures of every dashboard block for one period ("last-12" months, or "2026-01:2026-06").

    Only the analytics job writes it: the page reads a snapshot and never computes on a request, so a
    large base costs one recomputation per schedule, not one per visit."""

    __tablename__ = "dashboard_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_key: Mapped[str] = mapped_column(String(32), unique=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
