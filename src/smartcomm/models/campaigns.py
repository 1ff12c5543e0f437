"""Trigger campaigns: the campaign, its published versions, and the customers travelling through them.

A campaign's graph (one trigger, actions, the connections between their outputs and inputs) lives in its
versions: the draft being edited, and the versions published by activating — immutable, so that customers
already in flight finish on the version they entered. Each entry of a customer is a `journeys` row: the
node it stands at and when it is due again (a wait is a row with a wake-up time, never a sleeping thread).
Sends go through the ledger (`messages`, source kind "campaign", source id = the campaign); `campaign_
messages` ties each message to its journey and node, and `campaign_node_stats` counts what passed each
node's outputs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base, BigId, TimestampMixin
from smartcomm.kit.time import utcnow


class Campaign(TimestampMixin, Base):
    """A trigger followed by a graph of actions."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | active | suspended
    # The trigger's kind, copied from the published version (the dispatch of events looks campaigns up by
    # it) and from the draft while never published (for the list's icons).
    trigger_kind: Mapped[str | None] = mapped_column(String(48))
    # The version being edited (None while the published one is unchanged) and the one customers enter.
    # (No foreign keys: versions belong to the campaign and go with it.)
    draft_version_id: Mapped[int | None]
    published_version_id: Mapped[int | None]
    # Re-entry: None → a customer enters once; 0 → whenever the trigger fires (never twice at the same
    # time); N → no earlier than N minutes after the previous entry.
    reentry_minutes: Mapped[int | None]
    # What removes a customer from the campaign on the way: [{"kind": "order"|"receipt"|"event", …}].
    exit_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("mailing_categories.id", ondelete="SET NULL"))
    exclude_global_control: Mapped[bool] = mapped_column(default=True)
    # The attribution rule of the campaign's messages (the mailing's shape: days after the touch, …).
    attribution: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    activated_at: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]
    # Scheduled triggers (dates, absences): the end of the window last looked at, and the next look.
    checked_until: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]


class CampaignVersion(Base):
    """One version of a campaign's graph; immutable once published."""

    __tablename__ = "campaign_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int]
    # {"nodes": [{"id", "kind", "settings", "x", "y"}], "edges": [{"source", "output", "target"}]}
    graph: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Journey(Base):
    """One entry of one customer into a campaign, and where it stands.

    `occurrence` names what made it enter (a receipt, an event, a date), so the same trigger firing twice
    — a dispatch handed over again — enters once. Status: `waiting` (due at `wake_at`, at `node`),
    `done` (walked off the end of a branch), `exited` (an exit rule or the campaign's end removed it).
    """

    __tablename__ = "journeys"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", "occurrence"),
        # The engine's claim: the due journeys of one campaign, earliest first.
        Index("ix_journeys_due", "status", "campaign_id", "wake_at"),
        Index("ix_journeys_customer", "customer_id", "campaign_id", "entered_at"),
        Index("ix_journeys_version_node", "version_id", "node", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("campaign_versions.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occurrence: Mapped[str] = mapped_column(String(200))
    node: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    wake_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)  # at the current node
    # What the trigger knew (a receipt's id and total, an event's context, a cart…), for filters and
    # templates; and what the nodes remember (visits per node, the A/B variant, the filters' answers).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(String(32))


class CampaignMessage(Base):
    """A message a campaign's send node planned: which journey and node it belongs to (the report per
    node, "check e-mail status", the A/B winner read it)."""

    __tablename__ = "campaign_messages"
    __table_args__ = (
        Index("ix_campaign_messages_node", "version_id", "node"),
        Index("ix_campaign_messages_journey", "journey_id", "node"),
    )

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("campaign_versions.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(32))
    journey_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignNodeStat(Base):
    """How many journeys reached a node (`outcome` "arrived") and left it by each output, per day."""

    __tablename__ = "campaign_node_stats"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_versions.id", ondelete="CASCADE"), primary_key=True
    )
    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class CampaignNodeCounter(Base):
    """A node's own memory across journeys: the participants a limit let through in a period, the
    customers an A/B test spread so far, the winner it chose."""

    __tablename__ = "campaign_node_counters"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_versions.id", ondelete="CASCADE"), primary_key=True
    )
    node: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # "total", "2026-12", "store:7", "winner"
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
