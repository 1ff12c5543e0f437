"""Mass mailings: one send of one content to an audience, and the control group drawn from it.

A mailing's messages live in the send ledger (`messages`, source kind "mailing", source id = the
mailing); the mailing row holds its settings, where it stands, and the checkpoint of collecting its
audience into the ledger. Control-group members receive nothing and are recorded apart, so the groups
report can compare them with the recipients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, SmallInteger, String
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
    # …or the members of a target audience; and the fields whose strata the percentage draw keeps.
    control_audience_id: Mapped[int | None] = mapped_column(ForeignKey("audiences.id", ondelete="SET NULL"))
    control_strata: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A/B test: 2–5 variants (template, subject, sender, share); with `ab_test` only a test share gets them
    # and, after the wait, the winner goes to the rest.
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ab_test: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    winner_variant: Mapped[int | None] = mapped_column(SmallInteger)
    winner_chosen_at: Mapped[datetime | None]
    winner_reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    exclude_global_control: Mapped[bool] = mapped_column(default=True)
    # Which purchases its touches may claim (None: the default of the settings).
    attribution_rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    watcher_group_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
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
    # What collecting records: the audience, then the A/B winner for those who waited, or a resend.
    collect_phase: Mapped[str] = mapped_column(String(16), default="audience")
    collect_checkpoint: Mapped[int | None] = mapped_column(BigInteger)
    collected_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(String(500))
    # The provider failures in a row the mailing stops at (None: the setting), and the count so far.
    failure_limit: Mapped[int | None]
    failures_in_row: Mapped[int] = mapped_column(default=0)
    # How many times "resend to those not reached" ran: the round is part of each resent message's key.
    resend_round: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Mailing {self.id} {self.channel} {self.status} {self.name!r}>"


class MailingControlMember(Base):
    """A customer of a mailing's audience drawn into its control group: sent nothing, compared later.

    No foreign key on the customer (a collect batch writes thousands of rows); rows go with the mailing."""

    __tablename__ = "mailing_control_members"

    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailingAssignment(Base):
    """The variant of an A/B-tested mailing a customer of its audience was drawn into; `variant` is None
    for those who wait for the winner. Stored so the groups report and a resumed collect agree with the
    draw."""

    __tablename__ = "mailing_assignments"
    __table_args__ = (Index("ix_mailing_assignments_variant", "mailing_id", "variant"),)

    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    variant: Mapped[int | None] = mapped_column(SmallInteger)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
