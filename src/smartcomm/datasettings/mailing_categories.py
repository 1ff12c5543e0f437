"""Settings → Mailing categories: what customers subscribe to per channel; the API refers to them by code."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import diff
from smartcomm.datasettings.common import (
    INTEGRATION_CODE,
    INTEGRATION_CODE_RULE,
    check_code,
    duplicate_code,
    record,
    snapshot,
)
from smartcomm.kit.errors import Conflict, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.repository import Repository
from smartcomm.models import MailingCategory, Subscription
from smartcomm.models.customers import CHANNELS

OBJECT_TYPE = "mailing_category"
AUDITED = ("code", "name", "description")
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None


class MailingCategoryCreate(BaseModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: Name
    description: Description = None


class MailingCategoryUpdate(BaseModel):
    name: Name
    description: Description = None


class MailingCategoryRepository(Repository[MailingCategory]):
    model = MailingCategory

    def ordered(self) -> list[MailingCategory]:
        return list(
            self.session.scalars(select(MailingCategory).order_by(MailingCategory.name, MailingCategory.id))
        )

    def by_code(self, code: str) -> MailingCategory | None:
        return self.session.scalar(select(MailingCategory).where(MailingCategory.code == code))

    def subscriber_counts(self) -> dict[int, dict[str, int]]:
        """Subscribed customers per category and channel, in one grouped query."""
        statement = (
            select(Subscription.category_id, Subscription.channel, func.count())
            .where(Subscription.subscribed.is_(True))
            .group_by(Subscription.category_id, Subscription.channel)
        )
        counts: dict[int, dict[str, int]] = {}
        for category_id, channel, count in self.session.execute(statement):
            counts.setdefault(category_id, {})[channel] = int(count)
        return counts

    def subscription_count(self, category_id: int) -> int:
        statement = select(func.count()).where(Subscription.category_id == category_id)
        return int(self.session.scalar(statement) or 0)


def _label(category: MailingCategory) -> str:
    return f"{category.name} ({category.code})"


class MailingCategoryService:
    def overview(self, session: Session) -> list[tuple[MailingCategory, dict[str, int]]]:
        """Every category with its subscribed customers per channel (0 where none)."""
        repository = MailingCategoryRepository(session)
        counts = repository.subscriber_counts()
        return [
            (category, {channel: counts.get(category.id, {}).get(channel, 0) for channel in CHANNELS})
            for category in repository.ordered()
        ]

    def get(self, session: Session, category_id: int) -> MailingCategory:
        category = MailingCategoryRepository(session).get(category_id)
        if category is None:
            raise NotFound("Mailing category", category_id)
        return category

    def create(self, session: Session, actor: Actor, data: MailingCategoryCreate) -> MailingCategory:
        """Add a category; its code cannot change later because API clients send it."""
        repository = MailingCategoryRepository(session)
        code = check_code(data.code, INTEGRATION_CODE, INTEGRATION_CODE_RULE)
        if repository.by_code(code) is not None:
            raise duplicate_code(lazy("A mailing category with this code already exists"))
        category = repository.add(
            MailingCategory(code=code, name=data.name, description=data.description or None)
        )
        record(
            session,
            actor,
            OBJECT_TYPE,
            category.id,
            "create",
            diff({}, snapshot(category, AUDITED)),
            _label(category),
        )
        return category

    def update(
        self, session: Session, actor: Actor, category_id: int, data: MailingCategoryUpdate
    ) -> MailingCategory:
        """Change the name and description of a category."""
        category = self.get(session, category_id)
        before = snapshot(category, AUDITED)
        category.name = data.name
        category.description = data.description or None
        session.flush()
        changes = diff(before, snapshot(category, AUDITED))
        if changes:
            record(session, actor, OBJECT_TYPE, category.id, "update", changes, _label(category))
        return category

    def delete(self, session: Session, actor: Actor, category_id: int) -> None:
        """Delete a category that no subscription refers to."""
        repository = MailingCategoryRepository(session)
        category = self.get(session, category_id)
        if repository.subscription_count(category.id):
            raise Conflict("Customers have subscriptions in this category, so it cannot be deleted")
        record(
            session,
            actor,
            OBJECT_TYPE,
            category.id,
            "delete",
            diff(snapshot(category, AUDITED), {}),
            _label(category),
        )
        repository.delete(category)


mailing_category_service = MailingCategoryService()
