"""SQL of the template library."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, select

from smartcomm.delivery.ledger import Status
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.repository import Repository
from smartcomm.models import Message, MessageTemplate, MessageTemplateVersion, User


class TemplateRepository(Repository[MessageTemplate]):
    model = MessageTemplate

    def search(self, channel: str | None, query: str, params: PageParams) -> Page[MessageTemplate]:
        """Templates of a channel, most recently edited first; `query` finds them by name."""
        statement = select(MessageTemplate).order_by(
            MessageTemplate.updated_at.desc(), MessageTemplate.id.desc()
        )
        if channel:
            statement = statement.where(MessageTemplate.channel == channel)
        if query:
            statement = statement.where(
                func.lower(MessageTemplate.name).contains(query.lower(), autoescape=True)
            )
        return self.paginate(statement, params)

    def counts_by_channel(self) -> dict[str, int]:
        statement = select(MessageTemplate.channel, func.count()).group_by(MessageTemplate.channel)
        return {channel: int(count) for channel, count in self.session.execute(statement)}

    def names(self, channel: str) -> list[tuple[int, str]]:
        statement = select(MessageTemplate.id, MessageTemplate.name).where(MessageTemplate.channel == channel)
        return [(row[0], row[1]) for row in self.session.execute(statement)]

    def latest_versions(self, templates: Sequence[MessageTemplate]) -> dict[int, MessageTemplateVersion]:
        """The latest version of each template, in one query."""
        if not templates:
            return {}
        statement = select(MessageTemplateVersion).join(
            MessageTemplate,
            and_(
                MessageTemplate.id == MessageTemplateVersion.template_id,
                MessageTemplate.version_count == MessageTemplateVersion.number,
            ),
        )
        statement = statement.where(MessageTemplate.id.in_([t.id for t in templates]))
        return {version.template_id: version for version in self.session.scalars(statement)}

    def version(self, template_id: int, number: int) -> MessageTemplateVersion | None:
        statement = select(MessageTemplateVersion).where(
            MessageTemplateVersion.template_id == template_id, MessageTemplateVersion.number == number
        )
        return self.session.scalar(statement)

    def version_by_id(self, version_id: int) -> MessageTemplateVersion | None:
        return self.session.get(MessageTemplateVersion, version_id)

    def versions(self, template_id: int) -> list[MessageTemplateVersion]:
        statement = (
            select(MessageTemplateVersion)
            .where(MessageTemplateVersion.template_id == template_id)
            .order_by(MessageTemplateVersion.number.desc())
        )
        return list(self.session.scalars(statement))

    def add_version(self, version: MessageTemplateVersion) -> MessageTemplateVersion:
        self.session.add(version)
        self.session.flush()
        return version

    def user_names(self, ids: Sequence[int | None]) -> dict[int, str]:
        """Display names of the staff users who made or changed templates."""
        wanted = {user_id for user_id in ids if user_id is not None}
        if not wanted:
            return {}
        statement = select(User.id, User.full_name).where(User.id.in_(wanted))
        return {row[0]: row[1] for row in self.session.execute(statement)}

    def messages_waiting(self, template_id: int) -> int:
        """Messages of the template's versions not sent yet (they render from the version when they go)."""
        versions = select(MessageTemplateVersion.id).where(MessageTemplateVersion.template_id == template_id)
        statement = select(func.count()).where(
            Message.template_version_id.in_(versions),
            Message.status.in_((Status.PLANNED, Status.RENDERED, Status.QUEUED)),
        )
        return int(self.session.scalar(statement) or 0)
