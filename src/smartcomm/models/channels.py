"""Channel providers: the configured SMTP servers, SMS gateways, Viber aggregators and push services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from smartcomm.kit.models import Base
from smartcomm.kit.time import utcnow


class ChannelProvider(Base):
    """One provider of a channel with its settings; secret settings are stored encrypted.

    At most one provider of a channel is active (two for push: one FCM and one Web Push); a channel
    without an active provider sends to the sandbox.
    """

    __tablename__ = "channel_providers"
    __table_args__ = (Index("ix_channel_providers_channel_active", "channel", "is_active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
