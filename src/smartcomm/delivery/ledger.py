"""The vocabulary of the send ledger: statuses, sources, reasons and the report buckets they fall in,
and the idempotency key every message is recorded under.

The reasons → buckets mapping is here and only here: mailing reports, the Outbox and the API all read it.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PLANNED = "planned"  # recorded; the gate has not let it through yet (or it waits: window, back-off)
    RENDERED = "rendered"  # claimed by a worker, its content made
    QUEUED = "queued"  # being handed to the provider: `handing_over()` was called
    SENT = "sent"  # the provider took it (reason "unconfirmed": its answer never came)
    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    FAILED = "failed"
    EXPIRED = "expired"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"


# Statuses a message only ever moves forward through, in order.
PROGRESS = (Status.SENT, Status.DELIVERED, Status.OPENED, Status.CLICKED)
WAITING = frozenset({Status.PLANNED})
IN_FLIGHT = frozenset({Status.RENDERED, Status.QUEUED})
# The provider has (or may have) the message.
HANDED_OVER = frozenset({Status.QUEUED, *PROGRESS})
FINAL = frozenset({Status.FAILED, Status.EXPIRED, Status.SUPPRESSED, Status.CANCELLED})


class Source(StrEnum):
    TRANSACTIONAL = "transactional"
    MAILING = "mailing"
    CAMPAIGN = "campaign"
    TEST = "test"
    WATCHER = "watcher"
    CONFIRMATION = "confirmation"


# Sources whose content the ledger keeps for the Outbox and the API even outside the sandbox.
KEEPS_CONTENT = frozenset({Source.TRANSACTIONAL, Source.TEST, Source.CONFIRMATION})
# Sources that may hold the global control group out (each mailing and campaign has its switch); any other
# message — transactional, a confirmation, a test — reaches a member as anyone else.
HOLDS_OUT_GLOBAL_CONTROL = frozenset({Source.MAILING, Source.CAMPAIGN})
# The message option carrying a mailing's or campaign's "exclude the global control group".
EXCLUDES_GLOBAL_CONTROL = "exclude_global_control"


def holds_out_global_control(source_kind: str, options: dict[str, Any] | None) -> bool:
    """Whether a message of this source with these options keeps the global control group's members out."""
    return source_kind in HOLDS_OUT_GLOBAL_CONTROL and bool((options or {}).get(EXCLUDES_GLOBAL_CONTROL))


# Sources that are answers to something the customer did: never held back by frequency caps.
TRANSACTIONAL_SOURCES = frozenset({Source.TRANSACTIONAL, Source.CONFIRMATION, Source.TEST})


# An open or click this recent makes a reader "engaged" (IP warm-up sends to them first).
ENGAGED_WITHIN = timedelta(days=90)


class Priority:
    LOW = 0
    NORMAL = 1
    HIGH = 2


class Reason(StrEnum):
    # Suppressions (the gate said no).
    UNSUBSCRIBED_CHANNEL = "unsubscribed_channel"
    UNSUBSCRIBED_CATEGORY = "unsubscribed_category"
    NO_ADDRESS = "no_address"
    INVALID_ADDRESS = "invalid_address"
    LANDLINE = "landline"
    NO_PUSH_TOKEN = "no_push_token"  # noqa: S105 (a reason, not a secret)
    NOT_CONFIRMED = "not_confirmed"  # double opt-in: the e-mail address is not confirmed yet
    GLOBAL_CONTROL = "global_control"  # a member of the global control group, the send excludes it
    EXCLUDED = "excluded"
    FREQUENCY_CAP = "frequency_cap"
    EXPIRED = "expired"
    NO_PROMOCODE = "no_promocode"  # the template issues a promo code and its group has none left
    # Deferrals (the gate said later) — the message stays planned.
    SEND_WINDOW = "send_window"
    RATE_LIMIT = "rate_limit"
    WARM_UP = "warm_up"  # IP warm-up: the day's allowance of e-mails is used up
    RETRY = "retry"  # the provider could not take it now; tried again after a back-off
    CASCADE_WAIT = "cascade_wait"  # an SMS leg waiting for its Viber message
    # Outcomes.
    UNCONFIRMED = "unconfirmed"  # handed over, the provider's answer never came: never sent again
    PROVIDER_REFUSED = "provider_refused"
    BOUNCED = "bounced"  # the address does not exist (hard bounce, unknown number, dead token)
    RENDER_ERROR = "render_error"
    UNDELIVERED = "undelivered"  # the provider took it but could not deliver it
    CASCADE_DELIVERED = "cascade_delivered"  # an SMS leg not needed: its Viber message arrived


class Bucket(StrEnum):
    """The volume buckets of a mailing report (product spec §4)."""

    GOOD = "good_recipients"
    ADDRESS_ISSUE = "address_issue"
    UNSUBSCRIBED_CHANNEL = "unsubscribed_channel"
    UNSUBSCRIBED_CATEGORY = "unsubscribed_category"
    BLOCKED_BY_POLICY = "blocked_by_policy"
    GLOBAL_CONTROL = "global_control"
    NO_PROMOCODE = "no_promocode"


BUCKETS: dict[str, Bucket] = {
    Reason.UNSUBSCRIBED_CHANNEL: Bucket.UNSUBSCRIBED_CHANNEL,
    Reason.NOT_CONFIRMED: Bucket.UNSUBSCRIBED_CHANNEL,  # no consent to the channel yet
    Reason.UNSUBSCRIBED_CATEGORY: Bucket.UNSUBSCRIBED_CATEGORY,
    Reason.NO_ADDRESS: Bucket.ADDRESS_ISSUE,
    Reason.INVALID_ADDRESS: Bucket.ADDRESS_ISSUE,
    Reason.LANDLINE: Bucket.ADDRESS_ISSUE,
    Reason.NO_PUSH_TOKEN: Bucket.ADDRESS_ISSUE,
    Reason.GLOBAL_CONTROL: Bucket.GLOBAL_CONTROL,
    Reason.EXCLUDED: Bucket.BLOCKED_BY_POLICY,
    Reason.FREQUENCY_CAP: Bucket.BLOCKED_BY_POLICY,
    Reason.NO_PROMOCODE: Bucket.NO_PROMOCODE,
}


def bucket_of(reason: str | None) -> Bucket:
    """The report bucket of a message the gate judged: a suppression's reason, else good recipients
    (deferred messages are good recipients that wait)."""
    return BUCKETS.get(reason or "", Bucket.GOOD)


def idempotency_key(
    source_kind: str,
    source_id: int | str | None,
    part: str | None,
    channel: str,
    addressee: str,
    occurrence: str | None,
) -> str:
    """The ledger's unique key: the same communication to the same addressee on the same occasion is
    one message, however many times it is planned. `part` is a campaign node or a mailing variant,
    `addressee` "c<customer id>" or the recipient itself, `occurrence` what makes a repeat a new one
    (a trigger's event, a transactional request's Idempotency-Key)."""
    fields = (source_kind, "" if source_id is None else str(source_id), part or "", channel, addressee)
    material = "\x1f".join((*fields, occurrence or ""))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


# The option naming the message whose issues (a promo code) a message shows instead of its own: a resend
# shows the first round's code, a cascade's SMS the Viber message's.
ISSUE_KEY = "issue_key"


def issue_key_of(key: str, options: dict[str, Any] | None) -> str:
    """The key what a message issues at render time is stored under (its own key unless it stands in for
    another message)."""
    return str((options or {}).get(ISSUE_KEY) or key)


def addressee(customer_id: int | None, recipient: str | None) -> str:
    return f"c{customer_id}" if customer_id is not None else f"r{(recipient or '').strip().lower()}"
