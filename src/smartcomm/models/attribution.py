"""Attributed receipts: which communications a purchase followed, and the one that gets the credit.

One row per qualifying (receipt, touch) pair. The message's source, channel, the receipt's amount and
purchase time are copied in, so "receipts and revenue per mailing per day" reads this table alone.
The rules live in `smartcomm.attribution`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, Money


class AttributedReceipt(Base):
    """A paid receipt that followed a touch (an opened e-mail or push, a delivered SMS or Viber message)
    within the window of that touch's communication; `credited` marks the last such touch."""

    __tablename__ = "attributed_receipts"
    __table_args__ = (
        UniqueConstraint("receipt_id", "message_id"),
        # Reports: receipts and revenue of one communication, by day.
        Index("ix_attributed_receipts_source", "source_kind", "source_id", "credited", "purchased_at"),
        Index("ix_attributed_receipts_message", "message_id"),
        Index("ix_attributed_receipts_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(8))
    touched_at: Mapped[datetime]  # the first person's open, or the delivery (SMS, Viber)
    purchased_at: Mapped[datetime]
    amount: Mapped[Decimal] = mapped_column(Money)
    credited: Mapped[bool] = mapped_column(default=False)  # the last touch: the receipt counts for it
