"""Rules for segments: validation, live counts, saving, builds, per-customer refreshes and metrics."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.customers.repository import CustomerRepository, chunks
from smartcomm.fields.repository import FieldRepository
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.jobs import enqueue_after_commit
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import Customer, Segment, SegmentBuild, SegmentMembership
from smartcomm.segments.catalog import CHANNELS, build_catalogue, channel_label
from smartcomm.segments.compiler import compile_rules
from smartcomm.segments.describe import DescribedGroup, describe
from smartcomm.segments.materialize import (
    CustomerChanges,
    Diff,
    apply_customer_changes,
    apply_full,
    current_members,
    matching_members,
)
from smartcomm.segments.metrics import CompileContext
from smartcomm.segments.promo_poll_rows import SCOPES, scoped_labels, scoped_options
from smartcomm.segments.references import resolve_references
from smartcomm.segments.refresh import refresh_levels
from smartcomm.segments.repository import LookupRepository, SegmentRepository
from smartcomm.segments.rules import (
    Condition,
    SegmentRules,
    dependency_order,
    label_key,
    plain_references,
    referenced_segments,
)
from smartcomm.segments.schemas import (
    MetricOut,
    OptionOut,
    PreviewOut,
    SegmentIn,
    SegmentMetrics,
    SegmentUpdate,
)
from smartcomm.settings.schemas import GeneralSettings, RfmSettings, SegmentSettings
from smartcomm.settings.service import settings_service

OBJECT_TYPE = "segment"
DUPLICATE_NAME = lazy("A segment with this name already exists; choose another name.")
LOOKUP_LIMIT = 20
# Parameter kinds whose values are ids (or codes) of rows with a name to show.
NAMED_KINDS = (
    "product",
    "category",
    "store",
    "source",
    "container",
    "mailing_category",
    "audience",
    "segment",
    "mailing",
    "campaign",
    "promocode_group",
    "poll",
)


class SegmentService:
    def context(self, session: Session, now: datetime | None = None) -> CompileContext:
        """What compiling needs: now, the project time zone, the custom customer fields."""
        general = settings_service.read(session, GeneralSettings)
        custom = FieldRepository(session).custom_types("customer")
        return CompileContext(now=ensure_utc(now or utcnow()), zone=general.time_zone, custom_types=custom)

    def get(self, session: Session, segment_id: int) -> Segment:
        segment = SegmentRepository(session).get(segment_id)
        if segment is None:
            raise NotFound("Segment", segment_id)
        return segment

    def search(self, session: Session, params: PageParams, query: str = "") -> Page[Segment]:
        """Segments ordered by name."""
        return SegmentRepository(session).search(params, query)

    def preview(self, session: Session, rules: SegmentRules) -> PreviewOut:
        """How many customers the rules select right now (the live count of the builder)."""
        resolve_references(session, rules)
        matching = compile_rules(rules, self.context(session)).subquery()
        count = int(session.scalar(select(func.count()).select_from(matching)) or 0)
        base = int(session.scalar(select(func.count()).select_from(Customer)) or 0)
        return PreviewOut(count=count, base=base, base_share=round(count / base, 4) if base else 0.0)

    def check(self, session: Session, rules: SegmentRules) -> None:
        """Raise InvalidInput naming each condition that does not fit its metric (nothing is evaluated)."""
        resolve_references(session, rules)
        compile_rules(rules, self.context(session))

    def create(self, session: Session, actor: Actor, data: SegmentIn) -> Segment:
        """Save a new segment and build it after the transaction commits."""
        self._check_name_free(session, data.name, None)
        self._validate(session, data.rules, None)
        segment = Segment(
            name=data.name,
            description=data.description,
            rules=data.rules.model_dump(mode="json"),
            created_by_id=actor.user_id,
        )
        SegmentRepository(session).add(segment)
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=segment.id,
            action="create",
            changes=diff({}, {"name": segment.name, "rules": segment.rules}),
            object_label=segment.name,
        )
        self._build_after_commit(session, segment, "rules")
        return segment

    def update(self, session: Session, actor: Actor, segment_id: int, data: SegmentUpdate) -> Segment:
        """Rename, describe or change the rules; new rules rebuild the segment."""
        segment = self.get(session, segment_id)
        before = {"name": segment.name, "description": segment.description, "rules": segment.rules}
        if data.name is not None:
            self._check_name_free(session, data.name, segment.id)
            segment.name = data.name
        if "description" in data.model_fields_set:
            segment.description = data.description
        if data.rules is not None:
            self._validate(session, data.rules, segment.id)
            new_rules = data.rules.model_dump(mode="json")
            if new_rules != segment.rules:
                segment.rules = new_rules
                segment.rules_revision += 1
                self._build_after_commit(session, segment, "rules")
        session.flush()
        changes = diff(
            before, {"name": segment.name, "description": segment.description, "rules": segment.rules}
        )
        if changes:
            audit_service.record(
                session,
                actor,
                object_type=OBJECT_TYPE,
                object_id=segment.id,
                action="update",
                changes=changes,
                object_label=segment.name,
            )
        return segment

    def delete(self, session: Session, actor: Actor, segment_id: int) -> None:
        """Delete a segment that no other segment and no RFM setting relies on."""
        segment = self.get(session, segment_id)
        users = [s.name for s in self.used_by(session, segment_id)]
        if users:
            raise Conflict(f"The segment is used by: {', '.join(users)}")
        if settings_service.read(session, RfmSettings).base_segment_id == segment_id:
            raise Conflict("The segment is the base of the RFM analysis (Settings of RFM segments)")
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=segment.id,
            action="delete",
            changes=diff({"name": segment.name}, {}),
            object_label=segment.name,
        )
        SegmentRepository(session).delete(segment)

    def used_by(self, session: Session, segment_id: int) -> list[Segment]:
        """The segments whose conditions test membership of this one, by name."""
        users = [s for s in SegmentRepository(session).all() if segment_id in self._references(s)]
        return sorted(users, key=lambda s: (s.name, s.id))

    def build(self, session: Session, segment_id: int, trigger: str, *, record: bool = True) -> SegmentBuild:
        """Evaluate the segment and store its membership diff, build record and metrics.

        `record=False`: the build's figures are returned, not added; a worker's build stores them on
        the build row it claimed (see `segments.build_jobs`).
        """
        repository = SegmentRepository(session)
        segment = repository.lock(segment_id)
        if segment is None:
            raise NotFound("Segment", segment_id)
        started, clock = utcnow(), time.perf_counter()
        build = SegmentBuild(segment_id=segment_id, trigger=trigger, started_at=started)
        if record:
            session.add(build)
        matching = compile_rules(SegmentRules.model_validate(segment.rules), self.context(session, started))
        result = apply_full(session, segment_id, matching, started)
        elapsed = int((time.perf_counter() - clock) * 1000)
        self._finish(build, result, elapsed)
        self._store_metrics(session, segment, started, elapsed, result)
        return build

    def record_failure(self, session: Session, segment_id: int, trigger: str, error: str) -> None:
        """Keep a failed build visible (the build's own transaction was rolled back)."""
        segment = SegmentRepository(session).get(segment_id)
        if segment is None:
            return
        now = utcnow()
        session.add(
            SegmentBuild(
                segment_id=segment_id,
                trigger=trigger,
                status="failed",
                started_at=now,
                finished_at=now,
                duration_ms=0,
                error=error[:4000],
            )
        )
        segment.last_build_status, segment.last_build_error = "failed", error[:4000]
        session.flush()

    def refresh_customers(self, session: Session, customer_ids: Sequence[int]) -> dict[int, Diff]:
        """Bring every segment's membership of these customers up to date (referenced segments first).

        The segments are evaluated together by statements compiled for just these customers and cached
        in the process (see `segments.refresh`), so a refresh reads their own receipts and events only.
        """
        context = self.context(session)
        levels = refresh_levels(SegmentRepository(session).definitions(), context)
        changes: dict[int, Diff] = {}
        for part in chunks(sorted(set(customer_ids))):
            current = current_members(session, part)
            for level in levels:
                matching = matching_members(session, level, part)
                found = [_customer_changes(s, matching[s], current.get(s, set())) for s in level.segment_ids]
                moved = [change for change in found if change.joining or change.leaving]
                apply_customer_changes(session, moved, context.now)
                _tally(changes, moved)
        session.flush()
        return changes

    def metrics(self, session: Session, segment_id: int) -> SegmentMetrics:
        """Members, share of the base and of revenue, average receipt and LTV of the current members."""
        members, amount, receipts = SegmentRepository(session).member_totals(segment_id)
        return _metrics(session, members, amount, receipts)

    def members(self, session: Session, segment_id: int, params: PageParams) -> Page[Customer]:
        """Current members ordered by name."""
        return SegmentRepository(session).members(segment_id, params)

    def builds(self, session: Session, segment_id: int, limit: int = 20) -> list[SegmentBuild]:
        return SegmentRepository(session).builds(segment_id, limit)

    def is_stale(self, session: Session, segment: Segment, now: datetime | None = None) -> bool:
        """Not built within twice the rebuild interval (or never built)."""
        return segment.id in self.stale_ids(session, [segment], now)

    def stale_ids(
        self, session: Session, segments: Iterable[Segment], now: datetime | None = None
    ) -> set[int]:
        """The ids of the stale segments among these (the settings are read once for all of them)."""
        interval = settings_service.read(session, SegmentSettings).rebuild_interval_hours
        limit = (now or utcnow()) - timedelta(hours=2 * interval)
        return {s.id for s in segments if s.last_built_at is None or ensure_utc(s.last_built_at) < limit}

    def due_for_rebuild(self, session: Session, now: datetime | None = None) -> list[int]:
        interval = timedelta(hours=settings_service.read(session, SegmentSettings).rebuild_interval_hours)
        moment = now or utcnow()
        return [
            s.id
            for s in self.in_dependency_order(session)
            if s.last_built_at is None or ensure_utc(s.last_built_at) <= moment - interval
        ]

    # --- the builder: catalogue, lookups, names, words ---------------------------------------------------

    def catalogue(self, session: Session) -> list[MetricOut]:
        """Every metric a condition may use, custom customer fields included, in the builder's order."""
        return build_catalogue(SegmentRepository(session).builder_fields(), self.context(session))

    def lookup(
        self, session: Session, kind: str, query: str = "", within: Mapping[str, str] | None = None
    ) -> list[OptionOut]:
        """Values offered for a parameter of this kind whose name contains `query` (at most 20); `within`
        holds the condition's other parameters a kind depends on (a poll's questions need the poll)."""
        repository, query = LookupRepository(session), query.strip()
        if kind in SCOPES:
            rows = scoped_options(session, kind, query, within or {})[:LOOKUP_LIMIT]
        elif kind == "category":
            rows = repository.categories(query, LOOKUP_LIMIT)
        elif kind == "event":
            rows = [(name, name, None) for name in repository.event_names(query, LOOKUP_LIMIT)]
        elif kind == "channel":
            rows = [(code, str(label), None) for code, label in CHANNELS.items()]
        elif kind == "mailing":
            rows = [
                (value, name, _channels_label(channel))
                for value, name, channel in repository.mailings(query, LOOKUP_LIMIT)
            ]
        elif kind in NAMED_KINDS:
            rows = repository.search(kind, query, LOOKUP_LIMIT)
        else:
            raise NotFound("Parameter kind", kind)
        return [OptionOut(value=value, label=label, hint=hint) for value, label, hint in rows]

    def labels(
        self, session: Session, conditions: Iterable[Condition], catalogue: list[MetricOut]
    ) -> dict[str, str]:
        """Names of the ids the conditions refer to, keyed "kind:value" (e.g. "category:12" → "Dairy")."""
        kinds = {metric.key: {p.name: p.kind for p in metric.params} for metric in catalogue}
        conditions = list(conditions)
        wanted: dict[str, set[str]] = {}
        for condition in conditions:
            for name, kind in kinds.get(condition.metric, {}).items():
                value = label_key(condition.params.get(name))
                if kind in NAMED_KINDS and value is not None:
                    wanted.setdefault(kind, set()).add(value)
        repository = LookupRepository(session)
        return {
            f"{kind}:{value}": label
            for kind, values in wanted.items()
            for value, label in repository.names(kind, values).items()
        } | scoped_labels(session, conditions)

    def describe(self, session: Session, rules: SegmentRules) -> DescribedGroup:
        """The rules in words, with the names of the products, categories, audiences … they refer to."""
        catalogue, rules = self.catalogue(session), plain_references(rules)
        names = self.labels(session, [condition for _path, condition in rules.conditions()], catalogue)
        return describe(rules, {metric.key: metric for metric in catalogue}, names)

    # --- actions on a segment -----------------------------------------------------------------------------

    def request_build(self, session: Session, actor: Actor, segment_id: int) -> Segment:
        """Build the segment now (after the transaction commits); the page shows it running until then."""
        segment = self.get(session, segment_id)
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=segment.id,
            action="build",
            object_label=segment.name,
        )
        self._build_after_commit(session, segment, "manual")
        session.flush()
        return segment

    def record_export(
        self, session: Session, actor: Actor, segment_id: int, file_format: str = "csv"
    ) -> Segment:
        """Write the export of a segment's members to the action history (who took which data, how much)."""
        segment = self.get(session, segment_id)
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=segment.id,
            action="export",
            changes={"format": [None, file_format], "members": [None, segment.member_count]},
            object_label=segment.name,
        )
        return segment

    def export_batches(self, session: Session, segment_id: int, size: int = 1000) -> Iterator[Sequence[Any]]:
        """The current members with their export columns, in batches of `size` (keyset by customer id)."""
        repository, after = SegmentRepository(session), 0
        while True:
            batch = repository.export_batch(segment_id, after, size)
            if not batch:
                return
            yield [tuple(row)[1:] for row in batch]
            after = int(batch[-1][0])

    def member_rows(
        self, session: Session, segment_id: int, params: PageParams
    ) -> Page[tuple[Customer, datetime]]:
        """Current members by name, each with the moment they entered the segment."""
        return SegmentRepository(session).member_rows(segment_id, params)

    def search_customers(
        self,
        session: Session,
        rules: SegmentRules,
        params: PageParams,
        *,
        query: str = "",
        sort: str = "name",
        default_country: str = "RU",
        contact: str | None = None,
    ) -> Page[Customer]:
        """The customer list restricted to the customers the rules select right now (the list filter)."""
        matching = compile_rules(rules, self.context(session))
        return CustomerRepository(session).search(
            params,
            query=query,
            sort=sort,
            restrict=matching,
            default_country=default_country,
            contact=contact,
        )

    def segments_of(self, session: Session, customer_id: int) -> list[tuple[Segment, SegmentMembership]]:
        """The segments a customer is in as of their last builds, by name, with the current stay."""
        return SegmentRepository(session).segments_of_customer(customer_id)

    def in_dependency_order(self, session: Session) -> list[Segment]:
        """Every segment after the segments it tests membership of."""
        segments = {s.id: s for s in SegmentRepository(session).all()}
        order = dependency_order({s.id: self._references(s) for s in segments.values()})
        return [segments[segment_id] for segment_id in order]

    def _references(self, segment: Segment) -> set[int]:
        return referenced_segments(SegmentRules.model_validate(segment.rules))

    def _check_name_free(self, session: Session, name: str, segment_id: int | None) -> None:
        # Two segments of one name cannot be told apart in pickers, conditions and reports.
        if SegmentRepository(session).named(name, other_than=segment_id) is not None:
            raise Conflict(DUPLICATE_NAME, [FieldError("name", DUPLICATE_NAME, "duplicate")])

    def _validate(self, session: Session, rules: SegmentRules, segment_id: int | None) -> None:
        resolve_references(session, rules)  # rows named by key get their ids beside the keys
        compile_rules(rules, self.context(session))  # raises InvalidInput naming each bad condition
        references = referenced_segments(rules)
        repository = SegmentRepository(session)
        missing = [r for r in references if repository.get(r) is None]
        if missing:
            raise InvalidInput(
                "Unknown segments in the conditions",
                [FieldError("rules", f"segment {r} does not exist", "unknown") for r in missing],
            )
        if segment_id is not None and self._reaches(session, references, segment_id):
            raise InvalidInput.for_field(
                "rules", "a segment cannot depend on itself, directly or through others"
            )

    def _reaches(self, session: Session, start: set[int], target: int) -> bool:
        pending, seen = list(start), set()
        while pending:
            current = pending.pop()
            if current == target:
                return True
            if current in seen:
                continue
            seen.add(current)
            segment = SegmentRepository(session).get(current)
            if segment is not None:
                pending.extend(self._references(segment))
        return False

    def _finish(self, build: SegmentBuild, result: Diff, elapsed: int) -> None:
        build.status, build.finished_at, build.duration_ms = "done", utcnow(), elapsed
        build.members, build.entered, build.exited = result.members, result.entered, result.exited

    def _store_metrics(
        self, session: Session, segment: Segment, built_at: datetime, elapsed: int, result: Diff
    ) -> None:
        figures = _metrics(session, result.members, result.amount, result.receipts)
        segment.member_count, segment.base_share = figures.members, figures.base_share
        segment.revenue_share, segment.average_receipt, segment.ltv = (
            figures.revenue_share,
            figures.average_receipt,
            figures.ltv,
        )
        segment.last_built_at, segment.last_build_status, segment.last_build_ms = built_at, "done", elapsed
        segment.last_build_error = None
        session.flush()

    def _build_after_commit(self, session: Session, segment: Segment, trigger: str) -> None:
        from smartcomm.segments.tasks import build_segment

        # Shown as "building" until the job stores its result (done or failed).
        segment.last_build_status = "running"
        enqueue_after_commit(session, build_segment, segment.id, trigger)


def _metrics(session: Session, members: int, amount: Decimal, receipts: int) -> SegmentMetrics:
    """A segment's figures from its members' totals and the whole base's."""
    base, base_amount = SegmentRepository(session).base_totals()
    return SegmentMetrics(
        members=members,
        base_share=round(members / base, 4) if base else 0.0,
        revenue_share=round(float(amount / base_amount), 4) if base_amount else 0.0,
        average_receipt=_money(amount / receipts) if receipts else Decimal("0.00"),
        ltv=_money(amount / members) if members else Decimal("0.00"),
    )


def _customer_changes(segment_id: int, matching: set[int], current: set[int]) -> CustomerChanges:
    return CustomerChanges(segment_id, sorted(matching - current), sorted(current - matching))


def _tally(changes: dict[int, Diff], moved: Iterable[CustomerChanges]) -> None:
    """Add a part's entries and exits to the refresh's totals per segment."""
    for change in moved:
        found = changes.setdefault(change.segment_id, Diff(members=-1, entered=0, exited=0))
        found.entered += len(change.joining)
        found.exited += len(change.leaving)


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _channels_label(channel: str) -> str:
    """A mailing's channel in words; a cascade ("sms_viber") names both of its channels."""
    return " / ".join(channel_label(part) for part in channel.split("_"))


segment_service = SegmentService()
