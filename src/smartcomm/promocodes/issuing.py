"""Issuing promo codes at render time: `client.promocode('SPRING')` and `client.last_promocode('SPRING')`.

A code goes to one customer only. It is claimed by an UPDATE that succeeds only while the code is still
active and unblocked; on PostgreSQL the candidate is picked with `FOR UPDATE SKIP LOCKED`, so workers
sending at once take different codes without waiting for each other. The message's issue key is stored on
the code (unique per group), so rendering the same message again — a retry, a resend round, the SMS leg of
a cascade — finds the code it already holds and burns none.

Only a render inside `hooks.issuing(...)` (the dispatcher making a message to send) issues. Previews, the
Outbox and "view in browser" show the code the message holds, or a sample shaped like the group's codes.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from smartcomm.delivery.ledger import Reason
from smartcomm.kit.db import session_scope
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow
from smartcomm.models import PromoCode, PromoCodeGroup
from smartcomm.personalization import hooks
from smartcomm.personalization.errors import RecipientSkipped, RenderError
from smartcomm.promocodes.repository import PromoCodeGroupRepository, PromoCodeRepository

ACTIVE, ISSUED, REDEEMED = "active", "issued", "redeemed"
# Claims lost to another worker before giving up (each loss means a code was taken, so a retry sees the next).
CLAIM_ATTEMPTS = 50
SAMPLE_SHAPE = "XXXX-0000"


class NoCodeLeft(RecipientSkipped):
    """The group has no code to give (exhausted, blocked or past its validity): the recipient is skipped."""

    def __init__(self, group_code: str) -> None:
        super().__init__(lazy("no promo code left in group %(group)s"), Reason.NO_PROMOCODE, group=group_code)


# --- lookups -------------------------------------------------------------------------------------------


def last_issued(session: Session, group_id: int, customer_id: int) -> PromoCode | None:
    """The latest code of the group issued to the customer (redeemed or not)."""
    return PromoCodeRepository(session).last_issued(group_id, customer_id)


# --- issuing -------------------------------------------------------------------------------------------


def issue(
    session: Session,
    group: PromoCodeGroup,
    customer_id: int,
    issue_key: str,
    message_id: int | None,
    now: datetime | None = None,
) -> PromoCode:
    """The code of `group` held under `issue_key`, claiming the next active one the first time. Raises
    `NoCodeLeft` when the group cannot give one."""
    codes = PromoCodeRepository(session)
    held = codes.held_by_key(group.id, issue_key)
    if held is not None:
        return held
    now = now or utcnow()
    if not may_issue(group, now):
        raise NoCodeLeft(group.code)
    for _ in range(CLAIM_ATTEMPTS):
        candidate = codes.next_active(group.id)
        if candidate is None:
            raise NoCodeLeft(group.code)
        if codes.claim(candidate, customer_id, issue_key, message_id, now):
            claimed = session.get(PromoCode, candidate, populate_existing=True)
            assert claimed is not None
            return claimed
    raise RenderError(
        lazy("promo code group %(group)s is too busy, try again"), "promocode_busy", group=group.code
    )


def may_issue(group: PromoCodeGroup, now: datetime) -> bool:
    """Whether the group gives codes at all: not blocked, not past its end."""
    return not group.blocked and (group.valid_to is None or group.valid_to >= now.date())


# --- the template macros -------------------------------------------------------------------------------


def promocode_hook(call: hooks.HookCall) -> str:
    """`client.promocode('GROUP')`: issue while sending; elsewhere show what the message holds."""
    if call.issuing is not None:
        return _issue_for_message(call.issuing, call)
    with session_scope(read_only=True) as session:
        group = _named_group(session, call.argument)
        held = (
            PromoCodeRepository(session).held_by_key(group.id, call.message_key) if call.message_key else None
        )
        return held.code if held is not None else sample_code(session, group)


def _issue_for_message(scope: hooks.Issuing, call: hooks.HookCall) -> str:
    if call.customer_id is None:
        raise RenderError(
            lazy("promo codes are issued to customers; this message has no customer"), "no_customer"
        )
    if not call.message_key:
        raise RenderError(lazy("a promo code is issued for a message; this render has none"), "no_message")
    group = _named_group(scope.session, call.argument)
    return issue(scope.writing(), group, call.customer_id, call.message_key, scope.message_id).code


def last_promocode_hook(call: hooks.HookCall) -> str:
    """`client.last_promocode('GROUP')`: the customer's latest code of the group; a customer who was never
    given one is skipped when sending (the reminder would show nothing)."""
    if call.issuing is not None:
        return _last_for(call.issuing.session, call, skip=True)
    with session_scope(read_only=True) as session:
        return _last_for(session, call, skip=False)


def _last_for(session: Session, call: hooks.HookCall, *, skip: bool) -> str:
    group = _named_group(session, call.argument)
    found = last_issued(session, group.id, call.customer_id) if call.customer_id is not None else None
    if found is not None:
        return found.code
    if skip:
        raise NoCodeLeft(group.code)
    return sample_code(session, group)


def _named_group(session: Session, code: str) -> PromoCodeGroup:
    group = PromoCodeGroupRepository(session).by_code(code)
    if group is None:
        raise RenderError(
            lazy("there is no promo code group %(group)s"), "unknown_promocode_group", group=code
        )
    return group


def sample_code(session: Session, group: PromoCodeGroup) -> str:
    """A code shaped like the group's (letters → X, digits → 0) for previews and test sends."""
    first = PromoCodeRepository(session).first_code(group.id)
    return sample_of(first) if first else SAMPLE_SHAPE


def sample_of(code: str) -> str:
    return re.sub(r"\d", "0", re.sub(r"[^\W\d_]", "X", code))


hooks.register(hooks.PROMOCODE, promocode_hook)
hooks.register(hooks.LAST_PROMOCODE, last_promocode_hook)
