"""Typed factory functions for test data, built through the services like real data, and test helpers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, TypeVar

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


T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs the coroutine in an event loop of its own thread: the test's thread may already have a
    running loop (the browser tests' driver leaves one behind in the same worker)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()
