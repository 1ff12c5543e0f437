"""Typed factory functions for test data, built through the services like real data."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.auth.permissions import Role
from smartcomm.auth.schemas import UserCreate
from smartcomm.auth.service import user_service
from smartcomm.models import User

_numbers = itertools.count(1)
DEFAULT_PASSWORD = "Secret-password-1"


def make_user(
    session: Session,
    *,
    role: str | Role = Role.MARKETER,
    email: str | None = None,
    full_name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
    expires_on: date | None = None,
    language: str = "en",
) -> tuple[User, str]:
    number = next(_numbers)
    data = UserCreate(
        email=email or f"user{number}@example.com",
        full_name=full_name or f"Test User {number}",
        role=Role(role),
        password=password,
        is_active=is_active,
        expires_on=expires_on,
        language=language,  # type: ignore[arg-type]
    )
    user, initial = user_service.create(session, Actor.system("tests"), data)
    session.commit()
    return user, initial
