"""The global control group against the rest of the base over a period: what each bought, the revenue
all communications together brought, and whether the difference is real.

- The group: every customer who was a member at any moment of the period (a stay overlapping it); the
  rest: every other customer of the base. A redraw inside the period thus puts both draws' members in
  the group — they were all held out for part of it.
- Purchases: paid receipts purchased in [start, end), whoever the customer is.
- Incremental revenue of all communications: (the rest's revenue per customer − the group's) × the rest's
  size, i.e. the rest's amount minus what it would have bought at the group's rate.

The statistics (z-test on conversion, Welch's t-test on revenue per customer) are `analytics.groups`'.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, computed_field
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from smartcomm.analytics.groups import GroupRow, Sample, compare_with_control, group_row, sample_of
from smartcomm.kit.time import end_of_day, start_of_day
from smartcomm.models import Customer, GlobalControlMember, Receipt
from smartcomm.models.receipts import PURCHASE_STATUSES

DEFAULT_DAYS = 90


class GlobalControlReport(BaseModel):
    start: datetime
    end: datetime
    rest: GroupRow  # with the comparison, the expected and the incremental revenue
    group: GroupRow

    @computed_field  # type: ignore[prop-decorator]
    @property
    def incremental_amount(self) -> Decimal | None:
        return self.rest.incremental_amount


def default_period(today: date) -> tuple[date, date]:
    """The last 90 days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def report(session: Session, first: date, last: date, zone: str) -> GlobalControlReport:
    """The group against the rest of the base over the days first…last (in the project time zone)."""
    return report_between(session, start_of_day(first, zone), end_of_day(last, zone))


def report_between(session: Session, start: datetime, end: datetime) -> GlobalControlReport:
    """The group against the rest of the base over purchases in [start, end)."""
    members = _members(start, end)
    group = _sample(session, members, start, end)
    rest = _sample(session, _rest(members), start, end)
    rest_row = group_row("main", "Rest of the base", rest, None)
    if group.size:
        compare_with_control(rest_row, rest, group)
    return GlobalControlReport(
        start=start, end=end, rest=rest_row, group=group_row("control", "Global control group", group, None)
    )


def _members(start: datetime, end: datetime) -> Select[Any]:
    """Customers with a stay in the group overlapping [start, end)."""
    overlapping = and_(
        GlobalControlMember.entered_at < end,
        or_(GlobalControlMember.left_at.is_(None), GlobalControlMember.left_at > start),
    )
    return select(GlobalControlMember.customer_id.label("customer_id")).where(overlapping).distinct()


def _rest(members: Select[Any]) -> Select[Any]:
    held_out = members.subquery()
    return select(Customer.id.label("customer_id")).where(Customer.id.not_in(select(held_out.c.customer_id)))


def _sample(session: Session, members: Select[Any], start: datetime, end: datetime) -> Sample:
    group = members.subquery()
    size = session.scalar(select(func.count()).select_from(group))
    statement = (
        select(func.count(), func.sum(Receipt.total))
        .where(
            Receipt.customer_id.in_(select(group.c.customer_id)),
            Receipt.status.in_(PURCHASE_STATUSES),
            Receipt.purchased_at >= start,
            Receipt.purchased_at < end,
        )
        .group_by(Receipt.customer_id)
    )
    bought = [(int(count), Decimal(amount)) for count, amount in session.execute(statement)]
    return sample_of(int(size or 0), bought)
