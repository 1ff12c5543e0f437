"""Rules of the RFM analysis: full calculations, the schedule, per-customer rescoring and the reads."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.kit.errors import FieldError, InvalidInput, NotFound
from smartcomm.kit.jobs import enqueue_after_commit, pause_point
from smartcomm.kit.leases import Claim, LeaseLost
from smartcomm.kit.models import Money
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import RfmCalculation, Segment
from smartcomm.rfm.repository import CellMember, CustomerScores, CustomerValues, RfmRepository, Window
from smartcomm.rfm.scoring import Population, Thresholds, score_population
from smartcomm.settings.schemas import RfmSettings
from smartcomm.settings.service import settings_service

OBJECT_TYPE = "rfm"
ACTIVE = ("queued", "running")
# A calculation still queued or running after this long belongs to a worker that died.
STALE_AFTER = timedelta(hours=1)
# The hourly schedule check starts a run a little early rather than an hour late.
SCHEDULE_SLACK = timedelta(minutes=10)


class RfmService:
    def settings(self, session: Session) -> RfmSettings:
        return settings_service.read(session, RfmSettings)

    def update_settings(self, session: Session, actor: Actor, values: dict[str, Any]) -> RfmSettings:
        """Change the period, the base segment or the runs per day (audited key by key)."""
        segment_id = values.get("base_segment_id")
        known = str(segment_id).isdigit() and session.get(Segment, int(str(segment_id))) is not None
        if segment_id is not None and not known:
            raise InvalidInput.for_field("base_segment_id", "Choose an existing segment")
        return settings_service.update(session, actor, RfmSettings, values)

    # --- calculations ---------------------------------------------------------------------------------

    def request(self, session: Session, actor: Actor, trigger: str = "manual") -> RfmCalculation:
        """Queue a calculation to run after commit; one already queued or running is returned instead."""
        running = self.active(session)
        if running is not None:
            return running
        calculation = self._new(session, trigger, "queued")
        audit_service.record(
            session, actor, object_type=OBJECT_TYPE, object_id=calculation.id, action="create",
            changes={"trigger": [None, trigger]}, object_label=f"RFM #{calculation.id}",
        )  # fmt: skip
        from smartcomm.rfm.tasks import calculate

        enqueue_after_commit(session, calculate, trigger, calculation.id)
        return calculation

    def queue(self, session: Session, trigger: str) -> RfmCalculation:
        """A queued calculation for a job to claim (the schedule's own runs)."""
        return self._new(session, trigger, "queued")

    def claim(self, session: Session, calculation_id: int, owner: str) -> bool:
        """Mark a queued calculation run by `owner`; False when it already ran or another worker has it."""
        return RfmRepository(session).claim(calculation_id, owner, utcnow())

    def renew(self, session: Session, calculation_id: int, owner: str) -> bool:
        """Renew the lease of a calculation `owner` runs; False once it was found interrupted."""
        return RfmRepository(session).renew(calculation_id, owner, utcnow())

    def calculate(self, session: Session, calculation_id: int, owner: str | None = None) -> RfmCalculation:
        """Score the whole population of a claimed calculation and store its thresholds and cells.

        The scores and the calculation's row are written in this one transaction; the row last, once
        `owner` is confirmed to still run it (LeaseLost otherwise: the caller rolls everything back).
        Changed any earlier, the row would stay locked on PostgreSQL and the heartbeat could not renew it.
        """
        repository = RfmRepository(session)
        calculation = repository.get(calculation_id)
        if calculation is None:
            raise NotFound("RFM calculation", calculation_id)
        clock, now = time.perf_counter(), utcnow()
        current = self._settings_now(session)
        window = Window(now - timedelta(days=current.period_days), now, current.base_segment_id)
        population = self._replace_scores(repository, calculation.id, window)
        pause_point("rfm.calculate")
        if not repository.renew(calculation_id, owner, utcnow()):
            raise LeaseLost(f"RFM calculation {calculation_id} was marked interrupted; this run stopped")
        # The settings at the moment the calculation runs are the ones it records.
        calculation.period_days, calculation.base_segment_id = current.period_days, current.base_segment_id
        self._summarise(calculation, population)
        calculation.status, calculation.finished_at = "done", utcnow()
        calculation.duration_ms = int((time.perf_counter() - clock) * 1000)
        session.flush()
        return calculation

    def run(self, session: Session, trigger: str) -> RfmCalculation:
        """Calculate right now in this transaction (the command line and the benchmark)."""
        calculation = self._new(session, trigger, "running")
        return self.calculate(session, calculation.id)

    def record_failure(
        self, session: Session, calculation_id: int, error: str, owner: str | None = None
    ) -> None:
        """Keep a failed calculation visible (its own transaction was rolled back); one that `owner` no
        longer runs (found interrupted) keeps that verdict."""
        repository = RfmRepository(session)
        calculation = repository.get(calculation_id)
        if calculation is None:
            return
        now = utcnow()
        duration = _milliseconds(ensure_utc(calculation.started_at), now)
        values = {"status": "failed", "error": error[:4000], "finished_at": now, "duration_ms": duration}
        if repository.renew(calculation_id, owner, now, **values):
            session.refresh(calculation)

    def gone_claims(self, session: Session) -> list[Claim]:
        """The running calculations whose process is gone (see `kit.leases`)."""
        return [claim for claim in RfmRepository(session).claims() if claim.is_gone()]

    def interrupt(self, session: Session, claim: Claim) -> bool:
        """Mark failed ("interrupted") a calculation whose process is gone, unless it moved on meanwhile.

        Nothing of it was written: its scores and its row change in one transaction, which ended with
        its process; the scores of the previous calculation stay.
        """
        return RfmRepository(session).interrupt(claim, utcnow())

    def due(self, session: Session, now: datetime | None = None) -> bool:
        """Whether the schedule should start a calculation: none is running and the last is old enough."""
        moment = now or utcnow()
        if self.active(session, moment) is not None:
            return False
        last = RfmRepository(session).latest()
        interval = timedelta(hours=24 / self.settings(session).runs_per_day)
        return last is None or ensure_utc(last.started_at) <= moment - interval + SCHEDULE_SLACK

    # --- single customers -----------------------------------------------------------------------------

    def rescore_customers(self, session: Session, customer_ids: Sequence[int]) -> None:
        """Re-place these customers by the ranges of the latest calculation (after new receipts)."""
        repository = RfmRepository(session)
        reference = repository.latest_reference() if customer_ids else None
        if reference is None:
            return  # nothing to score against before the first calculation
        ids, now = sorted(set(customer_ids)), utcnow()
        window = Window(now - timedelta(days=reference.period_days), now, reference.base_segment_id)
        thresholds = Thresholds.from_json(reference.thresholds)
        found = repository.customer_values(ids, window)
        repository.replace_scores(ids, [_scored_row(v, thresholds, reference.id, now) for v in found])

    # --- reads ----------------------------------------------------------------------------------------

    def latest(self, session: Session) -> RfmCalculation | None:
        """The latest successful calculation: the one the grids and the scores come from."""
        return RfmRepository(session).latest("done")

    def last_attempt(self, session: Session) -> RfmCalculation | None:
        """The latest calculation whatever its outcome (to show a failure)."""
        return RfmRepository(session).latest()

    def active(self, session: Session, now: datetime | None = None) -> RfmCalculation | None:
        """A calculation queued or running right now (stale ones are ignored)."""
        found = RfmRepository(session).latest(*ACTIVE)
        if found is None or ensure_utc(found.started_at) < (now or utcnow()) - STALE_AFTER:
            return None
        return found

    def history(self, session: Session, limit: int = 120) -> list[RfmCalculation]:
        """Successful calculations, oldest first (the Best and Lost chart)."""
        return list(reversed(RfmRepository(session).history(limit, "done")))

    def calculations(self, session: Session, params: PageParams) -> Page[RfmCalculation]:
        """Every calculation, latest first."""
        return RfmRepository(session).page(params)

    def customer_scores(self, session: Session, customer_id: int) -> CustomerScores | None:
        """A customer's current cell with the calculation it comes from; None when not scored."""
        return RfmRepository(session).scores_of(customer_id)

    def cell_members(self, session: Session, cell: dict[str, int], params: PageParams) -> Page[CellMember]:
        """Customers of a cell given by two or three letters, e.g. {"r": 5, "f": 5}."""
        problems = [
            FieldError(letter, "A score is a whole number from 1 to 5")
            for letter, score in cell.items()
            if letter not in ("r", "f", "m") or not 1 <= score <= 5
        ]
        if len(cell) < 2:
            problems.append(FieldError("r", "Give at least two of r, f and m"))
        if problems:
            raise InvalidInput("Not an RFM cell", problems)
        return RfmRepository(session).cell_members(cell, params)

    # --- helpers --------------------------------------------------------------------------------------

    def _new(self, session: Session, trigger: str, status: str) -> RfmCalculation:
        current = self.settings(session)
        calculation = RfmCalculation(
            trigger=trigger, status=status, started_at=utcnow(),
            period_days=current.period_days, base_segment_id=current.base_segment_id,
        )  # fmt: skip
        return RfmRepository(session).add(calculation)

    def _settings_now(self, session: Session) -> RfmSettings:
        current = self.settings(session)
        if current.base_segment_id is not None and session.get(Segment, current.base_segment_id) is None:
            raise NotFound("Base segment", current.base_segment_id)
        return current

    def _replace_scores(self, repository: RfmRepository, calculation_id: int, window: Window) -> Population:
        # Everything is read before the old scores go, so they stay in place as long as possible.
        repository.prepare_bulk_work()
        repository.collect_totals(window)
        population = score_population(repository.totals(), Money.from_units)
        repository.clear_scores()
        repository.write_scores(calculation_id, population.cutoffs, window.now)
        repository.drop_totals()
        return population

    def _summarise(self, calculation: RfmCalculation, population: Population) -> None:
        cells = population.cells
        calculation.thresholds = population.thresholds.to_json()
        calculation.cells = {f"{r}{f}{m}": count for (r, f, m), count in sorted(cells.items())}
        calculation.scored = population.scored
        calculation.best = cells[(5, 5, 5)]
        calculation.lost = sum(count for (r, _f, _m), count in cells.items() if r == 1)


def _scored_row(
    values: CustomerValues, thresholds: Thresholds, calculation_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "customer_id": values.customer_id,
        "calculation_id": calculation_id,
        "r": thresholds.r.score(values.recency_days),
        "f": thresholds.f.score(values.frequency),
        "m": thresholds.m.score(values.monetary),
        "recency_days": values.recency_days,
        "frequency": values.frequency,
        "monetary": values.monetary,
        "updated_at": now,
    }


def _milliseconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))


rfm_service = RfmService()
