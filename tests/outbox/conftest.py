"""Helpers of the outbox tests: the events written, and subscribers registered for one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit import outbox
from smartcomm.kit.outbox import Event, registry
from smartcomm.models import DomainEvent, EventCheckpoint, SettingValue

Register = Callable[..., list[list[int]]]


def published(session: Session, *kinds: str, after: int = 0) -> list[DomainEvent]:
    """The events written (of these kinds), oldest first."""
    statement = select(DomainEvent).where(DomainEvent.id > after).order_by(DomainEvent.id)
    if kinds:
        statement = statement.where(DomainEvent.kind.in_(kinds))
    return list(session.scalars(statement))


def latest_event_id(session: Session) -> int:
    return max((event.id for event in published(session)), default=0)


def checkpoint(session: Session, name: str) -> EventCheckpoint:
    found = session.get(EventCheckpoint, name, populate_existing=True)
    assert found is not None, f"no checkpoint of {name}"
    return found


def last_handled(session: Session, name: str) -> int:
    """Where a subscriber's checkpoint stands (0 before its first turn)."""
    found = session.get(EventCheckpoint, name, populate_existing=True)
    return found.last_id if found is not None else 0


def work_done(session: Session, name: str) -> list[Any]:
    """What a test subscriber wrote in its transactions (one settings row per call)."""
    rows = session.scalars(select(SettingValue).where(SettingValue.key.like(f"{name}.%")))
    return sorted((row.value for row in rows), key=lambda value: value[0])


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Iterator[Register]:
    """register(name, kinds, fail=lambda events: False) -> the event ids of each call, in order.

    The subscriber writes one row in the dispatcher's transaction per call (so a call rolled back leaves
    none) and raises when `fail(events)` says so. Registered beside the product's, for this test only."""
    outbox.subscribers()
    # On the module that reads it (subscriber() and subscribers()), not on the package.
    monkeypatch.setattr(registry, "_subscribers", dict(registry._subscribers))

    def register(name: str, kinds: set[str], fail: Callable[[Sequence[Event]], bool] = lambda _: False):
        calls: list[list[int]] = []

        def handle(session: Session, events: Sequence[Event]) -> None:
            ids = [event.id for event in events]
            session.add(SettingValue(key=f"{name}.{ids[0]}", value=ids))
            session.flush()
            if fail(events):
                raise RuntimeError(f"{name} cannot take events {ids}")
            calls.append(ids)

        handle.__qualname__ = f"handle_{name}"
        outbox.subscriber(name, kinds=kinds)(handle)
        return calls

    yield register


from tests.webhooks.conftest import loyalty  # noqa: E402, F401 (the loopback loyalty system, for the kill test)
