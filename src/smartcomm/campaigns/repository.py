"""The queries of campaigns and of the journey engine."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, Table, any_, bindparam, case, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.kit.bulk import chunked, insert_rows
from smartcomm.models import (
    Campaign,
    CampaignMessage,
    CampaignNodeCounter,
    CampaignNodeStat,
    CampaignVersion,
    Journey,
)

WAITING = "waiting"
DONE = "done"
EXITED = "exited"
ACTIVE = "active"
INSERT_CHUNK = 2000
CAMPAIGN_MESSAGES: Table = CampaignMessage.__table__  # type: ignore[assignment]
# What walking a journey changes.
MOVED = ("node", "status", "wake_at", "arrived_at", "finished_at", "exit_reason", "state")


class CampaignRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Any) -> Any:
        postgres = self.session.get_bind().dialect.name == "postgresql"
        return (postgres_insert if postgres else sqlite_insert)(table)

    # --- campaigns and versions -------------------------------------------------------------------

    def get(self, campaign_id: int) -> Campaign | None:
        return self.session.get(Campaign, campaign_id)

    def version(self, version_id: int) -> CampaignVersion | None:
        return self.session.get(CampaignVersion, version_id)

    def versions(self, campaign_id: int) -> list[CampaignVersion]:
        statement = select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id)
        return list(self.session.scalars(statement.order_by(CampaignVersion.number.desc())))

    def next_version_number(self, campaign_id: int) -> int:
        found = self.session.scalar(
            select(func.max(CampaignVersion.number)).where(CampaignVersion.campaign_id == campaign_id)
        )
        return int(found or 0) + 1

    def active_with_triggers(self, trigger_kinds: Collection[str]) -> list[Campaign]:
        """The active campaigns whose published trigger is of one of these kinds."""
        statement = select(Campaign).where(
            Campaign.status == ACTIVE, Campaign.trigger_kind.in_(trigger_kinds)
        )
        return list(self.session.scalars(statement.order_by(Campaign.id)))

    def scheduled_due(self, trigger_kinds: Collection[str], now: datetime) -> list[int]:
        """The active campaigns with a scheduled trigger whose next look has come."""
        statement = select(Campaign.id).where(
            Campaign.status == ACTIVE,
            Campaign.trigger_kind.in_(trigger_kinds),
            Campaign.next_check_at <= now,
        )
        return list(self.session.scalars(statement.order_by(Campaign.next_check_at)))

    def lock(self, campaign_id: int) -> Campaign | None:
        """The campaign, locked for this transaction (skipped while another worker has it)."""
        statement = select(Campaign).where(Campaign.id == campaign_id).with_for_update(skip_locked=True)
        return self.session.scalar(statement.execution_options(populate_existing=True))

    # --- entering ---------------------------------------------------------------------------------

    def entry_facts(
        self, campaign_id: int, customer_ids: Collection[int]
    ) -> dict[int, tuple[datetime, bool]]:
        """Per customer already in the campaign: the time of their last entry and whether a journey of
        theirs is still under way."""
        found: dict[int, tuple[datetime, bool]] = {}
        for part in chunked(sorted(customer_ids)):
            statement = (
                select(
                    Journey.customer_id,
                    func.max(Journey.entered_at),
                    func.max(case((Journey.status == WAITING, 1), else_=0)),
                )
                .where(Journey.campaign_id == campaign_id, Journey.customer_id.in_(part))
                .group_by(Journey.customer_id)
            )
            for customer_id, last, waiting in self.session.execute(statement):
                found[customer_id] = (last, bool(waiting))
        return found

    def insert_journeys(self, rows: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
        """Insert journeys, skipping an occurrence the campaign has entered the customer on already;
        (id, customer id) of those inserted."""
        inserted: list[tuple[int, int]] = []
        for part in chunked(list(rows), INSERT_CHUNK):
            statement = (
                self._insert(Journey.__table__)
                .on_conflict_do_nothing(index_elements=["campaign_id", "customer_id", "occurrence"])
                .returning(Journey.__table__.c.id, Journey.__table__.c.customer_id)
            )
            inserted.extend((row.id, row.customer_id) for row in self.session.execute(statement, part))
        return inserted

    def enter_selected(
        self,
        campaign: Campaign,
        version_id: int,
        node: str,
        selection: Select[Any],
        now: datetime,
        reentry_after: datetime | None,
    ) -> int:
        """Enter every customer of a scheduled trigger's selection (`customer_id`, `occurrence`) in one
        statement, leaving out those under way in the campaign and those the re-entry rule keeps out
        (`reentry_after`: entered after it; None with `campaign.reentry_minutes` None: ever entered).
        A selection may add a `context` column (a JSON object built in SQL: a cart's total, an order's id)
        that the journeys keep for filters and templates."""
        chosen = selection.subquery("chosen")
        context_type = Journey.__table__.c.context.type
        context = chosen.c.context if "context" in chosen.c else literal({}, context_type)
        earlier = Journey.__table__.alias("earlier")
        blocking = earlier.c.status == WAITING
        if campaign.reentry_minutes is None:
            blocking = literal(True)
        elif reentry_after is not None:
            blocking = blocking | (earlier.c.entered_at > reentry_after)
        kept_out = exists().where(
            earlier.c.campaign_id == campaign.id, earlier.c.customer_id == chosen.c.customer_id, blocking
        )
        source = select(
            literal(campaign.id),
            literal(version_id),
            chosen.c.customer_id,
            chosen.c.occurrence,
            literal(node),
            literal(WAITING),
            literal(now, Journey.__table__.c.wake_at.type),
            literal(now, Journey.__table__.c.arrived_at.type),
            literal(now, Journey.__table__.c.entered_at.type),
            context,
            literal({}, Journey.__table__.c.state.type),
        ).where(~kept_out)
        columns = [
            "campaign_id", "version_id", "customer_id", "occurrence", "node", "status",
            "wake_at", "arrived_at", "entered_at", "context", "state",
        ]  # fmt: skip
        statement = (
            self._insert(Journey.__table__)
            .from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["campaign_id", "customer_id", "occurrence"])
        )
        # Row counts of INSERT … SELECT are only kept when asked for; skipped rows are not counted.
        result = self.session.execute(statement.execution_options(preserve_rowcount=True))
        return int(getattr(result, "rowcount", 0) or 0)

    def set_check(self, campaign_id: int, checked_until: datetime, next_check_at: datetime | None) -> None:
        self.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id)
            .values(checked_until=checked_until, next_check_at=next_check_at)
        )

    # --- walking ----------------------------------------------------------------------------------

    def campaigns_with_due(self, now: datetime) -> list[int]:
        """The campaigns (active or of another status but with journeys in flight, except suspended) that
        have journeys due now."""
        due = exists().where(
            Journey.status == WAITING, Journey.campaign_id == Campaign.id, Journey.wake_at <= now
        )
        statement = select(Campaign.id).where(Campaign.status != "suspended", due)
        return list(self.session.scalars(statement.order_by(Campaign.id)))

    def campaigns_with_few_due(self, now: datetime, limit: int) -> list[int]:
        """The campaigns with journeys due now, but no more than `limit` of them (each counted no further,
        so that a campaign with 300,000 due journeys costs no more to look at than one batch)."""
        few = []
        for campaign_id in self.campaigns_with_due(now):
            due = (
                select(Journey.id)
                .where(Journey.status == WAITING, Journey.campaign_id == campaign_id, Journey.wake_at <= now)
                .limit(limit + 1)
                .subquery()
            )
            if (self.session.scalar(select(func.count()).select_from(due)) or 0) <= limit:
                few.append(campaign_id)
        return few

    def claim_due(self, campaign_id: int, now: datetime, limit: int) -> list[Journey]:
        """The campaign's due journeys, earliest first, locked for this transaction (those another worker
        holds are skipped; SQLite's write lock keeps every other writer out)."""
        statement = (
            select(Journey)
            .where(Journey.status == WAITING, Journey.campaign_id == campaign_id, Journey.wake_at <= now)
            .order_by(Journey.wake_at, Journey.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return list(self.session.scalars(statement))

    def move_journeys(self, journeys: Sequence[Journey]) -> None:
        """Write where walked journeys (detached from the session) stand now: one UPDATE per set of
        journeys that moved alike."""
        alike: dict[str, tuple[dict[str, Any], list[int]]] = {}
        for journey in journeys:
            values = {column: getattr(journey, column) for column in MOVED}
            key = json.dumps(values, sort_keys=True, default=str)
            alike.setdefault(key, (values, []))[1].append(journey.id)
        for values, ids in alike.values():
            for condition in self._ids_in(Journey.id, ids):
                statement = update(Journey).where(condition).values(**values)
                self.session.execute(statement.execution_options(synchronize_session=False))

    def _ids_in(self, column: Any, ids: Sequence[int]) -> Iterable[Any]:
        """`column IN ids` as one array parameter on PostgreSQL (a list of hundreds of placeholders is
        parsed again in Python by psycopg for every statement), lists of a few hundred on SQLite."""
        if self.session.get_bind().dialect.name != "postgresql":
            yield from (column.in_(part) for part in chunked(list(ids)))
        elif ids:
            yield column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))

    def add_stats(self, campaign_id: int, counts: dict[tuple[int, str, str, str], int]) -> None:
        """Add to the node counters: {(version id, node, outcome, day): count}."""
        if not counts:
            return
        table = CampaignNodeStat.__table__
        rows = [
            {"version_id": v, "node": n, "outcome": o, "day": d, "campaign_id": campaign_id, "count": c}
            for (v, n, o, d), c in sorted(counts.items())
        ]
        statement = self._insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["version_id", "node", "outcome", "day"],
            set_={"count": table.c.count + statement.excluded.count},
        )
        self.session.execute(statement, rows)

    def record_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        """Tie planned messages to their journeys and nodes (a message tied already stays as it is)."""
        insert_rows(self.session, CAMPAIGN_MESSAGES, rows, skip_conflicts_on="message_id")

    def messages_of(self, journey_ids: Iterable[int], node: str) -> dict[int, int]:
        """{journey id: message id} of the messages a send node planned for these journeys (the latest
        visit's when there were several)."""
        found: dict[int, int] = {}
        for part in chunked(sorted(set(journey_ids))):
            statement = (
                select(CampaignMessage.journey_id, func.max(CampaignMessage.message_id))
                .where(CampaignMessage.journey_id.in_(part), CampaignMessage.node == node)
                .group_by(CampaignMessage.journey_id)
            )
            found.update((row[0], row[1]) for row in self.session.execute(statement))
        return found

    # --- node counters ----------------------------------------------------------------------------

    def counter(self, version_id: int, node: str, key: str) -> int:
        found = self.session.get(CampaignNodeCounter, (version_id, node, key))
        return 0 if found is None else found.value

    def add_to_counter(self, version_id: int, node: str, key: str, amount: int, now: datetime) -> int:
        """Add to a node's counter (made at 0) and return its new value; the row stays locked until the
        transaction ends, so two workers never both take the last place under a limit."""
        table = CampaignNodeCounter.__table__
        statement = self._insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["version_id", "node", "key"],
            set_={"value": table.c.value + statement.excluded.value, "updated_at": now},
        ).returning(table.c.value)
        values = {"version_id": version_id, "node": node, "key": key, "value": amount, "updated_at": now}
        return int(self.session.execute(statement, values).scalar_one())

    def set_counter(self, version_id: int, node: str, key: str, value: int, now: datetime) -> None:
        table = CampaignNodeCounter.__table__
        statement = self._insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["version_id", "node", "key"], set_={"value": value, "updated_at": now}
        )
        self.session.execute(
            statement, {"version_id": version_id, "node": node, "key": key, "value": value, "updated_at": now}
        )

    # --- exits ------------------------------------------------------------------------------------

    def exit_journeys(
        self, campaign_ids: Collection[int], customer_ids: Collection[int], reason: str, now: datetime
    ) -> int:
        """End the journeys under way of these customers in these campaigns."""
        ended = 0
        for part in chunked(sorted(customer_ids)):
            statement = (
                update(Journey)
                .where(
                    Journey.status == WAITING,
                    Journey.campaign_id.in_(list(campaign_ids)),
                    Journey.customer_id.in_(part),
                )
                .values(status=EXITED, exit_reason=reason, finished_at=now, wake_at=None)
            )
            ended += int(getattr(self.session.execute(statement), "rowcount", 0) or 0)
        return ended

    def in_flight_by_node(self, version_ids: Collection[int]) -> dict[tuple[int, str], int]:
        statement = (
            select(Journey.version_id, Journey.node, func.count())
            .where(Journey.version_id.in_(list(version_ids)), Journey.status == WAITING)
            .group_by(Journey.version_id, Journey.node)
        )
        return {(v, n): c for v, n, c in self.session.execute(statement)}
