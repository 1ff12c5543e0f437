"""Bonus data in the customers import: `bonus_balance`, and one expiring portion per row (`expiring_amount`,
`expiring_on`) — a customer's rows add up to their portions, which replace the stored ones; an empty
balance keeps it; a wrong cell is reported by row and column and the file writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.imports.runner import import_file
from smartcomm.imports.samples import SAMPLES
from smartcomm.loyalty.service import loyalty_service
from smartcomm.models import Customer
from tests.imports.conftest import WriteCsv
from tests.loyalty.conftest import changed_customers, counts, member
from tests.loyalty.data import give_bonuses


def ids(session: Session) -> dict[str, int]:
    return {row[0]: row[1] for row in session.execute(select(Customer.external_id, Customer.id))}


def stored(session: Session, external_id: str) -> tuple[Decimal | None, list[tuple[str, str]]]:
    found = loyalty_service.bonuses(session, ids(session)[external_id])
    portions = [(str(p.amount), p.expires_on.isoformat()) for p in found.expiring_bonuses]
    return found.bonus_balance, portions


def imported(path: Path) -> None:
    summary = import_file("customers", path)
    assert (summary.status, summary.error_rows) == ("done", 0), summary.errors


def test_balances_and_portions_are_imported_one_portion_per_row(
    session: Session, write_csv: WriteCsv
) -> None:
    olga = member(session, "C-3")
    give_bonuses(session, olga.id, "80.00", [("10", date(2027, 1, 1))])
    session.commit()
    imported(
        write_csv(
            "external_id;first_name;bonus_balance;expiring_amount;expiring_on\n"
            "C-1;Anna;1250,50;300;2027-03-01\n"
            "C-1;;;200.25;2027-02-01\n"  # a second portion of Anna's
            "C-2;Oleg;0;;\n"  # a balance of 0, nothing expiring
            "C-3;;;;\n"  # Olga: the balance stays, her portion is gone
        )
    )

    assert stored(session, "C-1") == (
        Decimal("1250.50"),
        [("200.25", "2027-02-01"), ("300.00", "2027-03-01")],
    )
    assert stored(session, "C-2") == (Decimal("0.00"), [])
    assert stored(session, "C-3") == (Decimal("80.00"), [])
    assert changed_customers(session) == [sorted(ids(session).values())]


def test_without_the_expiring_columns_the_portions_stay(session: Session, write_csv: WriteCsv) -> None:
    anna = member(session, "C-1")
    give_bonuses(session, anna.id, "5.00", [("10", date(2027, 1, 1))])
    session.commit()
    imported(write_csv("external_id,bonus_balance\nC-1,7\n"))
    assert stored(session, "C-1") == (Decimal("7.00"), [("10.00", "2027-01-01")])

    imported(write_csv("external_id,bonus_balance\nC-1,7.00\n"))  # the same again: no change announced
    assert changed_customers(session) == [[anna.id]]


def test_wrong_bonus_cells_reject_the_file_writing_nothing(session: Session, write_csv: WriteCsv) -> None:
    before = counts(session)
    summary = import_file(
        "customers",
        write_csv(
            "external_id,bonus_balance,expiring_amount,expiring_on\n"
            "C-1,ten,5,2027-01-01\n"
            "C-2,1,5,\n"
            "C-3,1,-5,2027-01-01\n"
            "C-4,1,5,01.02.2027\n"
            "C-5,1.001,,\n"
        ),
    )
    assert summary.status == "rejected" and summary.imported_rows == 0
    assert [(e.row, e.column) for e in summary.errors] == [
        (2, "bonus_balance"),
        (3, "expiring_on"),
        (4, "expiring_amount"),
        (5, "expiring_on"),
        (6, "bonus_balance"),
    ]
    assert counts(session) == before and changed_customers(session) == []


def test_an_expiring_column_without_its_pair_rejects_the_file(session: Session, write_csv: WriteCsv) -> None:
    summary = import_file("customers", write_csv("external_id,expiring_amount\nC-1,5\n"))
    assert summary.status == "rejected"
    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (1, "expiring_on", "expiring_amount and expiring_on go together")
    ]
    assert counts(session)["customers"] == 0


def test_the_sample_file_imports_bonus_data(session: Session, write_csv: WriteCsv) -> None:
    imported(write_csv(SAMPLES["customers"]))
    assert stored(session, "C-1001") == (
        Decimal("1250.50"),
        [("300.00", "2027-01-31"), ("200.00", "2027-02-28")],
    )
    assert stored(session, "C-1002") == (Decimal("0.00"), [])
    assert stored(session, "C-1003") == (None, [])
