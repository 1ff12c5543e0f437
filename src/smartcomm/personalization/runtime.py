"""What a render needs besides its variables: the project's formats, the budget, the message it makes.

`running(state)` makes a `RenderState` current for the duration of one message's render; the sandbox's
guards, the formatting filters and the macro hooks read it from there (a context variable, so
renders in several threads never see each other's state).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field

from smartcomm.personalization.limits import DEFAULT_LIMITS, Budget, RenderLimits


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """The project's locale, time zone and currency (Settings → General) that dates and money use."""

    locale: str = "en"
    time_zone: str = "Europe/Moscow"
    currency: str = "RUB"


@dataclass(slots=True)
class RenderState:
    settings: RenderSettings = field(default_factory=RenderSettings)
    limits: RenderLimits = DEFAULT_LIMITS
    # The message being made: later areas key what they issue per message (one promo code per message).
    message_key: str | None = None
    preview: bool = False
    budget: Budget = field(init=False)

    def __post_init__(self) -> None:
        self.budget = Budget(self.limits)

    def fresh_budget(self) -> Budget:
        """A new budget for the next part of the message (every part gets the full allowance)."""
        self.budget = Budget(self.limits)
        return self.budget


_state: ContextVar[RenderState | None] = ContextVar("smartcomm_render_state", default=None)
_IDLE = RenderState()


def current_state() -> RenderState:
    """The running render's state; outside a render, defaults with a budget of their own."""
    return _state.get() or _IDLE


def current_budget() -> Budget:
    state = _state.get()
    return state.budget if state is not None else Budget()


def enter(state: RenderState) -> Token[RenderState | None]:
    """Make `state` current (the renderer's hot path: cheaper than the context manager below)."""
    return _state.set(state)


def leave(token: Token[RenderState | None]) -> None:
    _state.reset(token)


@contextmanager
def running(state: RenderState) -> Iterator[RenderState]:
    token = _state.set(state)
    try:
        yield state
    finally:
        _state.reset(token)
