"""Promo codes: groups of single-use codes, and each code's life — added, issued to one customer, redeemed.

A code is issued at render time (`client.promocode('GROUP')`): the message's key is stored on the code,
so rendering the same message again finds the code it already holds and burns none.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, TimestampMixin
from smartcomm.kit.time import utcnow


class PromoCodeGroup(TimestampMixin, Base):
    """Codes that share an offer; templates name the group by its `code` (`client.promocode('SPRING')`)."""

    __tablename__ = "promo_code_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # The offer the codes carry: a nominal ("500 ₽", "15 %") and what it gives.
    nominal: Mapped[str | None] = mapped_column(String(100))
    offer: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    # Remaining active codes at or below which the group is shown as running low (None: the setting).
    low_threshold: Mapped[int | None]
    # A blocked group issues nothing; its codes keep their own state.
    blocked: Mapped[bool] = mapped_column(default=False)
    # The format the codes were last generated from, offered again for the next generation.
    last_format: Mapped[str | None] = mapped_column(String(500))
    # A large generation running in the background: format, quantity, added so far, who asked, when it last
    # moved (a job that stopped moving is taken up again), and why it stopped short if it did.
    generation: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<PromoCodeGroup {self.id} {self.code!r}>"


class PromoCode(Base):
    """One single-use code: `active` until issued to a customer, then `issued`, then `redeemed`.

    A blocked code is never issued (and a blocked issued code no longer redeems). Codes are unique across
    all groups, so a code printed on a receipt names its group by itself."""

    __tablename__ = "promo_codes"
    __table_args__ = (
        UniqueConstraint("code", name="uq_promo_codes_code"),
        # One code per message and group, whatever the number of renders of that message.
        UniqueConstraint("group_id", "issue_key", name="uq_promo_codes_group_issue_key"),
        # The next active code of a group, in the order the codes were added.
        Index("ix_promo_codes_group_status", "group_id", "status", "id"),
        Index("ix_promo_codes_customer", "customer_id", "group_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("promo_code_groups.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | issued | redeemed
    blocked: Mapped[bool] = mapped_column(default=False)
    # Issuing: to whom, for which message (the ledger row and its key), when.
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(BigId)
    issue_key: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime | None]
    # Redeeming: when, and the receipt that carried it (if it came from one).
    redeemed_at: Mapped[datetime | None]
    receipt_id: Mapped[int | None] = mapped_column(BigId)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PromoCode {self.id} {self.code!r} {self.status}>"
