"""The bonus columns of the customers import: `bonus_balance`, and one expiring portion per row
(`expiring_amount` + `expiring_on`).

The loyalty system's daily export has one row per customer with the next portion to expire; a customer
with several portions repeats their row (the other cells may stay empty), one portion per row. Wherever
the file has the expiring columns, the portions of its rows replace a customer's stored portions as a
whole: a row with both cells empty says nothing expires. An empty `bonus_balance` keeps the balance.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from smartcomm.imports.reading import FileRejected, Units, convert, parse_date
from smartcomm.imports.schemas import RowError
from smartcomm.loyalty.schemas import BonusUpdate

BALANCE, AMOUNT, DAY = "bonus_balance", "expiring_amount", "expiring_on"
BONUS_COLUMNS = (BALANCE, AMOUNT, DAY)
# The key of a checked record's values that holds its BonusUpdate (never a column of `customers`).
BONUS = "_bonus"


class BonusCells:
    """Reads the bonus columns of one customers file (positions from its header)."""

    def __init__(self, positions: dict[str, int]) -> None:
        self.balance = positions.get(BALANCE)
        self.amount, self.day = positions.get(AMOUNT), positions.get(DAY)
        if (self.amount is None) != (self.day is None):
            missing = AMOUNT if self.amount is None else DAY
            raise FileRejected([RowError(1, missing, "expiring_amount and expiring_on go together")])
        self.signed = Units(2, max_digits=16, negative=True)
        self.positive = Units(2, max_digits=16, positive=True)

    @property
    def present(self) -> bool:
        return self.balance is not None or self.amount is not None

    def read(self, row: int, cells: list[str], errors: list[RowError]) -> BonusUpdate | None:
        """The row's bonus data (None when the file has no bonus column); problems go to `errors`."""
        if not self.present:
            return None
        balance_sent, balance = False, None
        if self.balance is not None and (text := cells[self.balance].strip()):
            balance_sent, balance = True, _money(convert(errors, row, BALANCE, text, self.signed))
        return BonusUpdate(balance_sent, balance, self._portion(row, cells, errors))

    def _portion(
        self, row: int, cells: list[str], errors: list[RowError]
    ) -> tuple[tuple[Decimal, date], ...] | None:
        if self.amount is None or self.day is None:
            return None
        amount_text, day_text = cells[self.amount].strip(), cells[self.day].strip()
        if not amount_text and not day_text:
            return ()
        if not amount_text or not day_text:
            errors.append(
                RowError(row, AMOUNT if not amount_text else DAY, "give both the amount and the day")
            )
            return None
        amount = _money(convert(errors, row, AMOUNT, amount_text, self.positive))
        day = convert(errors, row, DAY, day_text, parse_date)
        return () if amount is None or day is None else ((amount, day),)


def merged_rows(earlier: BonusUpdate | None, later: BonusUpdate) -> BonusUpdate:
    """Two rows of one customer in a file: the later balance wins, the portions add up."""
    if earlier is None:
        return later
    balance_sent = earlier.balance_sent or later.balance_sent
    balance = later.balance if later.balance_sent else earlier.balance
    expiring = earlier.expiring
    if later.expiring is not None:
        expiring = (earlier.expiring or ()) + later.expiring
    return BonusUpdate(balance_sent, balance, expiring)


def _money(units: int | None) -> Decimal | None:
    return None if units is None else Decimal(units).scaleb(-2)
