"""Materialised membership: full builds with an entered/exited diff, and per-customer refreshes.

A build evaluates the segment's one SQL statement into a temporary table, then applies the difference
to the stored membership set-based: new members get a stay (entered now), departed members get their
stay closed (exited now), and both are appended to the `segment_events` stream for triggered campaigns.
The temporary table also keeps each member's purchase totals, so the segment's figures are summed from
it rather than by joining the members back to the customers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    true,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from smartcomm.kit.db import postgres_settings
from smartcomm.kit.models import Money, UTCDateTime
from smartcomm.kit.outbox import publish
from smartcomm.models import Customer, Segment, SegmentEvent, SegmentMembership
from smartcomm.segments.metrics.base import REFRESHED
from smartcomm.segments.refresh import Level

_temp_names = itertools.count(1)
Member = SegmentMembership
MEMBERSHIPS = cast(Table, SegmentMembership.__table__)
EVENTS = cast(Table, SegmentEvent.__table__)
SEGMENTS = cast(Table, Segment.__table__)
NO_SYNC = {"synchronize_session": False}
BUILD_WORK_MEMORY = "64MB"  # PostgreSQL's memory for each hash of a build's diff


@dataclass
class Diff:
    members: int
    entered: int
    exited: int
    amount: Decimal = Decimal(0)  # the members' purchase amount
    receipts: int = 0  # and their receipts


def apply_full(session: Session, segment_id: int, matching: Select[Any], now: datetime) -> Diff:
    """Make the stored membership equal `matching` (a SELECT of customer ids)."""
    matches = Table(
        f"tmp_segment_{segment_id}_{next(_temp_names)}",
        MetaData(),
        Column("customer_id", BigInteger, primary_key=True, autoincrement=False),
        Column("total_amount", Money),
        Column("receipt_count", Integer),
        prefixes=["TEMPORARY"],
    )
    on_postgres = session.get_bind().dialect.name == "postgresql"
    if on_postgres:
        # The diff hashes a few hundred thousand ids: in the default 4 MB of work memory they spill to disk.
        session.execute(text(f"SET LOCAL work_mem = '{BUILD_WORK_MEMORY}'"))
    connection = session.connection()
    matches.create(connection)
    try:
        with_totals = matching.add_columns(Customer.total_amount, Customer.receipt_count)
        session.execute(insert(matches).from_select(list(matches.c.keys()), with_totals))
        if on_postgres:  # the planner knows nothing of a fresh temporary table until it is analysed
            session.execute(text(f"ANALYZE {matches.name}"))
        members, amount, receipts = _totals(session, matches)
        entered = _enter(session, matches, segment_id, now, on_postgres)
        exited = _exit(session, matches, segment_id, now)
    finally:
        matches.drop(connection)
    after = _last_stream_id(session)
    _record_events(session, segment_id, now)
    announce_changes(session, after, {segment_id: (entered, exited)})
    return Diff(members, entered, exited, amount, receipts)


def _totals(session: Session, matches: Table) -> tuple[int, Decimal, int]:
    amount = type_coerce(func.coalesce(func.sum(matches.c.total_amount), 0), Money)
    statement = select(func.count(), amount, func.coalesce(func.sum(matches.c.receipt_count), 0))
    members, total, receipts = session.execute(statement.select_from(matches)).one()
    return int(members), Decimal(total), int(receipts)


def _enter(session: Session, matches: Table, segment_id: int, now: datetime, on_postgres: bool) -> int:
    """Open a stay for every match without a current one; returns how many were opened.

    On PostgreSQL the newcomers are found by an anti-join with the current stays, hashed: the
    memberships' statistics may be stale (empty before a first build), and a nested loop planned from
    them would scan the table again for every match. The unique index of current stays still skips a
    stay that a per-customer refresh opened meanwhile. SQLite lets that index decide alone, row by row.
    """
    table = MEMBERSHIPS
    # SQLite needs a WHERE in an INSERT … SELECT … ON CONFLICT to tell the clauses apart.
    newcomers = select(literal(segment_id), matches.c.customer_id, literal(now, UTCDateTime())).where(true())
    if on_postgres:
        already_in = exists().where(
            table.c.segment_id == segment_id,
            table.c.customer_id == matches.c.customer_id,
            table.c.exited_at.is_(None),
        )
        newcomers = newcomers.where(~already_in)
    upsert = postgresql.insert if on_postgres else sqlite.insert
    statement = (
        upsert(table)
        .from_select(["segment_id", "customer_id", "entered_at"], newcomers)
        .on_conflict_do_nothing(
            index_elements=[table.c.segment_id, table.c.customer_id], index_where=table.c.exited_at.is_(None)
        )
    )
    # Row counts of INSERT … SELECT are only kept when asked for; skipped rows are not counted.
    with postgres_settings(session, {"enable_nestloop": "off"}):
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


def _last_stream_id(session: Session) -> int:
    return int(session.scalar(select(func.max(EVENTS.c.id))) or 0)


def announce_changes(session: Session, after: int, counts: dict[int, tuple[int, int]]) -> None:
    """One `segment.changed` per segment that just wrote stream rows (ids above `after`): the first and
    last of them, and how many entered and exited. Subscribers (campaign triggers) read the rows by id."""
    changed = [segment_id for segment_id, (entered, exited) in counts.items() if entered or exited]
    if not changed:
        return
    statement = (
        select(EVENTS.c.segment_id, func.min(EVENTS.c.id), func.max(EVENTS.c.id))
        .where(EVENTS.c.segment_id.in_(changed), EVENTS.c.id > after)
        .group_by(EVENTS.c.segment_id)
    )
    for segment_id, first_id, last_id in session.execute(statement):
        entered, exited = counts[segment_id]
        payload = {
            "segment_id": segment_id,
            "first_event_id": first_id,
            "last_event_id": last_id,
            "entered": entered,
            "exited": exited,
        }
        publish(session, "segment.changed", payload=payload)


@dataclass(frozen=True)
class CustomerChanges:
    """Who joins and who leaves one segment in a per-customer refresh (ids in ascending order)."""

    segment_id: int
    joining: list[int]
    leaving: list[int]


def current_members(session: Session, customer_ids: Sequence[int]) -> dict[int, set[int]]:
    """segment id -> those of these customers who are in it now (through the customer's index)."""
    statement = select(Member.segment_id, Member.customer_id).where(
        Member.customer_id.in_(list(customer_ids)), Member.exited_at.is_(None)
    )
    found: dict[int, set[int]] = {}
    for segment_id, customer_id in session.execute(statement):
        found.setdefault(segment_id, set()).add(customer_id)
    return found


def matching_members(session: Session, level: Level, customer_ids: Sequence[int]) -> dict[int, set[int]]:
    """segment id -> those of these customers the segment's rules select, for every segment of the level."""
    found: dict[int, set[int]] = {segment_id: set() for segment_id in level.segment_ids}
    for customer_id, *answers in session.execute(level.statement, {REFRESHED: list(customer_ids)}):
        for segment_id, answer in zip(level.segment_ids, answers, strict=True):
            if answer:  # NULL (unknown) is "no", as in a WHERE clause
                found[segment_id].add(customer_id)
    return found


def apply_customer_changes(session: Session, changes: Sequence[CustomerChanges], now: datetime) -> None:
    """Open and close the stays, append the events and move the member counts, for all segments at once.

    Rows are written in the order of `changes` (entries before exits within a segment), as one segment
    after another would write them.
    """
    joining = [(c.segment_id, customer_id) for c in changes for customer_id in c.joining]
    leaving = [(c.segment_id, customer_id) for c in changes for customer_id in c.leaving]
    if joining:
        rows = [{"segment_id": s, "customer_id": c, "entered_at": now} for s, c in joining]
        session.execute(insert(MEMBERSHIPS), rows)
    if leaving:
        session.execute(_CLOSE_STAY.values(exited_at=now), [{"s": s, "c": c} for s, c in leaving])
    events = [
        {"segment_id": c.segment_id, "customer_id": customer_id, "kind": kind, "occurred_at": now}
        for c in changes
        for kind, ids in (("entered", c.joining), ("exited", c.leaving))
        for customer_id in ids
    ]
    if events:
        after = _last_stream_id(session)
        session.execute(insert(EVENTS), events)
        announce_changes(session, after, {c.segment_id: (len(c.joining), len(c.leaving)) for c in changes})
    _move_member_counts(session, changes)


_CLOSE_STAY = update(MEMBERSHIPS).where(
    MEMBERSHIPS.c.segment_id == bindparam("s"),
    MEMBERSHIPS.c.customer_id == bindparam("c"),
    MEMBERSHIPS.c.exited_at.is_(None),
)


def _move_member_counts(session: Session, changes: Sequence[CustomerChanges]) -> None:
    moves = [{"s": c.segment_id, "delta": len(c.joining) - len(c.leaving)} for c in changes]
    moves = [move for move in moves if move["delta"]]
    if not moves:
        return
    # Added in SQL, so concurrent refreshes of other customers never lose each other's counts.
    session.execute(_MOVE_COUNT, moves)
    for move in moves:  # a Segment already loaded in this session reads the new count on next access
        loaded = session.identity_map.get(identity_key(Segment, move["s"]))
        if loaded is not None:
            session.expire(loaded, ["member_count", "updated_at"])


_MOVE_COUNT = (
    update(SEGMENTS)
    .where(SEGMENTS.c.id == bindparam("s"))
    .values(member_count=SEGMENTS.c.member_count + bindparam("delta"))
)
