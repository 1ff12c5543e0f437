"""Test data of the global control group: a base of customers inserted at once, and the group's settings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.control_groups.service import global_control_service
from smartcomm.models import Customer, GlobalControlMember

ACTOR = Actor.system("tests")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def make_base(session: Session, count: int, prefix: str = "G", **values: Any) -> list[int]:
    """`count` customers (external ids `<prefix>-1`…), with the given values or callables of the index."""
    rows = []
    for index in range(count):
        row: dict[str, Any] = {
            "external_id": f"{prefix}-{index + 1}",
            "email": f"{prefix}{index}@example.com",
        }
        for name, value in values.items():
            row[name] = value(index) if callable(value) else value
        rows.append(row)
    session.execute(insert(Customer), rows)
    ids = session.scalars(select(Customer.id).where(Customer.external_id.like(f"{prefix}-%")))
    return sorted(ids)


def enable(session: Session, now: datetime = NOW, **settings: Any) -> None:
    global_control_service.update(session, ACTOR, {"enabled": True, **settings}, now=now)


def open_members(session: Session) -> list[int]:
    statement = select(GlobalControlMember.customer_id).where(GlobalControlMember.left_at.is_(None))
    return sorted(session.scalars(statement))


def born(index: int, years: Sequence[int] = (1960, 1985, 2005)) -> date:
    return date(years[index % len(years)], 6, 1)
