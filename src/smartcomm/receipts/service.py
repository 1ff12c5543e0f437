"""Rules for receipts: validation against customers and custom fields, then the set-based writer."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.catalog.lookups import ProductLookup, StoreLookup
from smartcomm.customers.repository import CustomerRepository, chunks
from smartcomm.fields.repository import FieldRepository
from smartcomm.fields.values import clean_custom_values
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.models import Customer, Receipt, ReceiptLine
from smartcomm.receipts.schemas import ReceiptBatchOut, ReceiptIn
from smartcomm.receipts.writer import LineRecord, ReceiptRecord, ReceiptWriter, WriteResult


class ReceiptService:
    def write(self, session: Session, actor: Actor, items: Sequence[ReceiptIn]) -> ReceiptBatchOut:
        """Store receipts (idempotent by store and number); any invalid item rejects the whole batch."""
        records, errors = self.to_records(session, items, path="receipts")
        if errors:
            raise InvalidInput(f"{len(errors)} problem(s) in the receipts; nothing was written", errors)
        result = ReceiptWriter(session).write(records)
        audit_service.record(
            session,
            actor,
            object_type="receipt_batch",
            object_id=f"{len(records)} receipts",
            action="upsert",
            changes={"created": [None, result.created], "replaced": [None, result.replaced]},
        )
        return ReceiptBatchOut(created=result.created, replaced=result.replaced, ids=result.ids)

    def write_one(self, session: Session, actor: Actor, item: ReceiptIn) -> ReceiptBatchOut:
        """Store one receipt; problems name its fields directly (`lines[0].custom.size`)."""
        try:
            return self.write(session, actor, [item])
        except InvalidInput as error:
            fields = [
                FieldError(e.field.removeprefix("receipts[0]."), e.message, e.code) for e in error.errors
            ]
            raise InvalidInput(error.message, fields) from None

    def write_records(self, session: Session, records: Sequence[ReceiptRecord]) -> WriteResult:
        """Store already-resolved receipts (the import and tracker paths)."""
        return ReceiptWriter(session).write(records)

    def to_records(
        self, session: Session, items: Sequence[ReceiptIn], *, path: str
    ) -> tuple[list[ReceiptRecord], list[FieldError]]:
        """Resolve customers, stores and products; every problem names its item's field path."""
        customers = self._customer_ids(session, items)
        stores = StoreLookup(session).ids([item.store for item in items])
        products = ProductLookup(session).resolve([line.sku for item in items for line in item.lines])
        receipt_types = _custom_types(session, "receipt", any(item.custom for item in items))
        line_types = _custom_types(session, "receipt_line", any(ln.custom for it in items for ln in it.lines))
        records: list[ReceiptRecord] = []
        errors: list[FieldError] = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            customer_id = customers.get(item.customer_external_id or f"#{item.customer_id}")
            if customer_id is None:
                field = "customer_external_id" if item.customer_external_id else "customer_id"
                errors.append(FieldError(f"{where}.{field}", "no customer with this id", "unknown"))
                continue
            custom, problems = clean_custom_values(item.custom, receipt_types, f"{where}.custom")
            errors.extend(problems)
            record_lines = []
            for number, line in enumerate(item.lines):
                line_custom, line_problems = clean_custom_values(
                    line.custom, line_types, f"{where}.lines[{number}].custom"
                )
                errors.extend(line_problems)
                product_id, category_id = products[line.sku]
                record_lines.append(
                    LineRecord(
                        sku=line.sku,
                        quantity=line.quantity,
                        price=line.price,
                        amount=line.line_amount(),
                        discount=line.discount,
                        product_id=product_id,
                        category_id=category_id,
                        custom=line_custom,
                    )
                )
            total = (
                item.total
                if item.total is not None
                else sum((ln.amount for ln in record_lines), start=Decimal("0"))
            )
            records.append(
                ReceiptRecord(
                    number=item.number,
                    store_id=stores[item.store],
                    customer_id=customer_id,
                    purchased_at=item.purchased_at,
                    total=total,
                    status=item.status,
                    discount=item.discount,
                    bonus_earned=item.bonus_earned,
                    bonus_spent=item.bonus_spent,
                    custom=custom,
                    lines=record_lines,
                    promo_codes=list(dict.fromkeys(item.promo_codes)) or None,
                )
            )
        return records, errors

    def get(self, session: Session, receipt_id: int) -> tuple[Receipt, list[ReceiptLine]]:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            raise NotFound("Receipt", receipt_id)
        statement = (
            select(ReceiptLine).where(ReceiptLine.receipt_id == receipt_id).order_by(ReceiptLine.position)
        )
        return receipt, list(session.scalars(statement))

    def for_customer(self, session: Session, customer_id: int, params: PageParams) -> Page[Receipt]:
        """A customer's receipts, newest first."""
        statement = (
            select(Receipt)
            .where(Receipt.customer_id == customer_id)
            .order_by(Receipt.purchased_at.desc(), Receipt.id)
        )
        total = int(session.scalar(select(func.count()).where(Receipt.customer_id == customer_id)) or 0)
        items = list(session.scalars(statement.limit(params.size).offset(params.offset)))
        return Page(items=items, total=total, page=params.page, size=params.size)

    def lines_of(self, session: Session, receipt_ids: Sequence[int]) -> dict[int, list[ReceiptLine]]:
        grouped: dict[int, list[ReceiptLine]] = {receipt_id: [] for receipt_id in receipt_ids}
        for part in chunks(list(receipt_ids)):
            statement = (
                select(ReceiptLine).where(ReceiptLine.receipt_id.in_(part)).order_by(ReceiptLine.position)
            )
            for line in session.scalars(statement):
                grouped[line.receipt_id].append(line)
        return grouped

    def _customer_ids(self, session: Session, items: Sequence[ReceiptIn]) -> dict[str, int]:
        """'external id' -> id, and '#<platform id>' -> id for the receipts that name a platform id."""
        external = [item.customer_external_id for item in items if item.customer_external_id]
        found = CustomerRepository(session).ids_by_external_ids(external)
        platform = [item.customer_id for item in items if item.customer_id is not None]
        for part in chunks(platform):
            for (customer_id,) in session.execute(select(Customer.id).where(Customer.id.in_(part))):
                found[f"#{customer_id}"] = customer_id
        return found


def _custom_types(session: Session, obj: str, needed: bool) -> dict[str, str]:
    """The custom fields' types of `obj`, read only when some value needs checking against them: most
    receipts carry none, and every statement counts on the path of a single receipt (target S4)."""
    return FieldRepository(session).custom_types(obj) if needed else {}


receipt_service = ReceiptService()
