"""Materialised membership: full builds with an entered/exited diff, and per-customer refreshes.

A build evaluates the segment's one SQL statement into a temporary table, then applies the difference
to the stored membership set-based: new members get a stay (entered now), departed members get their
stay closed (exited now), and both are appended to the `segment_events` stream for triggered campaigns.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    Select,
    Table,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from smartcomm.customers.repository import chunks
from smartcomm.kit.models import UTCDateTime
from smartcomm.models import SegmentEvent, SegmentMembership

_temp_names = itertools.count(1)
Member = SegmentMembership
MEMBERSHIPS = cast(Table, SegmentMembership.__table__)
NO_SYNC = {"synchronize_session": False}


@dataclass
class Diff:
    members: int
    entered: int
    exited: int


def apply_full(session: Session, segment_id: int, matching: Select[Any], now: datetime) -> Diff:
    """Make the stored membership equal `matching` (a SELECT of customer ids)."""
    matches = Table(
        f"tmp_segment_{segment_id}_{next(_temp_names)}",
        MetaData(),
        Column("customer_id", BigInteger, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    connection = session.connection()
    matches.create(connection)
    try:
        session.execute(insert(matches).from_select(["customer_id"], matching))
        members = int(session.scalar(select(func.count()).select_from(matches)) or 0)
        entered = _enter(session, matches, segment_id, now)
        exited = _exit(session, matches, segment_id, now)
    finally:
        matches.drop(connection)
    _record_events(session, segment_id, now)
    return Diff(members, entered, exited)


def _enter(session: Session, matches: Table, segment_id: int, now: datetime) -> int:
    table = MEMBERSHIPS
    already = exists(
        select(table.c.id).where(
            table.c.segment_id == segment_id,
            table.c.exited_at.is_(None),
            table.c.customer_id == matches.c.customer_id,
        )
    )
    newcomers = select(literal(segment_id), matches.c.customer_id, literal(now, UTCDateTime())).where(
        ~already
    )
    statement = insert(table).from_select(["segment_id", "customer_id", "entered_at"], newcomers)
    # Row counts of INSERT … SELECT are only kept when asked for.
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return int(getattr(result, "rowcount", 0) or 0)


def _exit(session: Session, matches: Table, segment_id: int, now: datetime) -> int:
    table = MEMBERSHIPS
    still_in = exists(select(matches.c.customer_id).where(matches.c.customer_id == table.c.customer_id))
    statement = (
        update(table)
        .where(table.c.segment_id == segment_id, table.c.exited_at.is_(None), ~still_in)
        .values(exited_at=now)
    )
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _record_events(session: Session, segment_id: int, now: datetime) -> None:
    """Append this build's entries and exits to the event stream (they are the rows stamped `now`)."""
    columns = ["segment_id", "customer_id", "kind", "occurred_at"]
    entered = select(Member.segment_id, Member.customer_id, literal("entered"), Member.entered_at).where(
        Member.segment_id == segment_id, Member.entered_at == now, Member.exited_at.is_(None)
    )
    exited = select(Member.segment_id, Member.customer_id, literal("exited"), Member.exited_at).where(
        Member.segment_id == segment_id, Member.exited_at == now
    )
    session.execute(insert(SegmentEvent).from_select(columns, entered), execution_options=NO_SYNC)
    session.execute(insert(SegmentEvent).from_select(columns, exited), execution_options=NO_SYNC)


def apply_for_customers(
    session: Session, segment_id: int, matching: Select[Any], customer_ids: Sequence[int], now: datetime
) -> Diff:
    """Refresh only these customers' membership (after their receipt or event arrived)."""
    entered = exited = 0
    matching_ids = matching.subquery()
    for part in chunks(sorted(set(customer_ids))):
        now_in = set(session.scalars(select(matching_ids.c.id).where(matching_ids.c.id.in_(part))))
        current = set(
            session.scalars(
                select(Member.customer_id).where(
                    Member.segment_id == segment_id, Member.exited_at.is_(None), Member.customer_id.in_(part)
                )
            )
        )
        joining, leaving = sorted(now_in - current), sorted(current - now_in)
        _write_changes(session, segment_id, joining, leaving, now)
        entered, exited = entered + len(joining), exited + len(leaving)
    return Diff(members=-1, entered=entered, exited=exited)


def _write_changes(
    session: Session, segment_id: int, joining: list[int], leaving: list[int], now: datetime
) -> None:
    if joining:
        rows = [{"segment_id": segment_id, "customer_id": c, "entered_at": now} for c in joining]
        session.execute(insert(Member), rows)
    if leaving:
        closing = update(Member).where(
            Member.segment_id == segment_id, Member.exited_at.is_(None), Member.customer_id.in_(leaving)
        )
        session.execute(closing.values(exited_at=now), execution_options=NO_SYNC)
    events = [
        {"segment_id": segment_id, "customer_id": c, "kind": "entered", "occurred_at": now} for c in joining
    ]
    events += [
        {"segment_id": segment_id, "customer_id": c, "kind": "exited", "occurred_at": now} for c in leaving
    ]
    if events:
        session.execute(insert(SegmentEvent), events)
