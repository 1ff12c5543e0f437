"""Macros that later areas provide: `client.promocode('group')`, `client.last_promocode('group')`,
`client.poll('CODE')`.

An area registers a function for its macro when it is imported (`register("promocode", issue)`).
Until then a template using the macro fails to render with a clear reason — never a silent empty
string, which would send a message that promises a code and shows none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.orm import Session

from smartcomm.kit.db import new_session
from smartcomm.kit.i18n import lazy
from smartcomm.personalization.errors import HookUnavailable, RenderError

PROMOCODE = "promocode"
LAST_PROMOCODE = "last_promocode"
POLL = "poll"
UNAVAILABLE: dict[str, str] = {
    PROMOCODE: lazy("promo codes are not available yet"),
    LAST_PROMOCODE: lazy("promo codes are not available yet"),
    POLL: lazy("polls are not available yet"),
}


@dataclass(slots=True)
class Issuing:
    """The message being sent: the session it is rendered in (which may be a read-only snapshot) and its
    ledger id.

    What the render issues is written in a session of its own, one short write transaction per message,
    committed only when the whole render succeeded: a render that fails after issuing (a second group
    exhausted, a template error further down) gives back what it took, so a skipped message holds no code.
    A message rendered again finds what it holds by its key."""

    session: Session
    message_id: int
    writer: Session | None = None

    def writing(self) -> Session:
        """The session to issue in (opened at the first write of the render)."""
        if self.writer is None:
            self.writer = new_session()
        return self.writer

    def _end(self, keep: bool) -> None:
        if self.writer is None:
            return
        try:
            self.writer.commit() if keep else self.writer.rollback()
        finally:
            self.writer.close()


_issuing: ContextVar[Issuing | None] = ContextVar("smartcomm_issuing", default=None)


@contextmanager
def issuing(session: Session, message_id: int) -> Iterator[Issuing]:
    """Renders inside this block make a message to send: their macros may issue (a promo code). Outside
    it (a preview, the Outbox, a message viewed in a browser) they only show what was issued."""
    scope = Issuing(session, message_id)
    token = _issuing.set(scope)
    try:
        yield scope
    except BaseException:
        scope._end(keep=False)
        raise
    else:
        scope._end(keep=True)
    finally:
        _issuing.reset(token)


def current_issuing() -> Issuing | None:
    return _issuing.get()


@dataclass(frozen=True, slots=True)
class HookCall:
    """One use of a macro: for whom, with what argument, for which message.

    `message_key` identifies the message being made (the ledger's idempotency key), so that rendering
    the same message again issues nothing new; `preview` is set for previews and tests, which must
    not use up real codes; `issuing` is set only when the render makes a message being sent."""

    name: str
    customer_id: int | None
    argument: str
    message_key: str | None
    preview: bool
    issuing: Issuing | None = None


Hook = Callable[[HookCall], str]
_registry: dict[str, Hook] = {}


def register(name: str, hook: Hook) -> None:
    if name not in UNAVAILABLE:
        raise ValueError(f"unknown template hook {name!r}; known: {', '.join(sorted(UNAVAILABLE))}")
    _registry[name] = hook


def unregister(name: str) -> None:
    _registry.pop(name, None)


def is_available(name: str) -> bool:
    return name in _registry


def call(call: HookCall) -> str:
    """The macro's text for this call, or a render error saying why there is none."""
    hook = _registry.get(call.name)
    if hook is None:
        raise HookUnavailable(UNAVAILABLE[call.name])
    if not isinstance(call.argument, str) or not call.argument:
        raise RenderError(
            lazy("%(name)s() needs a code in quotes, e.g. client.%(name)s('SPRING')"), name=call.name
        )
    return hook(call)
