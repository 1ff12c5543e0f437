"""Test data of promo codes: groups and codes written the way the service writes them."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.models import AuditEntry, Customer, PromoCode, PromoCodeGroup
from smartcomm.promocodes.importing import text_lines
from smartcomm.promocodes.schemas import GroupCreate
from smartcomm.promocodes.service import promocode_service

ACTOR = Actor.system("tests")
_numbers = itertools.count(1)


def make_group(session: Session, code: str | None = None, **values: object) -> PromoCodeGroup:
    data = GroupCreate.model_validate({"name": "Spring sale", "code": code or f"G{next(_numbers)}"} | values)
    return promocode_service.create(session, ACTOR, data)


def add(session: Session, group: PromoCodeGroup, *codes: str) -> None:
    promocode_service.add_codes(session, ACTOR, group.id, text_lines("\n".join(codes)), str, "tests")


def codes_of(session: Session, group_id: int) -> dict[str, PromoCode]:
    session.expire_all()
    found = session.scalars(select(PromoCode).where(PromoCode.group_id == group_id))
    return {code.code: code for code in found}


def count_codes(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PromoCode)) or 0)


def actions(session: Session, object_type: str = "promo_code_group") -> list[str]:
    statement = select(AuditEntry.action).where(AuditEntry.object_type == object_type).order_by(AuditEntry.id)
    return list(session.scalars(statement))


def make_customer(session: Session, external_id: str | None = None) -> Customer:
    customer = Customer(external_id=external_id or f"P-{next(_numbers)}", first_name="Olga")
    session.add(customer)
    session.flush()
    return customer
