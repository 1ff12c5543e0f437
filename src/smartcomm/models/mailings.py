"""Mass mailings: one send of one content to an audience, and the control group drawn from it.

A mailing's messages live in the send ledger (`messages`, source kind "mailing", source id = the
mailing); the mailing row holds its settings, where it stands, and the checkpoint of collecting its
audience into the ledger. Control-group members receive nothing and are recorded apart, so the groups
report can compare them with the recipients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, TimestampMixin
from smartcomm.kit.time import utcnow


class Mailing(TimestampMixin, Base):
    """A mass mailing over e-mail, SMS (with the Viber → SMS cascade) or push."""

    __tablename__ = "mailings"
    __table_args__ = (
        Index("ix_mailings_channel_created", "channel", "created_at"),
        # The periodic looks: scheduled mailings that are due, sending ones that may be finished.
        Index("ix_mailings_status_scheduled", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | sms | sms_viber | push
    name: Mapped[str] = mapped_column(String(200))
    # draft | scheduled | collecting | sending | sent | paused | cancelled
    status: Mapped[str] = mapped_column(String(16), default="draft")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mailing_categories.id", ondelete="SET NULL"))
    # The content: the channel's template version (Viber's for a cascade) and the SMS leg of a cascade.
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_template_versions.id", ondelete="SET NULL")
    )
    sms_template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("message_template_versions.id", ondelete="SET NULL")
    )
    # E-mail: name, address, reply_to; SMS and Viber: name.
    sender: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The audience: a segment and/or target audiences, minus other audiences.
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id", ondelete="SET NULL"))
    include_audience_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    exclude_audience_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The control group: a share of the audience (0–50 %), drawn reproducibly from the seed.
    control_percent: Mapped[float] = mapped_column(default=0.0)
    control_seed: Mapped[int] = mapped_column(BigInteger)
    # Options of the send.
    lifetime_hours: Mapped[int | None]
    scheduled_at: Mapped[datetime | None]
    rate_per_minute: Mapped[int | None]
    deliver_immediately: Mapped[bool] = mapped_column(default=False)
    utm: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Sending: the moment the audience is frozen at, collecting's checkpoint (the last customer id
    # planned) and when it finished, when the last message was settled, and why it is paused.
    started_at: Mapped[datetime | None]
    collect_checkpoint: Mapped[int | None] = mapped_column(BigInteger)
    collected_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(String(500))

    def __repr__(self) -> str:
        return f"<Mailing {self.id} {self.channel} {self.status} {self.name!r}>"


class MailingControlMember(Base):
    """A customer of a mailing's audience drawn into its control group: sent nothing, compared later.

    No foreign key on the customer (a collect batch writes thousands of rows); rows go with the mailing."""

    __tablename__ = "mailing_control_members"

    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
