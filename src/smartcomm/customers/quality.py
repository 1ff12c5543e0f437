"""Contact data quality: how many customers can be reached on each channel, and why the others cannot.

Every customer falls in exactly one bucket per contact kind — e-mail valid / invalid / missing; phone
mobile / landline / other valid / invalid / missing; push with or without a valid token — judged from the
columns the intake stored (`email_valid`, `phone_valid`, `phone_type`, `push_tokens.is_valid`), which are
what the send gate reads. Duplicates (an e-mail or phone shared by several customers) cut across them.
Each bucket is also a filter of the customer list (`/customers?contact=email_invalid`): both count with
the predicates of `CONTACT_BUCKETS`, so a bucket's number and its list always agree.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from smartcomm.customers.repository import CONTACT_BUCKETS, contact_bucket
from smartcomm.models import Customer, PushToken

# The buckets of each contact kind, in the order the page shows them; together they hold every customer.
KINDS: dict[str, tuple[str, ...]] = {
    "email": ("valid", "invalid", "missing"),
    "phone": ("mobile", "landline", "other", "invalid", "missing"),
    "push": ("valid", "missing"),
}
# Kinds whose values may be shared by several customers.
SHARED_KINDS = ("email", "phone")


class BucketOut(BaseModel):
    count: int = Field(description="customers in the bucket")
    share: float = Field(description="their share of all customers, 0–1 (four decimals)")
    filter: str = Field(description="the customer list's filter value: /customers?contact=<filter>")


class DuplicatesOut(BucketOut):
    values: int = Field(description="distinct addresses or numbers shared by more than one customer")


class ContactKindOut(BaseModel):
    buckets: dict[str, BucketOut]
    duplicates: DuplicatesOut | None = None


class ContactQualityOut(BaseModel):
    total: int = Field(description="all customers")
    email: ContactKindOut
    phone: ContactKindOut
    push: ContactKindOut


class ContactQualityRepository:
    """The counts of the buckets: one pass over the customers, one over the valid push tokens, one
    grouping per shared contact."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def bucket_counts(self) -> dict[str, int]:
        """The number of customers ("total") and of each e-mail and phone bucket but the duplicates."""
        names = [
            n for n in CONTACT_BUCKETS if n.startswith(("email_", "phone_")) and not n.endswith("_duplicate")
        ]
        columns = [func.coalesce(func.sum(case((contact_bucket(n), 1), else_=0)), 0) for n in names]
        row = self.session.execute(select(func.count(), *columns).select_from(Customer)).one()
        return {
            "total": int(row[0]),
            **{name: int(value) for name, value in zip(names, row[1:], strict=True)},
        }

    def with_valid_push_token(self) -> int:
        """Customers with at least one valid token, counted from the tokens (no probe per customer)."""
        statement = select(func.count(func.distinct(PushToken.customer_id))).where(
            PushToken.is_valid.is_(True)
        )
        return int(self.session.scalar(statement) or 0)

    def shared(self, column: Any) -> tuple[int, int]:
        """(customers whose value another customer shares, distinct shared values)."""
        groups = (
            select(func.count().label("holders"))
            .where(column.is_not(None), column != "")
            .group_by(column)
            .having(func.count() > 1)
            .subquery()
        )
        row = self.session.execute(select(func.coalesce(func.sum(groups.c.holders), 0), func.count())).one()
        return int(row[0]), int(row[1])


class ContactQualityService:
    def report(self, session: Session) -> ContactQualityOut:
        """Customers by the state of their e-mail, phone and push tokens, with duplicates."""
        repository = ContactQualityRepository(session)
        counts = repository.bucket_counts()
        total = counts["total"]
        counts["push_valid"] = repository.with_valid_push_token()
        counts["push_missing"] = total - counts["push_valid"]
        kinds = {
            kind: ContactKindOut(
                buckets={name: _bucket(counts[f"{kind}_{name}"], total, f"{kind}_{name}") for name in names}
            )
            for kind, names in KINDS.items()
        }
        for kind in SHARED_KINDS:
            holders, values = repository.shared(getattr(Customer, kind))
            kinds[kind].duplicates = DuplicatesOut(
                values=values, **_bucket(holders, total, f"{kind}_duplicate").model_dump()
            )
        return ContactQualityOut(total=total, **kinds)


def _bucket(count: int, total: int, name: str) -> BucketOut:
    return BucketOut(count=count, share=round(count / total, 4) if total else 0.0, filter=name)


contact_quality_service = ContactQualityService()
