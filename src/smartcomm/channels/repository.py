"""Every SQL statement about channel providers."""

from __future__ import annotations

from sqlalchemy import select, update

from smartcomm.kit.repository import Repository
from smartcomm.models import ChannelProvider


class ChannelProviderRepository(Repository[ChannelProvider]):
    model = ChannelProvider

    def ordered(self) -> list[ChannelProvider]:
        statement = select(ChannelProvider).order_by(
            ChannelProvider.channel, ChannelProvider.name, ChannelProvider.id
        )
        return list(self.session.scalars(statement))

    def active(self, channel: str) -> ChannelProvider | None:
        statement = (
            select(ChannelProvider)
            .where(ChannelProvider.channel == channel, ChannelProvider.is_active.is_(True))
            .order_by(ChannelProvider.id)
            .limit(1)
        )
        return self.session.scalar(statement)

    def deactivate_channel(self, channel: str, except_id: int) -> list[int]:
        """Switch off every other active provider of the channel; returns their ids."""
        statement = (
            update(ChannelProvider)
            .where(
                ChannelProvider.channel == channel,
                ChannelProvider.is_active.is_(True),
                ChannelProvider.id != except_id,
            )
            .values(is_active=False)
            .returning(ChannelProvider.id)
            .execution_options(synchronize_session="fetch")
        )
        return list(self.session.scalars(statement))
