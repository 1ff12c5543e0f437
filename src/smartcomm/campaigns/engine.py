"""The journey engine: customers enter campaigns, and due journeys are walked from node to node.

Entering. A trigger's entries (`enter`) or a scheduled trigger's selection (`enter_window`) become
`journeys` rows at the trigger node, due at once, unless the customer is under way in the campaign already
or the re-entry rule keeps them out; an occurrence enters a customer once (a unique key), so a trigger
handed the same event twice enters nobody twice.

Walking (`advance`). In one transaction: claim a batch of one campaign's due journeys (`FOR UPDATE SKIP
LOCKED` on PostgreSQL; SQLite's write lock keeps every other writer out), run each node's action on the
journeys standing at it, move them along the outputs the action chose — on through the following nodes at
once, until each waits, stops or walks off the end of a branch — count what passed, and commit. A worker
killed half-way leaves nothing of the batch done, and its rows are due again for the next worker; what
the actions write (ledger rows, audience changes, accrual requests) commits with the journeys' moves or
not at all. The journeys' moves are written at the end of the batch, alike ones in one UPDATE.

One walker per worker process walks every campaign's due journeys, the campaigns taking turns a batch at a
time (on SQLite each batch queues for the write lock with the other writers, `writers_turn`). A walk
queued while it is busy — a customer who has just bought something — walks at once, once, the campaigns
whose due journeys fit in one batch and leaves the rest to it: a date trigger that entered 300,000
customers holds back neither that customer's e-mail nor the worker's other threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select
from sqlalchemy.orm import Session

from smartcomm.campaigns.actions.base import Action, Go, Hold, Outcome, Step, Stop
from smartcomm.campaigns.graph import Graph
from smartcomm.campaigns.repository import DONE, WAITING, CampaignRepository
from smartcomm.campaigns.triggers.base import Entry, Trigger, Window
from smartcomm.campaigns.triggers.chaining import ACTION_WORKED, NODE_PASSED, watched_by
from smartcomm.kit.db import get_database, session_scope, writers_turn
from smartcomm.kit.jobs import pause_point, queue_after_commit
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, CampaignVersion, Journey
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

logger = logging.getLogger(__name__)

BATCH = 500  # journeys walked in one transaction
# On SQLite a batch holds the one write lock while it walks: smaller batches let a receipt's walk (and the
# other writers) in between them, at a little of the walker's own speed (C2 of `make bench`).
SQLITE_BATCH = 100
MAX_HOPS = 50  # nodes a journey passes in one walk before it is put back as due (a long chain of actions)
MIN_HOLD = timedelta(seconds=1)  # the shortest hold: a journey held is due again no sooner
ARRIVED = "arrived"
STOPPED = "stopped"
_walker = threading.Lock()  # held by the process's walker
_walk_wanted = threading.Event()  # more journeys may be due: the walker looks again before it stops


@lru_cache(maxsize=256)
def _published_graph(version_id: int, graph_json: str) -> Graph:
    import json

    return Graph.of(json.loads(graph_json))


def graph_of(version: CampaignVersion) -> Graph:
    """The parsed graph of a version (published versions never change: parsed once per process)."""
    import json

    if version.published_at is None:
        return Graph.of(version.graph)
    return _published_graph(version.id, json.dumps(version.graph, sort_keys=True))


def project_zone(session: Session) -> ZoneInfo:
    return ZoneInfo(settings_service.read(session, GeneralSettings).time_zone)


# --- entering ------------------------------------------------------------------------------------------


def enter(session: Session, campaign: Campaign, entries: Sequence[Entry], now: datetime) -> int:
    """Enter these customers into the campaign's published version; returns how many entered."""
    version_id = campaign.published_version_id
    if version_id is None or not entries:
        return 0
    version = CampaignRepository(session).version(version_id)
    trigger = graph_of(version).trigger if version is not None else None
    if trigger is None:
        return 0
    chosen = _eligible(session, campaign, _unique(entries), now)
    rows = [_journey_row(campaign.id, version_id, trigger.id, entry, now) for entry in chosen]
    inserted = CampaignRepository(session).insert_journeys(rows)
    if inserted:
        _count(session, campaign.id, {(version_id, trigger.id, ARRIVED, _day(now)): len(inserted)})
        queue_after_commit(session, "campaigns.advance")
    return len(inserted)


def enter_window(
    session: Session, campaign: Campaign, trigger: Trigger, settings: Any, window: Window
) -> int:
    """Enter the customers a scheduled trigger selects for the window, in one statement."""
    selection = trigger.selection(session, settings, window)
    return 0 if selection is None else enter_selected(session, campaign, selection, window.end)


def enter_selected(session: Session, campaign: Campaign, selection: Select[Any], now: datetime) -> int:
    """Enter the customers of a set-based selection (`customer_id`, `occurrence`, maybe `context`) into the
    campaign's published version, in one statement; returns how many entered."""
    repository = CampaignRepository(session)
    version_id = campaign.published_version_id
    version = repository.version(version_id) if version_id is not None else None
    node = graph_of(version).trigger if version is not None else None
    if version_id is None or node is None:
        return 0
    entered = repository.enter_selected(
        campaign, version_id, node.id, selection, now, _reentry_after(campaign, now)
    )
    if entered:
        _count(session, campaign.id, {(version_id, node.id, ARRIVED, _day(now)): entered})
        queue_after_commit(session, "campaigns.advance")
    return entered


def _unique(entries: Sequence[Entry]) -> list[Entry]:
    """One entry per customer: the first occurrence of each in the batch."""
    seen: dict[int, Entry] = {}
    for entry in entries:
        seen.setdefault(entry.customer_id, entry)
    return list(seen.values())


def _eligible(session: Session, campaign: Campaign, entries: list[Entry], now: datetime) -> list[Entry]:
    facts = CampaignRepository(session).entry_facts(campaign.id, {e.customer_id for e in entries})
    after = _reentry_after(campaign, now)
    chosen = []
    for entry in entries:
        known = facts.get(entry.customer_id)
        if known is not None:
            last, under_way = known
            if under_way or campaign.reentry_minutes is None or (after is not None and last > after):
                continue
        chosen.append(entry)
    return chosen


def _reentry_after(campaign: Campaign, now: datetime) -> datetime | None:
    """Entries after this time keep a customer out (None: the rule is "once" or "any time")."""
    if not campaign.reentry_minutes:
        return None
    return now - timedelta(minutes=campaign.reentry_minutes)


def _journey_row(campaign_id: int, version_id: int, node: str, entry: Entry, now: datetime) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "version_id": version_id,
        "customer_id": entry.customer_id,
        "occurrence": entry.occurrence[:200],
        "node": node,
        "status": WAITING,
        "wake_at": now,
        "arrived_at": now,
        "entered_at": now,
        "context": entry.context,
        "state": {},
    }


# --- walking -------------------------------------------------------------------------------------------


def advance(limit_batches: int | None = None) -> int:
    """Walk due journeys until none is due (or `limit_batches` batches were walked); returns the journeys
    walked. One walker per process (see the module's notes); a call that finds it busy walks the small
    campaigns once and returns."""
    _walk_wanted.set()  # before trying: a walker that is about to stop sees it and walks again
    walked = 0
    while _walk_wanted.is_set():
        if not _walker.acquire(blocking=False):
            return walked + walk_small_campaigns()
        try:
            while _walk_wanted.is_set():
                _walk_wanted.clear()
                walked += _walk_all(limit_batches)
        finally:
            _walker.release()
    return walked


def _walk_all(limit_batches: int | None) -> int:
    walked = batches = 0
    while True:
        now = utcnow()
        with session_scope(read_only=True) as session:
            campaign_ids = CampaignRepository(session).campaigns_with_due(now)
        progress = 0
        for campaign_id in campaign_ids:
            progress += advance_batch(campaign_id, background=True)
            batches += 1
            if limit_batches is not None and batches >= limit_batches:
                return walked + progress
        walked += progress
        if not progress:
            return walked


def walk_small_campaigns() -> int:
    """One batch of each campaign whose due journeys fit in one batch; returns the journeys walked."""
    with session_scope(read_only=True) as session:
        small = CampaignRepository(session).campaigns_with_few_due(utcnow(), batch_size())
    return sum(advance_batch(campaign_id) for campaign_id in small)


def batch_size() -> int:
    return min(BATCH, SQLITE_BATCH) if get_database().is_sqlite else BATCH


def advance_batch(campaign_id: int, size: int | None = None, *, background: bool = False) -> int:
    """Walk one batch of a campaign's due journeys in one transaction; returns how many. The walker's
    batches are `background` writers on SQLite: a receipt and its trigger do not wait behind a crowd's
    walk (the small campaigns a busy walker leaves to others are walked in the foreground)."""
    size = size or batch_size()
    with writers_turn(background=background), session_scope() as session:
        now = utcnow()
        journeys = CampaignRepository(session).claim_due(campaign_id, now, size)
        if journeys:
            Walker(session, now).walk(journeys)
            pause_point("campaigns.batch_walked")  # tests kill a worker here, before the commit
        return len(journeys)


class Walker:
    """Moves a batch of journeys through their graphs, node by node, inside the caller's transaction."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.repository = CampaignRepository(session)
        self.zone = project_zone(session)
        self.counts: dict[int, Counter[tuple[int, str, str, str]]] = defaultdict(Counter)
        self._campaigns: dict[int, Campaign] = {}
        self._graphs: dict[int, Graph] = {}
        # (campaign, version, node) → the customers the node processed in this walk (campaign chaining)
        self.passed: dict[tuple[int, int, str], list[int]] = defaultdict(list)

    def walk(self, journeys: Sequence[Journey]) -> None:
        # The moves are written at the end, alike ones in one statement (a batch walking in step is one
        # UPDATE), not row by row by the unit of work at every query the actions make on the way.
        for journey in journeys:
            self.session.expunge(journey)
        standing = list(journeys)
        for _ in range(MAX_HOPS):
            if not standing:
                break
            standing = self._hop(standing)
        for journey in standing:  # a chain longer than a walk: due again at once
            journey.wake_at = self.now
        self.repository.move_journeys(journeys)
        for campaign_id, counts in self.counts.items():
            self.repository.add_stats(campaign_id, dict(counts))
        publish_passed(self.session, self.passed)

    def _hop(self, standing: list[Journey]) -> list[Journey]:
        """Run every node that has journeys standing at it; the journeys that moved on to another node."""
        at_node: dict[tuple[int, str], list[Journey]] = defaultdict(list)
        for journey in standing:
            at_node[(journey.version_id, journey.node)].append(journey)
        moved: list[Journey] = []
        for (version_id, node), group in at_node.items():
            outcomes = self._run(version_id, node, group)
            for journey, outcome in zip(group, outcomes, strict=True):
                if self._apply(journey, outcome):
                    moved.append(journey)
        return moved

    def _run(self, version_id: int, node: str, journeys: list[Journey]) -> list[Outcome]:
        graph = self._graph(version_id)
        kind = graph.kind_of(node)
        if isinstance(kind, Trigger):
            return [Go() for _ in journeys]
        if not isinstance(kind, Action) or node not in graph.settings:
            logger.error("campaign version %d has no runnable node %r", version_id, node)
            return [Stop("broken_node") for _ in journeys]
        campaign = self._campaign(journeys[0].campaign_id)
        step = Step(self.session, campaign, version_id, node, graph.settings[node], self.now, self.zone)
        outcomes = kind.run(step, journeys)
        if len(outcomes) != len(journeys):
            raise RuntimeError(
                f"the action {kind.name} answered for {len(outcomes)} of {len(journeys)} journeys"
            )
        return outcomes

    def _apply(self, journey: Journey, outcome: Outcome) -> bool:
        """Record an outcome on the journey; True when it moved on to a node to run now."""
        day = _day(self.now)
        counts = self.counts[journey.campaign_id]
        if isinstance(outcome, Hold):
            # Never due again within this walk: a hold that came due already would spin the walk.
            journey.status, journey.wake_at = WAITING, max(outcome.until, self.now + MIN_HOLD)
            return False
        if isinstance(outcome, Stop):
            counts[(journey.version_id, journey.node, f"{STOPPED}:{outcome.reason}"[:32], day)] += 1
            self._finish(journey, outcome.reason)
            return False
        counts[(journey.version_id, journey.node, outcome.output, day)] += 1
        self.passed[(journey.campaign_id, journey.version_id, journey.node)].append(journey.customer_id)
        target = self._graph(journey.version_id).next(journey.node, outcome.output)
        if target is None:
            self._finish(journey, None)
            return False
        visits = dict(journey.state.get("visits") or {})
        visits[target] = int(visits.get(target, 0)) + 1
        journey.state = {**journey.state, "visits": visits}
        journey.node, journey.arrived_at, journey.wake_at = target, self.now, self.now
        counts[(journey.version_id, target, ARRIVED, day)] += 1
        return True

    def _finish(self, journey: Journey, reason: str | None) -> None:
        journey.status, journey.wake_at, journey.finished_at = DONE, None, self.now
        journey.exit_reason = reason

    def _graph(self, version_id: int) -> Graph:
        if version_id not in self._graphs:
            version = self.repository.version(version_id)
            self._graphs[version_id] = graph_of(version) if version is not None else Graph({}, [])
        return self._graphs[version_id]

    def _campaign(self, campaign_id: int) -> Campaign:
        if campaign_id not in self._campaigns:
            found = self.repository.get(campaign_id)
            assert found is not None  # a journey's campaign is deleted with it
            self._campaigns[campaign_id] = found
        return self._campaigns[campaign_id]


# --- campaign chaining ---------------------------------------------------------------------------------

WATCHED_SECONDS = 60.0  # how long a process trusts its list of watched nodes
_watched: tuple[float, frozenset[tuple[int, str]]] | None = None  # (good until, on the monotonic clock)


def publish_passed(session: Session, passed: dict[tuple[int, int, str], list[int]]) -> None:
    """One `campaign.node_passed` per (campaign, version, node) of a walked batch whose node some active
    "action worked" campaign watches, naming the customers it processed; nothing for the other nodes."""
    if not passed:
        return
    watched = watched_nodes(session)
    for (campaign_id, version_id, node), customers in sorted(passed.items()):
        if (campaign_id, node) in watched:
            payload = {"campaign_id": campaign_id, "version_id": version_id, "node": node}
            publish(session, NODE_PASSED, customer_ids=customers, payload=payload)


def watched_nodes(session: Session) -> frozenset[tuple[int, str]]:
    """The (campaign, node) pairs the active "action worked" campaigns watch, looked up at most once a
    minute per process (a newly activated chain starts within a minute)."""
    global _watched
    if _watched is not None and time.monotonic() < _watched[0]:
        return _watched[1]
    repository = CampaignRepository(session)
    pairs: set[tuple[int, str]] = set()
    for campaign in repository.active_with_triggers([ACTION_WORKED]):
        version = repository.version(campaign.published_version_id or 0)
        pair = watched_by(campaign.id, graph_of(version)) if version is not None else None
        if pair is not None:
            pairs.add(pair)
    _watched = (time.monotonic() + WATCHED_SECONDS, frozenset(pairs))
    return _watched[1]


def forget_watched_nodes() -> None:
    """Look the watched nodes up again at the next walk (tests; a campaign just activated)."""
    global _watched
    _watched = None


def _count(session: Session, campaign_id: int, counts: dict[tuple[int, str, str, str], int]) -> None:
    CampaignRepository(session).add_stats(campaign_id, counts)


def _day(when: datetime) -> str:
    return when.date().isoformat()
