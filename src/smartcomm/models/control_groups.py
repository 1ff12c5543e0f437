"""The global control group: each draw of it, and who was a member of it when.

A draw is one formation of the group (a random draw of a share of the base, or a list uploaded as a
file); a member row is one customer's stay in one draw. A redraw closes the open stays (`left_at`) and
opens those of the new draw, so "who was in the group on a given day" is always answerable. At most one
stay per customer is open — the gate's "in the group now" is an index look-up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId
from smartcomm.kit.time import utcnow


class GlobalControlDraw(Base):
    """One formation of the global control group, with what it was drawn from (reproducible by its seed)."""

    __tablename__ = "global_control_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))  # draw | file
    seed: Mapped[int | None] = mapped_column(BigInteger)
    percent: Mapped[float | None]
    cap: Mapped[int | None]
    strata: Mapped[list[str]] = mapped_column(JSON, default=list)
    file_name: Mapped[str | None] = mapped_column(String(255))
    base_size: Mapped[int] = mapped_column(default=0)  # customers the group was drawn from
    size: Mapped[int] = mapped_column(default=0)
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    drawn_by: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class GlobalControlMember(Base):
    """A customer's stay in the global control group (open while `left_at` is None).

    No foreign key on the customer (a draw inserts a share of the whole base in one statement), as for
    the mailings' control groups."""

    __tablename__ = "global_control_members"
    __table_args__ = (
        # The gate asks "which of these customers are in the group now" for each batch.
        Index(
            "ix_global_control_members_open",
            "customer_id",
            unique=True,
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
        Index("ix_global_control_members_customer", "customer_id", "entered_at"),
        Index("ix_global_control_members_draw", "draw_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("global_control_draws.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigInteger)
    entered_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
