"""The facts the policy gate judges, loaded for a whole batch of messages in a fixed number of queries.

Other areas add facts without touching the gate's loader: an exclusion list no communication may pass
registers `register_exclusion`, a contact condition (double opt-in's confirmed address) registers
`register_contact_check` for its channel. Each is called once per batch with the batch's customers.

The global control group is not such a list — it holds a member out only of the sends that exclude it —
so the loader reads its open stays itself, once per batch, when a message of the batch excludes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from smartcomm.delivery.ledger import (
    ENGAGED_WITHIN,
    Reason,
    holds_out_global_control,
)
from smartcomm.delivery.policy import (
    Facts,
    Rules,
    Tally,
    email_problem,
    phone_problem,
    push_problem,
    recipient_zone,
    zone_named,
)
from smartcomm.delivery.repository import LedgerRepository

Exclusion = Callable[[Session, Sequence[int]], set[int]]
ContactCheck = Callable[[Session, Sequence[int]], dict[int, str]]

_exclusions: dict[str, Exclusion] = {}
_contact_checks: dict[str, dict[str, ContactCheck]] = {}


def register_exclusion(name: str, excluded: Exclusion) -> None:
    """`excluded(session, customer_ids)` returns those of the customers no communication may reach."""
    _exclusions[name] = excluded


def register_contact_check(channel: str, name: str, check: ContactCheck) -> None:
    """`check(session, customer_ids)` returns {customer id: reason} for contacts of the channel that must
    not be used (besides present and valid), e.g. `not_confirmed`."""
    _contact_checks.setdefault(channel, {})[name] = check


class Addressed(Protocol):
    """What the loader needs of a message (a ledger row or a request to plan one)."""

    @property
    def customer_id(self) -> int | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def category_id(self) -> int | None: ...
    @property
    def recipient(self) -> str | None: ...
    @property
    def source_kind(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Judged:
    """A message's recipient as of now (a customer's current contact for the channel) and its facts."""

    recipient: str | None
    facts: Facts


class FactsLoader:
    def __init__(self, session: Session, rules: Rules, project_zone: str, now: datetime) -> None:
        self.session = session
        self.repository = LedgerRepository(session)
        self.rules = rules
        self.project_zone = project_zone
        self.now = now

    def load(self, messages: Sequence[Addressed]) -> list[Judged]:
        """The facts of every message, in the order given."""
        batch = _Batch(self, messages)
        return [batch.judged(message) for message in messages]

    def tally(self, messages: Sequence[Any]) -> Tally:
        """What was already handed over in the current minute, for the rate limits the batch meets, and
        today, for the IP warm-up allowance."""
        tally = Tally()
        since = self.now.replace(second=0, microsecond=0)
        for channel in {message.channel for message in messages}:
            if self.rules.channels[channel].rate_per_minute:
                tally.per_channel[channel] = self.repository.handed_over_in_minute(channel, since)
        warm_up = self.rules.warm_up
        if warm_up is not None and any(message.channel == "email" for message in messages):
            tally.emails_today = self.repository.handed_over_count("email", warm_up.day_start)
        sources = {source for message in messages if (source := _limited_source(message)) is not None}
        for kind, source_id in sources:
            tally.per_source[(kind, source_id)] = self.repository.source_handed_over_in_minute(
                kind, source_id, since
            )
        return tally


def _limited_source(message: Any) -> tuple[str, int] | None:
    options = getattr(message, "options", None) or {}
    if options.get("rate_per_minute") and message.source_id is not None:
        return (message.source_kind, message.source_id)
    return None


class _Batch:
    """The rows behind the facts of one batch, each kind loaded once."""

    def __init__(self, loader: FactsLoader, messages: Sequence[Addressed]) -> None:
        self.loader = loader
        ids = sorted({m.customer_id for m in messages if m.customer_id is not None})
        repository = loader.repository
        self.customers = repository.customers(ids)
        categories = sorted({m.category_id for m in messages if m.category_id is not None})
        self.subscriptions = repository.subscriptions(ids, categories)
        channels = {m.channel for m in messages if m.customer_id is not None}
        self.tokens = repository.valid_push_tokens(ids) if "push" in channels else {}
        self.recent = {channel: self._recent(ids, channel) for channel in channels}
        self.excluded = self._excluded(ids)
        self.global_control = self._global_control(messages)
        self.problems = {channel: self._problems(ids, channel) for channel in channels}
        self.engaged = self._engaged(ids) if "email" in channels else set()

    def _recent(self, ids: list[int], channel: str) -> dict[int, int]:
        rules = self.loader.rules.channels[channel]
        if rules.cap <= 0 or not ids:
            return {}
        return self.loader.repository.handed_over_since(ids, channel, self.loader.now - rules.cap_period)

    def _engaged(self, ids: list[int]) -> set[int]:
        """Under IP warm-up: the customers who opened or clicked lately (they go first each day)."""
        if self.loader.rules.warm_up is None or not ids:
            return set()
        since = self.loader.now - ENGAGED_WITHIN
        return set(self.loader.repository.last_engaged(ids, since))

    def _excluded(self, ids: list[int]) -> set[int]:
        found: set[int] = set()
        for excluded in _exclusions.values():
            found |= excluded(self.loader.session, ids) if ids else set()
        return found

    def _global_control(self, messages: Sequence[Addressed]) -> set[int]:
        """The batch's customers in the global control group, looked up only when a message of the batch
        holds the group out (transactional batches never ask)."""
        holding_out = sorted(
            {
                m.customer_id
                for m in messages
                if m.customer_id is not None
                and holds_out_global_control(m.source_kind, getattr(m, "options", None))
            }
        )
        return self.loader.repository.in_global_control(holding_out) if holding_out else set()

    def _problems(self, ids: list[int], channel: str) -> dict[int, str]:
        found: dict[int, str] = {}
        for check in _contact_checks.get(channel, {}).values():
            for customer_id, reason in (check(self.loader.session, ids) if ids else {}).items():
                found.setdefault(customer_id, reason)
        return found

    def judged(self, message: Addressed) -> Judged:
        project = self.loader.project_zone
        if message.customer_id is None:
            zone = zone_named(project) or recipient_zone(None, None, project)
            missing = None if message.recipient else Reason.NO_ADDRESS
            return Judged(message.recipient, Facts(contact_problem=missing, zone=zone))
        customer = self.customers.get(message.customer_id)
        if customer is None:
            return Judged(message.recipient, Facts(contact_problem=Reason.NO_ADDRESS))
        recipient, problem = self._contact(customer, message)
        facts = Facts(
            allowed=bool(getattr(customer, f"allow_{message.channel}")),
            subscribed=self._subscribed(customer.id, message),
            contact_problem=problem or self.problems.get(message.channel, {}).get(customer.id),
            excluded=customer.id in self.excluded,
            in_global_control=customer.id in self.global_control,
            zone=recipient_zone(customer.time_zone, customer.phone, project),
            recent=self.recent.get(message.channel, {}).get(customer.id, 0),
            engaged=customer.id in self.engaged,
        )
        return Judged(recipient, facts)

    def _subscribed(self, customer_id: int, message: Addressed) -> bool | None:
        if message.category_id is None:
            return None
        return self.subscriptions.get((customer_id, message.category_id, message.channel), False)

    def _contact(self, customer: Any, message: Addressed) -> tuple[str | None, str | None]:
        if message.channel == "email":
            return customer.email, email_problem(customer.email, customer.email_valid)
        if message.channel in ("sms", "viber"):
            return customer.phone, phone_problem(customer.phone, customer.phone_valid, customer.phone_type)
        tokens = self.tokens.get(customer.id, [])
        token = message.recipient if message.recipient in tokens else (tokens[0] if tokens else None)
        return token, push_problem(len(tokens))
