"""Segments with their materialised membership, target audiences, and RFM scores."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.leases import LeasedJob
from smartcomm.kit.models import Base, BigId, Money, TimestampMixin
from smartcomm.kit.time import utcnow


class Segment(TimestampMixin, Base):
    """A saved rule tree, the metrics of its last build, and where that build stands."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    rules_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    member_count: Mapped[int] = mapped_column(default=0)
    base_share: Mapped[float] = mapped_column(default=0.0)  # members ÷ all customers
    revenue_share: Mapped[float] = mapped_column(default=0.0)  # members' purchase amount ÷ everyone's
    average_receipt: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    ltv: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # purchase amount per member to date
    last_built_at: Mapped[datetime | None]
    # running (queued or building) | done | failed
    last_build_status: Mapped[str | None] = mapped_column(String(16))
    last_build_ms: Mapped[int | None]
    last_build_error: Mapped[str | None] = mapped_column(Text)
    # Bumped when the rules change, so a build started on old rules does not overwrite newer results.
    rules_revision: Mapped[int] = mapped_column(default=1)


class SegmentBuild(LeasedJob, Base):
    """One build of a segment. A worker's build is claimed (committed as running, with its owner) before
    it starts; one whose process stopped is marked failed "interrupted" and built again."""

    __tablename__ = "segment_builds"
    __table_args__ = (
        Index("ix_segment_builds_segment", "segment_id", "started_at"),
        # The reaper looks for running builds every minute; the table keeps every build ever made.
        Index(
            "ix_segment_builds_running",
            "status",
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual | rules | incremental
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    members: Mapped[int] = mapped_column(default=0)
    entered: Mapped[int] = mapped_column(default=0)
    exited: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SegmentMembership(Base):
    """One stay of a customer in a segment: current members have no `exited_at`.

    No row-level foreign keys here nor on the event stream (a build writes hundreds of thousands of
    rows, each checked by a trigger on PostgreSQL): builds only make rows for existing customers of an
    existing segment, and deleting a segment deletes its rows (`SegmentRepository.delete`)."""

    __tablename__ = "segment_memberships"
    __table_args__ = (
        Index(
            "uq_segment_memberships_current",
            "segment_id",
            "customer_id",
            unique=True,
            sqlite_where=text("exited_at IS NULL"),
            postgresql_where=text("exited_at IS NULL"),
        ),
        Index("ix_segment_memberships_customer", "customer_id", "segment_id"),
        Index("ix_segment_memberships_exited", "segment_id", "exited_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    segment_id: Mapped[int]
    customer_id: Mapped[int]
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    exited_at: Mapped[datetime | None]


class SegmentEvent(Base):
    """The internal stream of entries and exits, read in id order by triggered campaigns."""

    __tablename__ = "segment_events"
    __table_args__ = (Index("ix_segment_events_segment", "segment_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    segment_id: Mapped[int]
    customer_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(8))  # entered | exited
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class Audience(TimestampMixin, Base):
    """A static list of customers (formerly "tags")."""

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    member_count: Mapped[int] = mapped_column(default=0)


class AudienceMember(Base):
    __tablename__ = "audience_members"
    __table_args__ = (Index("ix_audience_members_customer", "customer_id"),)

    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class AudienceImport(LeasedJob, Base):
    """A CSV file of customer ids loaded into target audiences, with its counts and unmatched rows.

    While it runs the row names the process running it (see `kit.leases`)."""

    __tablename__ = "audience_imports"
    __table_args__ = (Index("ix_audience_imports_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_path: Mapped[str] = mapped_column(String(1000))
    id_type: Mapped[str] = mapped_column(String(16))  # external_id | platform_id | phone | email
    mode: Mapped[str] = mapped_column(String(16))  # single (one audience) | per_row (an audience per row)
    audience_id: Mapped[int | None] = mapped_column(ForeignKey("audiences.id", ondelete="SET NULL"))
    audience_name: Mapped[str | None] = mapped_column(String(200))  # a new audience the import creates
    # queued | running | done | failed ("failed" with the message "interrupted": its process stopped)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    rows_read: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    already_members: Mapped[int] = mapped_column(default=0)
    audiences_created: Mapped[int] = mapped_column(default=0)
    unmatched_total: Mapped[int] = mapped_column(default=0)
    # The first unmatched rows [{"row", "value", "reason"}]; the whole report is a CSV file beside the upload.
    unmatched: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What the import did to each audience [{"id", "name", "added", "already_members", "created"}].
    audiences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(String(1000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class RfmCalculation(LeasedJob, Base):
    """One RFM scoring of the base: its settings, score thresholds and the count of every R-F-M cell.

    A worker's calculation names the process running it while it runs (see `kit.leases`)."""

    __tablename__ = "rfm_calculations"
    __table_args__ = (Index("ix_rfm_calculations_started", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    period_days: Mapped[int]
    base_segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    scored: Mapped[int] = mapped_column(default=0)
    # {"r": [[score, min, max], ...], "f": ..., "m": ...}: the values each score covers.
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"555": count, ...} for every R-F-M combination that has customers.
    cells: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    best: Mapped[int] = mapped_column(default=0)  # R5 F5 M5
    lost: Mapped[int] = mapped_column(default=0)  # R1
    error: Mapped[str | None] = mapped_column(Text)


class CustomerRfm(Base):
    """A customer's current RFM scores and the values they come from.

    Every full calculation rewrites all rows in one statement, so the table carries no foreign keys and
    no secondary index: PostgreSQL checks a foreign key row by row, locking the parent row, and an index
    of 125 distinct cells costs as much as the insert itself. Reads join `customers` (a deleted
    customer's row goes at the next calculation) and list a cell by scanning this narrow table.
    """

    __tablename__ = "customer_rfm"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    calculation_id: Mapped[int]  # the calculation whose thresholds placed the customer
    r: Mapped[int] = mapped_column(SmallInteger)
    f: Mapped[int] = mapped_column(SmallInteger)
    m: Mapped[int] = mapped_column(SmallInteger)
    recency_days: Mapped[int]
    frequency: Mapped[int]
    monetary: Mapped[Decimal] = mapped_column(Money)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
