"""Every SQL statement of the send ledger."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Table,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.delivery.ledger import HANDED_OVER, Status
from smartcomm.kit.bulk import chunked, insert_rows
from smartcomm.models import (
    Customer,
    GlobalControlMember,
    MailingCategory,
    Message,
    MessageContent,
    MessageEvent,
    PushToken,
    Subscription,
)

CHUNK = 900  # ids per IN list (SQLite allows 32,766 variables; stay well below with several lists)
INSERT_CHUNK = 10_000  # rows per set-based insert (one parameter per column: only memory bounds it)
PRIORITIES_FIRST = (2, 1, 0)
# The hot paths (one outcome per message) use the tables directly: no ORM bookkeeping per row.
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
EVENTS: Table = MessageEvent.__table__  # type: ignore[assignment]
CONTENTS: Table = MessageContent.__table__  # type: ignore[assignment]


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _connection(self) -> Connection:
        """The session's connection, for the statements run once per message sent: executed there
        directly, they skip the ORM session's per-statement work (they touch no ORM object)."""
        return self.session.connection()

    @property
    def is_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def id_conditions(self, column: Any, ids: Sequence[int]) -> Iterable[Any]:
        """`column IN ids` as few conditions as the database takes: one array parameter on PostgreSQL (an
        IN list of hundreds of placeholders is too long for psycopg's statement cache and is parsed
        again in Python by every query), lists of CHUNK ids on SQLite."""
        if not self.is_postgres:
            yield from (column.in_(part) for part in chunked(list(ids)))
        elif ids:
            yield column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))

    # --- planning ------------------------------------------------------------------------------------

    def insert_new(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """Insert the rows whose idempotency key is new; returns {key: id} of those inserted (a key already
        recorded, by this or a concurrent transaction, is left as it is)."""
        inserted: dict[str, int] = {}
        for part in chunked(rows, INSERT_CHUNK):
            found = insert_rows(
                self.session,
                MESSAGES,
                part,
                skip_conflicts_on="idempotency_key",
                returning=("idempotency_key", "id"),
            )
            inserted.update((row.idempotency_key, row.id) for row in found)
        return inserted

    def by_keys(self, keys: Sequence[str]) -> dict[str, Message]:
        found: dict[str, Message] = {}
        for part in chunked(list(keys)):
            for message in self.session.scalars(select(Message).where(Message.idempotency_key.in_(part))):
                found[message.idempotency_key] = message
        return found

    def by_ids(self, ids: Sequence[int]) -> dict[int, Message]:
        """The messages as they are now (rows are also written without the ORM: no stale copy is kept)."""
        found: dict[int, Message] = {}
        for part in chunked(list(ids)):
            statement = select(Message).where(Message.id.in_(part)).execution_options(populate_existing=True)
            for message in self.session.scalars(statement):
                found[message.id] = message
        return found

    def add_events(self, rows: Sequence[dict[str, Any]]) -> None:
        if len(rows) == 1:  # one message's event as it is handed over: the statement built once
            self._connection().execute(_INSERT_EVENTS, list(rows))
            return
        for part in chunked(rows, INSERT_CHUNK):  # a batch planned at once: one set-based statement
            insert_rows(self.session, EVENTS, part)

    def add_contents(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(CONTENTS), list(rows))

    def update_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Update messages by id, each with its own values (ORM bulk update by primary key)."""
        if rows:
            self.session.execute(update(Message), list(rows))

    def save_contents(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store rendered content: replace the row of a message that has one (its inline source)."""
        if rows:
            self.session.execute(_content_upsert(self.is_postgres), list(rows))

    def contents(self, ids: Sequence[int]) -> dict[int, MessageContent]:
        found: dict[int, MessageContent] = {}
        for part in chunked(list(ids)):
            for content in self.session.scalars(
                select(MessageContent).where(MessageContent.message_id.in_(part))
            ):
                found[content.message_id] = content
        return found

    def category_id(self, code: str) -> int | None:
        return self.session.scalar(select(MailingCategory.id).where(MailingCategory.code == code))

    # --- claims --------------------------------------------------------------------------------------

    def claim(self, owner: str, now: datetime, limit: int) -> list[int]:
        """Take up to `limit` due planned messages for `owner`, most urgent first, atomically: two workers
        never take the same row (PostgreSQL skips rows another claim holds; SQLite runs one writer at a
        time and the claim is one statement per priority)."""
        claimed: list[int] = []
        for priority in PRIORITIES_FIRST:
            if len(claimed) >= limit:
                break
            claimed += self._claim_priority(owner, now, priority, limit - len(claimed))
        return claimed

    def _claim_priority(self, owner: str, now: datetime, priority: int, limit: int) -> list[int]:
        due = (
            select(Message.id)
            .where(
                Message.status == Status.PLANNED, Message.priority == priority, Message.next_attempt_at <= now
            )
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
        )
        chosen: Any = due.scalar_subquery()
        if self.is_postgres:
            # A locking subquery under `IN` may be run again for each row the update visits, each run taking
            # `limit` more rows: a materialised CTE picks and locks the batch exactly once.
            locked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
            chosen = select(locked.c.id).scalar_subquery()
        statement = (
            update(Message)
            .where(Message.id.in_(chosen), Message.status == Status.PLANNED)
            .values(status=Status.RENDERED, owner=owner, claimed_at=now, attempts=Message.attempts + 1)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(statement))

    def mark_queued(self, message_id: int, owner: str, now: datetime) -> bool:
        """The point of no return: the message is being handed to the provider. False when the row is no
        longer this worker's to send (cancelled, or taken back by the reaper)."""
        values = {"q_id": message_id, "q_owner": owner, "q_now": now}
        return self._connection().execute(_MARK_QUEUED, values).rowcount == 1

    def commit_without_waiting(self, on: bool) -> None:
        """PostgreSQL: commits of this connection do not wait for the disk (`synchronous_commit = off`).
        A crash of the database server may then lose the last hand-overs — turning unconfirmed rows
        back into rendered ones — but a killed worker loses nothing, which is what the send path needs."""
        if self.is_postgres:
            self.session.execute(text("SET synchronous_commit = off" if on else "RESET synchronous_commit"))

    def still_owned(self, message_ids: Sequence[int], owner: str) -> set[int]:
        """Which of these messages are still this worker's to send."""
        statement = select(MESSAGES.c.id).where(
            MESSAGES.c.id.in_(list(message_ids)), MESSAGES.c.owner == owner
        )
        return set(self.session.scalars(statement))

    def update_owned(self, rows: Sequence[dict[str, Any]], owner: str) -> None:
        """Outcomes of claimed messages (dicts with "id" and the new values), each written only while the
        row is still this worker's; rows with the same columns go in one executemany."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(sorted(set(row) - {"id"})), []).append(row)
        for columns, group in groups.items():
            values = [
                {"w_owner": owner, **{f"b_{key}": value for key, value in row.items()}} for row in group
            ]
            self._connection().execute(_owned_update(columns), values)

    # --- the reaper ----------------------------------------------------------------------------------

    def owners_in_flight(self) -> list[tuple[str | None, datetime | None]]:
        """Each worker holding claimed messages, with its latest claim (its heartbeat, seen from another
        machine)."""
        statement = (
            select(Message.owner, func.max(Message.claimed_at))
            .where(Message.status.in_((Status.RENDERED, Status.QUEUED)))
            .group_by(Message.owner)
        )
        return [(owner, claimed_at) for owner, claimed_at in self.session.execute(statement)]

    def release_rendered(self, owner: str | None) -> list[int]:
        """Messages of a gone worker that were never handed over go back to be sent again."""
        statement = (
            update(Message)
            .where(Message.status == Status.RENDERED, _owned_by(owner))
            .values(status=Status.PLANNED, owner=None, claimed_at=None)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(statement))

    def settle_unconfirmed(self, owner: str | None, now: datetime) -> list[int]:
        """Messages of a gone worker handed over without an answer: the provider may have them, so they
        count as sent (reason "unconfirmed") and are never sent again."""
        statement = (
            update(Message)
            .where(Message.status == Status.QUEUED, _owned_by(owner))
            .values(status=Status.SENT, reason="unconfirmed", sent_at=Message.handed_over_at, owner=None)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        return list(self.session.scalars(statement))

    # --- facts for the gate --------------------------------------------------------------------------

    def customers(self, ids: Sequence[int]) -> dict[int, Any]:
        columns = (
            Customer.id,
            Customer.email,
            Customer.email_valid,
            Customer.phone,
            Customer.phone_valid,
            Customer.phone_type,
            Customer.time_zone,
            Customer.allow_email,
            Customer.allow_sms,
            Customer.allow_viber,
            Customer.allow_push,
        )
        found: dict[int, Any] = {}
        for among in self.id_conditions(Customer.id, ids):
            for row in self.session.execute(select(*columns).where(among)):
                found[row.id] = row
        return found

    def in_global_control(self, customer_ids: Sequence[int]) -> set[int]:
        """Which of the customers are members of the global control group now (its open stays)."""
        found: set[int] = set()
        for among in self.id_conditions(GlobalControlMember.customer_id, customer_ids):
            found.update(self.session.scalars(open_stays_among(among)))
        return found

    def subscriptions(
        self, customer_ids: Sequence[int], category_ids: Sequence[int]
    ) -> dict[tuple[int, int, str], bool]:
        found: dict[tuple[int, int, str], bool] = {}
        if not category_ids:
            return found
        for among in self.id_conditions(Subscription.customer_id, customer_ids):
            statement = select(
                Subscription.customer_id,
                Subscription.category_id,
                Subscription.channel,
                Subscription.subscribed,
            ).where(among, Subscription.category_id.in_(list(category_ids)))
            for customer_id, category_id, channel, subscribed in self.session.execute(statement):
                found[(customer_id, category_id, channel)] = subscribed
        return found

    def valid_push_tokens(self, customer_ids: Sequence[int]) -> dict[int, list[str]]:
        """Each customer's valid push tokens, the most recently refreshed first."""
        found: dict[int, list[str]] = {}
        for among in self.id_conditions(PushToken.customer_id, customer_ids):
            statement = (
                select(PushToken.customer_id, PushToken.token)
                .where(among, PushToken.is_valid.is_(True))
                .order_by(PushToken.customer_id, PushToken.updated_at.desc(), PushToken.id.desc())
            )
            for customer_id, token in self.session.execute(statement):
                found.setdefault(customer_id, []).append(token)
        return found

    def handed_over_since(self, customer_ids: Sequence[int], channel: str, since: datetime) -> dict[int, int]:
        """Per customer: messages of the channel handed over since `since` (for the frequency caps)."""
        found: dict[int, int] = {}
        for among in self.id_conditions(Message.customer_id, customer_ids):
            statement = (
                select(Message.customer_id, func.count())
                .where(
                    among,
                    Message.channel == channel,
                    Message.handed_over_at >= since,
                    Message.status.in_(sorted(HANDED_OVER)),
                )
                .group_by(Message.customer_id)
            )
            for customer_id, count in self.session.execute(statement):
                if customer_id is not None:
                    found[customer_id] = count
        return found

    def last_engaged(self, customer_ids: Sequence[int], since: datetime) -> dict[int, datetime]:
        """Per customer: the last time a message to them was opened or clicked, when it was after `since`."""
        moment = func.max(func.coalesce(Message.clicked_at, Message.opened_at))
        found: dict[int, datetime] = {}
        for among in self.id_conditions(Message.customer_id, customer_ids):
            statement = (
                select(Message.customer_id, moment)
                .where(among, or_(Message.opened_at >= since, Message.clicked_at >= since))
                .group_by(Message.customer_id)
            )
            found.update({customer: last for customer, last in self.session.execute(statement) if customer})
        return found

    def handed_over_count(self, channel: str, since: datetime) -> int:
        """Messages of the channel handed over since `since` (the rate limit's minute, warm-up's day)."""
        statement = select(func.count()).where(Message.channel == channel, Message.handed_over_at >= since)
        return int(self.session.scalar(statement) or 0)

    def handed_over_in_minute(self, channel: str, since: datetime) -> int:
        return self.handed_over_count(channel, since)

    def source_handed_over_in_minute(self, source_kind: str, source_id: int, since: datetime) -> int:
        statement = select(func.count()).where(
            Message.source_kind == source_kind,
            Message.source_id == source_id,
            Message.handed_over_at >= since,
        )
        return int(self.session.scalar(statement) or 0)

    # --- contacts proven dead ------------------------------------------------------------------------

    def invalidate_email(self, customer_id: int, address: str) -> None:
        self.session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.email == address)
            .values(email_valid=False)
            .execution_options(synchronize_session=False)
        )

    def invalidate_phone(self, customer_id: int, phone: str) -> None:
        self.session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.phone == phone)
            .values(phone_valid=False)
            .execution_options(synchronize_session=False)
        )

    def invalidate_push_token(self, token: str) -> None:
        self.session.execute(
            update(PushToken)
            .where(PushToken.token == token)
            .values(is_valid=False)
            .execution_options(synchronize_session=False)
        )

    # --- provider receipts and the cascade ------------------------------------------------------------

    def by_provider_ids(self, provider_message_ids: Sequence[str], provider_id: int | None) -> list[Message]:
        found: list[Message] = []
        for part in chunked(list(provider_message_ids)):
            statement = select(Message).where(Message.provider_message_id.in_(part))
            if provider_id is not None:
                statement = statement.where(
                    or_(Message.provider_id == provider_id, Message.provider_id.is_(None))
                )
            found += self.session.scalars(statement)
        return found

    def cascade_legs(self, viber_ids: Sequence[int]) -> list[Message]:
        found: list[Message] = []
        for part in chunked(list(viber_ids)):
            found += self.session.scalars(select(Message).where(Message.cascade_of.in_(part)))
        return found

    def waiting_legs(self, limit: int) -> list[tuple[Message, Message]]:
        """SMS legs still waiting for their Viber message, with it, the longest waiting first."""
        statement = (
            select(Message)
            .where(Message.status == Status.PLANNED, Message.reason == "cascade_wait")
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
        )
        legs = list(self.session.scalars(statement))
        vibers = self.by_ids([leg.cascade_of for leg in legs if leg.cascade_of is not None])
        return [
            (leg, vibers[leg.cascade_of])
            for leg in legs
            if leg.cascade_of is not None and leg.cascade_of in vibers
        ]

    def history(self, message_id: int) -> list[MessageEvent]:
        statement = (
            select(MessageEvent).where(MessageEvent.message_id == message_id).order_by(MessageEvent.id)
        )
        return list(self.session.scalars(statement))


# The point of no return of one message (see `mark_queued`), built once: it runs once per message sent.
_MARK_QUEUED = (
    update(MESSAGES)
    .where(
        MESSAGES.c.id == bindparam("q_id"),
        MESSAGES.c.owner == bindparam("q_owner"),
        MESSAGES.c.status == Status.RENDERED,
    )
    .values(status=Status.QUEUED, handed_over_at=bindparam("q_now"))
)
_INSERT_EVENTS = insert(EVENTS)


@lru_cache(maxsize=64)
def _owned_update(columns: tuple[str, ...]) -> Any:
    """UPDATE of these columns by id while the row is still the given owner's (built once per shape)."""
    return (
        update(MESSAGES)
        .where(MESSAGES.c.id == bindparam("b_id"), MESSAGES.c.owner == bindparam("w_owner"))
        .values({column: bindparam(f"b_{column}") for column in columns})
    )


@lru_cache(maxsize=2)
def _content_upsert(is_postgres: bool) -> Any:
    statement = (postgres_insert if is_postgres else sqlite_insert)(CONTENTS)
    replaced = {name: statement.excluded[name] for name in ("content", "headers", "rendered_at")}
    return statement.on_conflict_do_update(index_elements=["message_id"], set_=replaced)


def open_stays_among(among: Any) -> Any:
    """The customers of a condition on `customer_id` in the global control group now: read through the
    partial index of the open stays."""
    return select(GlobalControlMember.customer_id).where(among, GlobalControlMember.left_at.is_(None))


def _owned_by(owner: str | None) -> Any:
    return Message.owner.is_(None) if owner is None else Message.owner == owner
