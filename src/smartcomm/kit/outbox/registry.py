"""The subscribers: `@subscriber(name, kinds=…)` registers a handler; `subscribers()` lists them all, in the
order of the modules that declare them (`SUBSCRIBER_MODULES`, imported by name on first use so that the
outbox depends on no domain)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from smartcomm.kit.outbox.events import Event

# The modules whose import registers the subscribers (each domain's `subscribers.py`).
SUBSCRIBER_MODULES = (
    "smartcomm.segments.subscribers",
    "smartcomm.webhooks.subscribers",
    "smartcomm.delivery.confirmation",
    "smartcomm.attribution.subscribers",
    "smartcomm.promocodes.subscribers",
    "smartcomm.campaigns.subscribers",
)

Handler: TypeAlias = Callable[[Session, Sequence["Event"]], None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    kinds: frozenset[str]
    handle: Handler


_subscribers: dict[str, Subscriber] = {}
_modules_loaded = threading.Event()


def subscriber(name: str, *, kinds: Collection[str]) -> Callable[[Handler], Handler]:
    """Register `handle(session, events)` for the events of these kinds, under a stable name (the name keys
    its checkpoint: renaming a subscriber starts it again from the oldest event kept)."""

    def register(handle: Handler) -> Handler:
        known = _subscribers.get(name)
        if known is not None and known.handle.__qualname__ != handle.__qualname__:
            raise ValueError(f"the subscriber {name!r} is registered already")
        _subscribers[name] = Subscriber(name, frozenset(kinds), handle)
        return handle

    return register


def subscribers() -> list[Subscriber]:
    """Every registered subscriber (the modules that declare them are imported), in the order of those
    modules: segments first, since a receipt's segments are what people wait for."""
    if not _modules_loaded.is_set():
        for module in SUBSCRIBER_MODULES:
            importlib.import_module(module)
        _modules_loaded.set()
    return sorted(_subscribers.values(), key=_module_rank)


def _module_rank(subscriber: Subscriber) -> int:
    module = subscriber.handle.__module__
    return SUBSCRIBER_MODULES.index(module) if module in SUBSCRIBER_MODULES else len(SUBSCRIBER_MODULES)
