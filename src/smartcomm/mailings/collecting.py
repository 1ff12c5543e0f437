"""Collecting: recording a mailing's recipients in the send ledger, one batch a transaction, from a
checkpoint. Three phases share the machinery (and so pause, resume, cancel and the stall watch):

- "audience": the audience frozen at the start, split into the control group and — in an A/B test — the
  variants (with an automatic winner, those outside the test share wait);
- "winner": those who waited get the winning variant;
- "resend": customers all of whose messages failed, expired or were cancelled get one more, under a key
  of the resend's round.

Every message's key is the mailing, the customer and the round, so a batch collected twice (a worker killed
between the ledger write and the commit) plans nobody twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.delivery.watchers import watcher_service
from smartcomm.mailings import draws, planning
from smartcomm.mailings.repository import MailingRepository
from smartcomm.mailings.schemas import MailingStatus
from smartcomm.models import Mailing

AUDIENCE, WINNER, RESEND = "audience", "winner", "resend"
STRATA_BATCH = 5000
AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"))


def collect_batch(session: Session, mailing: Mailing, size: int, now: datetime) -> bool:
    """Record the next batch of the mailing's phase and move its checkpoint; False when the phase is done
    (the mailing then sends what is recorded)."""
    phase = mailing.collect_phase or AUDIENCE
    if phase == WINNER:
        done = not _winner_batch(session, mailing, size, now)
    elif phase == RESEND:
        done = not _resend_batch(session, mailing, size, now)
    else:
        done = not _audience_batch(session, mailing, size, now)
    if done:
        mailing.status, mailing.collected_at = MailingStatus.SENDING, now
        return False
    mailing.updated_at = now  # the heartbeat of collecting
    session.flush()
    return True


# --- the audience -------------------------------------------------------------------------------------


def _audience_batch(session: Session, mailing: Mailing, size: int, now: datetime) -> bool:
    repository = MailingRepository(session)
    assert mailing.started_at is not None
    batch = repository.audience_batch(mailing, mailing.started_at, mailing.collect_checkpoint or 0, size)
    if not batch:
        return False
    if mailing.collect_checkpoint is None and _drawn_by_share(mailing):
        _draw_control(session, mailing, now)
    recipients, control = planning.split_control(batch, _drawn_control(session, mailing, batch))
    repository.add_control_members(mailing.id, control, now)
    if mailing.variants:
        _plan_variants(session, mailing, recipients, now)
    else:
        planning.plan(session, mailing, recipients, now)
    _copy_for_watchers(session, mailing)
    mailing.collect_checkpoint = batch[-1]
    return True


def _drawn_control(session: Session, mailing: Mailing, batch: Sequence[int]) -> set[int] | None:
    """The control-group members of the batch; None when the mailing has no control group."""
    repository = MailingRepository(session)
    if mailing.control_audience_id is not None:
        assert mailing.started_at is not None
        return repository.audience_members(mailing.control_audience_id, batch, mailing.started_at)
    if _drawn_by_share(mailing):
        return repository.control_members_among(mailing.id, batch)
    return None


def _drawn_by_share(mailing: Mailing) -> bool:
    """Whether the control group is a share of the audience (drawn before the first batch)."""
    return mailing.control_audience_id is None and mailing.control_percent > 0


def _draw_control(session: Session, mailing: Mailing, now: datetime) -> None:
    """Draw the control group from the whole frozen audience and store it (the same draw whenever it is
    repeated: it only depends on the seed)."""
    assert mailing.started_at is not None
    drawn = control_draw(session, mailing, mailing.started_at)
    MailingRepository(session).add_control_members(mailing.id, drawn, now)


def control_draw(session: Session, mailing: Mailing, at: datetime) -> list[int]:
    """The control group of the audience as of `at`: exactly the share of it — of every stratum of the
    chosen fields when there are any, else of the whole audience."""
    repository = MailingRepository(session)
    fields = mailing.control_strata
    strata: list[tuple[int, Any]] = []
    after = 0
    while batch := repository.audience_batch(mailing, at, after, STRATA_BATCH):
        after = batch[-1]
        if not fields:
            strata.extend((customer_id, ()) for customer_id in batch)
            continue
        rows = repository.strata(batch, fields)
        strata.extend((cid, _stratum(fields, values, at.date())) for cid, values in rows)
    return draws.stratified_control(mailing.control_seed, mailing.control_percent, strata)


class ControlDraw:
    """The control group as the mailing would draw it if it started at `at`, batch by batch, nothing
    written (the messaging volume)."""

    def __init__(self, session: Session, mailing: Mailing, at: datetime) -> None:
        self.session, self.mailing, self.at = session, mailing, at
        self.drawn: set[int] | None = None
        if _drawn_by_share(mailing):
            self.drawn = set(control_draw(session, mailing, at))

    def among(self, batch: Sequence[int]) -> set[int] | None:
        if self.mailing.control_audience_id is not None:
            repository = MailingRepository(self.session)
            return repository.audience_members(self.mailing.control_audience_id, batch, self.at)
        return self.drawn


def _stratum(fields: Sequence[str], values: Sequence[Any], today: date) -> tuple[Any, ...]:
    key: list[Any] = []
    for name, value in zip(fields, values, strict=True):
        if name == "age_band":
            key.append(_age_band(value, today))
        elif name == "buyer":
            key.append(bool(value))
        elif isinstance(value, str):
            key.append(value.strip().casefold() or None)
        else:
            key.append(value)
    return tuple(key)


def _age_band(born: date | None, today: date) -> str | None:
    if born is None:
        return None
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return next((band for limit, band in AGE_BANDS if age < limit), "55+")


def _plan_variants(session: Session, mailing: Mailing, recipients: Sequence[int], now: datetime) -> None:
    """Draw each recipient's variant (or leave them for the winner), store the draw, plan per variant."""
    shares = draws.variant_shares(mailing.variants)
    test = float(mailing.ab_test["test_percent"]) if mailing.ab_test else None
    drawn = {cid: draws.variant_of(mailing.control_seed, cid, shares, test) for cid in recipients}
    MailingRepository(session).add_assignments(mailing.id, drawn, now)
    _plan_by_variant(session, mailing, drawn, now)


def _plan_by_variant(
    session: Session, mailing: Mailing, variants: dict[int, int | None], now: datetime, resend_round: int = 0
) -> None:
    groups: dict[int, list[int]] = defaultdict(list)
    for customer_id, variant in variants.items():
        if variant is not None:
            groups[variant].append(customer_id)
    for variant, customer_ids in sorted(groups.items()):
        content = planning.content_of(mailing, variant)
        planning.plan(session, mailing, customer_ids, now, content, resend_round)


def _copy_for_watchers(session: Session, mailing: Mailing) -> None:
    """Watchers get a copy of the mailing's first message (once: the copy's key is the mailing)."""
    if not mailing.watcher_group_ids:
        return
    first = MailingRepository(session).first_message(mailing.id)
    if first is not None:
        watcher_service.copies_for(session, mailing.watcher_group_ids, first)


# --- the winner and resends -----------------------------------------------------------------------------


def _winner_batch(session: Session, mailing: Mailing, size: int, now: datetime) -> bool:
    repository = MailingRepository(session)
    assert mailing.winner_variant is not None
    batch = repository.waiting_for_winner(mailing.id, mailing.collect_checkpoint or 0, size)
    if not batch:
        return False
    repository.give_winner(mailing.id, batch, mailing.winner_variant)
    planning.plan(session, mailing, batch, now, planning.content_of(mailing, mailing.winner_variant))
    mailing.collect_checkpoint = batch[-1]
    return True


def _resend_batch(session: Session, mailing: Mailing, size: int, now: datetime) -> bool:
    repository = MailingRepository(session)
    batch = repository.not_reached(mailing.id, mailing.collect_checkpoint or 0, size)
    if not batch:
        return False
    if mailing.variants:
        variants = repository.assignments(mailing.id, batch)
        _plan_by_variant(session, mailing, variants, now, mailing.resend_round)
    else:
        planning.plan(session, mailing, batch, now, resend_round=mailing.resend_round)
    mailing.collect_checkpoint = batch[-1]
    return True
