"""Every SQL statement of tracking: links put into messages, and opens and clicks written in groups."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Dialect, Row, Table, bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.delivery.ledger import Status
from smartcomm.models import Message, MessageEvent, TrackedLink

CHUNK = 900
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
EVENTS: Table = MessageEvent.__table__  # type: ignore[assignment]

# A group's changes to each message. The status moves forward only, and only from the statuses a hit
# can follow (a failed or suppressed message keeps its status); each milestone keeps its first time.
_APPLY = """
UPDATE messages SET
  opens = opens + :m_opens,
  clicks = clicks + :m_clicks,
  machine_opens = machine_opens + :m_machine_opens,
  machine_clicks = machine_clicks + :m_machine_clicks,
  delivered_at = COALESCE(delivered_at, :m_delivered_at),
  opened_at = COALESCE(opened_at, :m_opened_at),
  clicked_at = COALESCE(clicked_at, :m_clicked_at),
  status = CASE
    WHEN :m_target = 'clicked' AND status IN ('queued', 'sent', 'delivered', 'opened') THEN 'clicked'
    WHEN :m_target = 'opened' AND status IN ('queued', 'sent', 'delivered') THEN 'opened'
    WHEN :m_target IN ('opened', 'clicked', 'delivered') AND status IN ('queued', 'sent') THEN 'delivered'
    ELSE status
  END
WHERE id = :m_id
"""
_WHEN = frozenset({"m_delivered_at", "m_opened_at", "m_clicked_at"})


def _postgres_placeholder(match: re.Match[str]) -> str:
    """psycopg's named placeholder, typed where a NULL alone would say nothing of its type."""
    name = match.group(1)
    return (
        f"%({name})s::timestamptz"
        if name in _WHEN
        else f"%({name})s::text"
        if name == "m_target"
        else f"%({name})s"
    )


_POSTGRES_APPLY = re.sub(r":(m_\w+)", _postgres_placeholder, _APPLY)
_EVENT_INSERT = (
    "INSERT INTO message_events (message_id, kind, occurred_at, is_machine, data) VALUES (?, ?, ?, ?, ?)"
)
_POSTGRES_EVENT_INSERT = (
    "INSERT INTO message_events (message_id, kind, occurred_at, is_machine, data) "
    "VALUES (%s, %s, %s, %s, %s::json)"
)


def sqlite_time(value: datetime | None) -> str | None:
    """A time as SQLAlchemy stores it in SQLite (UTC, "YYYY-MM-DD HH:MM:SS.ffffff"), made directly: the
    type's own processor costs more per value than the row's whole insert."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _postgres_event(row: dict[str, Any]) -> tuple[Any, ...]:
    data = json.dumps(row["data"], separators=(",", ":"))
    return (row["message_id"], row["kind"], row["occurred_at"], bool(row["is_machine"]), data)


def _sqlite_event(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["message_id"],
        row["kind"],
        sqlite_time(row["occurred_at"]),
        1 if row["is_machine"] else 0,
        json.dumps(row["data"], separators=(",", ":")),
    )


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


class TrackingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- links ---------------------------------------------------------------------------------------

    def link_ids(self, hashes: Sequence[str]) -> dict[str, int]:
        """{url hash: link id} of the links already recorded."""
        found: dict[str, int] = {}
        for part in _chunks(list(hashes)):
            statement = select(TrackedLink.url_hash, TrackedLink.id).where(TrackedLink.url_hash.in_(part))
            found.update({row.url_hash: row.id for row in self.session.execute(statement)})
        return found

    def add_links(self, rows: Sequence[dict[str, Any]]) -> None:
        """Record links; one recorded meanwhile (by another batch or process) is kept as it is."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        build = postgres_insert if dialect == "postgresql" else sqlite_insert
        statement = build(TrackedLink).on_conflict_do_nothing(index_elements=["url_hash"])
        self.session.execute(statement, list(rows))

    def link_url(self, link_id: int) -> str | None:
        return self.session.scalar(select(TrackedLink.url).where(TrackedLink.id == link_id))

    # --- messages and their clicks -----------------------------------------------------------------

    def messages(self, ids: Sequence[int]) -> dict[int, Row[Any]]:
        """What the writer needs of each message: who, which channel, where it stands, its people's opens
        — and, rather than dates it would have to parse, whether it was delivered and opened."""
        columns = (
            Message.id,
            Message.customer_id,
            Message.channel,
            Message.source_kind,
            Message.source_id,
            Message.status,
            Message.opens,
            Message.delivered_at.is_(None).label("undelivered"),
            Message.opened_at.is_not(None).label("opened"),
        )
        found: dict[int, Row[Any]] = {}
        for part in _chunks(sorted(set(ids))):
            found.update(
                {row.id: row for row in self.session.execute(select(*columns).where(Message.id.in_(part)))}
            )
        return found

    def recent_times(self, ids: Sequence[int], since: datetime) -> dict[int, Row[Any]]:
        """When these messages were sent and delivered — only those not sent yet, or sent or delivered
        since `since` (older ones are past every timing rule, and their dates need not be read)."""
        found: dict[int, Row[Any]] = {}
        recent = or_(Message.sent_at.is_(None), Message.sent_at >= since, Message.delivered_at >= since)
        for part in _chunks(sorted(set(ids))):
            statement = select(Message.id, Message.sent_at, Message.delivered_at).where(
                Message.id.in_(part), recent
            )
            found.update({row.id: row for row in self.session.execute(statement)})
        return found

    def engagement_since(self, windows: dict[int, datetime]) -> list[Row[Any]]:
        """The opens and clicks recorded on these messages since each one's time: (id, message_id, kind,
        occurred_at, is_machine, data)."""
        rows: list[Row[Any]] = []
        for message_id, since in windows.items():
            statement = select(
                MessageEvent.id,
                MessageEvent.message_id,
                MessageEvent.kind,
                MessageEvent.occurred_at,
                MessageEvent.is_machine,
                MessageEvent.data,
            ).where(
                MessageEvent.message_id == message_id,
                MessageEvent.kind.in_(("opened", "clicked")),
                MessageEvent.occurred_at >= since,
            )
            rows += self.session.execute(statement)
        return rows

    def add_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Message events (message_id, kind, occurred_at, is_machine, data) in one insert."""
        if not rows:
            return
        if self._sqlite:
            self._driver_executemany(_EVENT_INSERT, [_sqlite_event(row) for row in rows])
        else:
            self._driver_executemany(_POSTGRES_EVENT_INSERT, [_postgres_event(row) for row in rows])

    def apply(self, rows: Sequence[dict[str, Any]]) -> None:
        """What a group of hits did to each message, in one statement: counters added, milestones set
        where not set yet, the status moved forward only (see `_APPLY`)."""
        if not rows:
            return
        if self._sqlite:
            values = [row | {key: sqlite_time(row[key]) for key in _WHEN} for row in rows]
            self._driver_executemany(_APPLY, values)
        else:
            self._driver_executemany(_POSTGRES_APPLY, rows)

    @property
    def _dialect(self) -> Dialect:
        return self.session.get_bind().dialect

    @property
    def _sqlite(self) -> bool:
        return self._dialect.name == "sqlite"

    def _driver_executemany(self, sql: str, rows: Sequence[Any]) -> None:
        """One executemany of the driver (sqlite3; psycopg, which pipelines it) with values converted
        once: SQLAlchemy's handling of each row's parameters cost more than the statement itself."""
        connection = self.session.connection()
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def mark_machine(self, events: Sequence[tuple[int, dict[str, Any] | None]], reason: str) -> None:
        """Events found to be a machine's after they were recorded: (id, data) pairs."""
        statement = (
            update(EVENTS)
            .where(EVENTS.c.id == bindparam("e_id"))
            .values(is_machine=True, data=bindparam("e_data", type_=EVENTS.c.data.type))
        )
        rows = [
            {"e_id": event_id, "e_data": dict(data or {}) | {"machine": reason}} for event_id, data in events
        ]
        if rows:
            self.session.execute(statement, rows)

    def add_counts(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add to the messages' counters: rows of {m_id, m_opens, m_clicks, m_machine_opens,
        m_machine_clicks} (a click found to be a scanner's moves from people to machines with -1/+1)."""
        if not rows:
            return
        statement = (
            update(MESSAGES)
            .where(MESSAGES.c.id == bindparam("m_id"))
            .values(
                opens=MESSAGES.c.opens + bindparam("m_opens"),
                clicks=MESSAGES.c.clicks + bindparam("m_clicks"),
                machine_opens=MESSAGES.c.machine_opens + bindparam("m_machine_opens"),
                machine_clicks=MESSAGES.c.machine_clicks + bindparam("m_machine_clicks"),
            )
        )
        self.session.execute(statement, list(rows))

    def settle_milestones(self, message_ids: Sequence[int]) -> None:
        """Messages some of whose people's hits proved a machine's: a milestone no person's hit supports any
        more is cleared, and the status steps back to the furthest one that still stands."""
        if not message_ids:
            return
        no_clicks, no_opens = Message.clicks <= 0, Message.opens <= 0
        statement = (
            update(Message)
            .where(Message.id.in_(list(message_ids)))
            .values(
                clicked_at=case((no_clicks, None), else_=Message.clicked_at),
                opened_at=case((no_opens & no_clicks, None), else_=Message.opened_at),
                status=case(
                    (
                        Message.status.in_((Status.OPENED, Status.CLICKED)) & no_opens & no_clicks,
                        Status.DELIVERED,
                    ),
                    ((Message.status == Status.CLICKED) & no_clicks, Status.OPENED),
                    else_=Message.status,
                ),
            )
            .execution_options(synchronize_session=False)
        )
        self.session.execute(statement)
