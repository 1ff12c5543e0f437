"""Customers, segments and files for the audience tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.customers.schemas import CustomerIn
from smartcomm.customers.service import customer_service
from smartcomm.models import AudienceMember, AuditEntry, Customer, Segment
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service

ACTOR = Actor("user", None, "Mila Marketer <mila@example.com>")


def customer(
    session: Session,
    external_id: str,
    last_name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    city: str | None = None,
) -> Customer:
    data = CustomerIn(
        external_id=external_id, last_name=last_name, first_name="Test", email=email, phone=phone, city=city
    )
    return customer_service.upsert(session, ACTOR, data)[0]


def city_segment(session: Session, name: str, city: str) -> Segment:
    """A built segment of the customers who live in `city`."""
    condition = {"metric": "profile.city", "operator": "eq", "value": city}
    rules = SegmentRules.model_validate({"root": {"op": "and", "children": [condition]}})
    segment = segment_service.create(session, ACTOR, SegmentIn(name=name, rules=rules))
    segment_service.build(session, segment.id, "manual")
    return segment


def member_ids(session: Session, audience_id: int) -> set[str]:
    statement = (
        select(Customer.external_id)
        .join(AudienceMember, AudienceMember.customer_id == Customer.id)
        .where(AudienceMember.audience_id == audience_id)
    )
    return set(session.scalars(statement))


def audit_rows(session: Session, audience_id: int, action: str | None = None) -> list[AuditEntry]:
    statement = (
        select(AuditEntry)
        .where(AuditEntry.object_type == "audience", AuditEntry.object_id == str(audience_id))
        .order_by(AuditEntry.id)
    )
    rows = list(session.scalars(statement))
    return [row for row in rows if action is None or row.action == action]


def write_file(folder: Path, name: str, text: str, *, bom: bool = False) -> Path:
    path = folder / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path
