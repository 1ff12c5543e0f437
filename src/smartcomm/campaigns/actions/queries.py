"""The SQL of the campaign actions: memberships they read, the audience rows they write, the ledger
statuses and the A/B scores they judge by. Every statement takes a whole batch of journeys at once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, distinct, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from smartcomm.kit.bulk import chunked
from smartcomm.models import (
    AttributedReceipt,
    Audience,
    AudienceMember,
    CampaignMessage,
    CampaignNodeCounter,
    Customer,
    Journey,
    Message,
    Poll,
    Segment,
    SegmentMembership,
    User,
)

# The stratification fields of a control group and the customer column each is read from.
STRATUM_COLUMNS: dict[str, Any] = {
    "gender": Customer.gender,
    "age_band": Customer.birth_date,
    "city": Customer.city,
    "region": Customer.region,
    "card_status": Customer.card_status,
    "buyer": Customer.receipt_count,
}


class ActionQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert(self, table: Any) -> Any:
        postgres = self.session.get_bind().dialect.name == "postgresql"
        return (postgres_insert if postgres else sqlite_insert)(table)

    # --- what exists (the nodes' checks) -------------------------------------------------------------

    def exists(self, model: type[Segment | Audience | Poll], row_id: int) -> bool:
        return self.session.scalar(select(model.id).where(model.id == row_id)) is not None

    def active_users(self, user_ids: Collection[int]) -> dict[int, tuple[str, str]]:
        """{user id: (e-mail, interface language)} of these staff users who may still sign in."""
        statement = select(User.id, User.email, User.language).where(
            User.id.in_(list(user_ids)), User.is_active.is_(True)
        )
        return {row[0]: (row[1], row[2]) for row in self.session.execute(statement)}

    def users_by_email(self, emails: Collection[str]) -> dict[str, tuple[int, str]]:
        """{lower-cased e-mail: (user id, interface language)} of the active staff users with these
        addresses."""
        lowered = sorted({email.lower() for email in emails})
        if not lowered:
            return {}
        statement = select(func.lower(User.email), User.id, User.language).where(
            func.lower(User.email).in_(lowered), User.is_active.is_(True)
        )
        return {row[0]: (row[1], row[2]) for row in self.session.execute(statement)}

    # --- counters (read fresh, never from the session's identity map) --------------------------------

    def counter(self, version_id: int, node: str, key: str) -> int | None:
        statement = select(CampaignNodeCounter.value).where(
            CampaignNodeCounter.version_id == version_id,
            CampaignNodeCounter.node == node,
            CampaignNodeCounter.key == key,
        )
        found = self.session.scalar(statement)
        return None if found is None else int(found)

    # --- memberships ---------------------------------------------------------------------------------

    def segment_members(self, segment_id: int, customer_ids: Sequence[int]) -> set[int]:
        """Which of these customers are members of the segment now."""
        return self._among(
            select(SegmentMembership.customer_id).where(
                SegmentMembership.segment_id == segment_id, SegmentMembership.exited_at.is_(None)
            ),
            SegmentMembership.customer_id,
            customer_ids,
        )

    def audience_members(self, audience_id: int, customer_ids: Sequence[int]) -> set[int]:
        """Which of these customers are members of the target audience now."""
        return self._among(
            select(AudienceMember.customer_id).where(AudienceMember.audience_id == audience_id),
            AudienceMember.customer_id,
            customer_ids,
        )

    def _among(self, statement: Select[Any], column: Any, customer_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for part in chunked(sorted(set(customer_ids))):
            found.update(self.session.scalars(statement.where(column.in_(part))))
        return found

    def add_to_audience(self, audience_id: int, customer_ids: Sequence[int], now: datetime) -> set[int]:
        """Add these customers (a member already is left as is) and count the new ones into the audience's
        member count; returns the customers added now."""
        added: set[int] = set()
        for part in chunked(sorted(set(customer_ids))):
            rows = [{"audience_id": audience_id, "customer_id": c, "added_at": now} for c in part]
            statement = (
                self._insert(AudienceMember.__table__)
                .on_conflict_do_nothing(index_elements=["audience_id", "customer_id"])
                .returning(AudienceMember.__table__.c.customer_id)
            )
            added.update(row[0] for row in self.session.execute(statement, rows))
        self._count_members(audience_id, len(added))
        return added

    def remove_from_audience(self, audience_id: int, customer_ids: Sequence[int]) -> set[int]:
        """Remove these customers from the audience; returns those who were members."""
        removed: set[int] = set()
        for part in chunked(sorted(set(customer_ids))):
            statement = (
                delete(AudienceMember)
                .where(AudienceMember.audience_id == audience_id, AudienceMember.customer_id.in_(part))
                .returning(AudienceMember.customer_id)
            )
            removed.update(self.session.scalars(statement, execution_options={"synchronize_session": False}))
        self._count_members(audience_id, -len(removed))
        return removed

    def _count_members(self, audience_id: int, change: int) -> None:
        if change:  # `x = x + n`: two walkers changing one audience never lose a change
            self.session.execute(
                update(Audience)
                .where(Audience.id == audience_id)
                .values(member_count=Audience.member_count + change)
                .execution_options(synchronize_session=False)
            )

    # --- customers -----------------------------------------------------------------------------------

    def strata(self, customer_ids: Sequence[int], fields: Sequence[str]) -> dict[int, tuple[Any, ...]]:
        """{customer id: the values of the stratification fields}."""
        columns = [STRATUM_COLUMNS[name] for name in fields]
        found: dict[int, tuple[Any, ...]] = {}
        for part in chunked(sorted(set(customer_ids))):
            statement = select(Customer.id, *columns).where(Customer.id.in_(part))
            found.update((int(row[0]), tuple(row[1:])) for row in self.session.execute(statement))
        return found

    def customers(self, customer_ids: Sequence[int]) -> dict[int, Customer]:
        found: dict[int, Customer] = {}
        for part in chunked(sorted(set(customer_ids))):
            found.update(
                (c.id, c) for c in self.session.scalars(select(Customer).where(Customer.id.in_(part)))
            )
        return found

    # --- the ledger ----------------------------------------------------------------------------------

    def message_states(self, message_ids: Collection[int]) -> dict[int, tuple[str, bool, bool]]:
        """{message id: (status, opened, clicked)}."""
        found: dict[int, tuple[str, bool, bool]] = {}
        for part in chunked(sorted(set(message_ids))):
            statement = select(
                Message.id, Message.status, Message.opened_at.is_not(None), Message.clicked_at.is_not(None)
            ).where(Message.id.in_(part))
            found.update(
                (row[0], (row[1], bool(row[2]), bool(row[3]))) for row in self.session.execute(statement)
            )
        return found

    def variant_scores(
        self, version_id: int, node: str, after: Collection[str], metric: str
    ) -> dict[str, tuple[int, int]]:
        """{variant: (journeys spread into it, how many of them scored)} of an A/B node: a journey scores
        with an opened (or clicked) message, a clicked one, or — "orders" — counts its attributed receipts;
        only the messages of the nodes after the split (`after`) count."""
        variant = Journey.state[("ab", node, "variant")].as_string()
        linked = (
            select(Journey.id.label("journey_id"), variant.label("variant"))
            .where(Journey.version_id == version_id, variant.is_not(None))
            .subquery("spread")
        )
        sent = CampaignMessage.__table__.alias("sent")
        score = self._score(metric, linked, sent)
        statement = (
            select(linked.c.variant, func.count(distinct(linked.c.journey_id)), score)
            .select_from(linked)
            .outerjoin(sent, (sent.c.journey_id == linked.c.journey_id) & sent.c.node.in_(list(after)))
            .outerjoin(Message, Message.id == sent.c.message_id)
            .group_by(linked.c.variant)
        )
        if metric == "orders":
            statement = statement.outerjoin(AttributedReceipt, AttributedReceipt.message_id == Message.id)
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in self.session.execute(statement)}

    @staticmethod
    def _score(metric: str, linked: Any, sent: Any) -> Any:
        if metric == "orders":
            return func.count(distinct(AttributedReceipt.receipt_id))
        touched: ColumnElement[bool] = Message.clicked_at.is_not(None)
        if metric == "opens":
            touched = or_(Message.opened_at.is_not(None), touched)
        return func.count(distinct(case((touched, linked.c.journey_id))))
