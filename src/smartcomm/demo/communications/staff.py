"""The demo retailer's marketing team: a marketer who builds the trigger campaigns and a senior marketer who
activates and suspends them, so that the campaigns' action history names people, as it would.

They are staff users made by the user service (each with a generated password nobody is told: an
administrator sets one under Settings → Users to sign in as them). `dated` gives the history rows of an
action the moment it happened in the demo's past.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.auth.repository import UserRepository
from smartcomm.auth.schemas import UserCreate
from smartcomm.auth.service import user_service
from smartcomm.demo.campaign_repository import CampaignDemoRepository
from smartcomm.models import User

MARKETER = ("anna.smirnova@shop.example.ru", "Анна Смирнова", Role.MARKETER)
SENIOR = ("olga.kuznetsova@shop.example.ru", "Ольга Кузнецова", Role.SENIOR_MARKETER)


@dataclass(frozen=True)
class Team:
    marketer: Actor
    senior: Actor


def marketing_team(session: Session, actor: Actor, joined: datetime) -> Team:
    """The two staff users, made (as of `joined`) unless users of their e-mail addresses exist."""
    return Team(
        _actor(_user(session, actor, joined, *MARKETER)), _actor(_user(session, actor, joined, *SENIOR))
    )


def _user(session: Session, actor: Actor, joined: datetime, email: str, name: str, role: Role) -> User:
    found = UserRepository(session).by_email(email)
    if found is not None:
        return found
    with dated(session, joined):
        user, _ = user_service.create(
            session, actor, UserCreate(email=email, full_name=name, role=role, language="ru")
        )
    user.created_at = user.updated_at = joined
    return user


def _actor(user: User) -> Actor:
    return Actor("user", user.id, f"{user.full_name} <{user.email}>")


@contextmanager
def dated(session: Session, at: datetime) -> Iterator[None]:
    """The action history rows written inside the block happened at `at`."""
    repository = CampaignDemoRepository(session)
    mark = repository.last_audit_id()
    yield
    session.flush()
    repository.date_audit(mark, at)
