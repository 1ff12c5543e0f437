"""Opens and clicks: the links of a message rewritten for click tracking, the open pixel, and every hit
recorded — by a person or by a machine — with the message's counts and milestones.

**Links.** `track_contents(session, [(message id, content), …])` rewrites, in each rendered content,
every http(s) link into `/t/c/<token>` (the token signs the message id and the link's id in
`tracked_links`, so a click can only lead where that message's link led) and adds the open pixel
`/t/o/<token>.gif` to e-mail HTML. Links to our own public pages (unsubscribe, preferences, view in
browser, confirmation) stay as they are. A batch costs one query for its links, and one short
transaction of its own for links never seen before.

**Hits.** The pixel and the redirect answer at once from the token alone (and a cache of link
addresses); what happened is handed to the process's `recorder`, whose thread writes the hits that
arrived meanwhile in one transaction (`record_hits`): one event row per hit (`opened`/`clicked`, with the
address, user agent, link and the machine's reason), the message's counters (people and machines apart),
its milestones moved forward by people's hits only (a machine's hit proves delivery, nothing more), one
`message.opened` and one `message.clicked` domain event for the group, and the tracker's visitor tied to
the customer when a person's click carries the tracker's cookie. If the writer falls behind (the database
is slow or away), requests wait for their own hits to be written instead of piling up in memory.
"""

from __future__ import annotations

import atexit
import html
import logging
import math
import queue
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy.orm import Session

from smartcomm.channels.base import Content, EmailContent, PushContent, SmsContent, ViberContent
from smartcomm.delivery import machines
from smartcomm.delivery.ledger import Status
from smartcomm.delivery.machines import Verdict
from smartcomm.delivery.tokens import ClickTokens, is_public_page, open_pixel_url
from smartcomm.delivery.tracking_repository import TrackingRepository, url_hash
from smartcomm.events.repository import VisitorRepository
from smartcomm.kit.db import get_database, session_scope, writers_turn
from smartcomm.kit.outbox import publish
from smartcomm.kit.time import utcnow
from smartcomm.models import Message

logger = logging.getLogger(__name__)

OPENED, CLICKED = "opened", "clicked"
SWITCH_INTERVAL = 0.001  # seconds; see Recorder._ensure_thread
MAX_URL_LENGTH = 2048
USER_AGENT_LENGTH = 300

# --- rewriting the links of a message -----------------------------------------------------------------

_HREF = re.compile(r"""(<(?:a|area)\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"'<>]+)\2""", re.IGNORECASE)
_TEXT_URL = re.compile(r"""https?://[^\s<>"'\]\[{}|\\^`]+""", re.IGNORECASE)
_TRAILING = ".,;:!?'\")»…"
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
PIXEL = (
    '<img src="{url}" width="1" height="1" alt="" '
    'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">'
)


def _text_url(found: str) -> str:
    """A URL found in plain text, without the punctuation that ends the sentence around it."""
    url = found.rstrip(_TRAILING)
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING)
    return url


def _trackable(url: str) -> bool:
    return len(url) <= MAX_URL_LENGTH and not is_public_page(url)


def urls_of(content: Content) -> list[str]:
    """The links of a content that a click may be tracked on."""
    found: list[str] = []
    if isinstance(content, EmailContent):
        found += [html.unescape(match.group(3)) for match in _HREF.finditer(content.html)]
        found += [_text_url(match.group(0)) for match in _TEXT_URL.finditer(content.text)]
    elif isinstance(content, SmsContent | ViberContent):
        found += [_text_url(match.group(0)) for match in _TEXT_URL.finditer(content.text)]
        if isinstance(content, ViberContent) and content.button_url:
            found.append(content.button_url)
    elif (
        isinstance(content, PushContent) and content.link and content.link.startswith(("http://", "https://"))
    ):
        found.append(content.link)
    return [url for url in found if _trackable(url)]


class _Rewriter:
    """The links of one message rewritten with their ids. `link_ids` holds trackable links only (those
    `urls_of` found); a link's address is made once per message (the text part repeats the HTML's)."""

    def __init__(self, message_id: int, link_ids: dict[str, int]) -> None:
        self.message_id = message_id
        self.link_ids = link_ids
        self._tokens: ClickTokens | None = None
        self._made: dict[str, str] = {}

    def url(self, url: str) -> str:
        made = self._made.get(url)
        if made is None:
            link_id = self.link_ids.get(url)
            made = self._made[url] = url if link_id is None else self._click_url(link_id)
        return made

    def _click_url(self, link_id: int) -> str:
        if self._tokens is None:
            self._tokens = ClickTokens(self.message_id)
        return self._tokens.url(link_id)

    def html(self, source: str) -> str:
        def replace_href(match: re.Match[str]) -> str:
            url = html.unescape(match.group(3))
            target = self.url(url)
            if target == url:
                return match.group(0)
            return f"{match.group(1)}{match.group(2)}{target}{match.group(2)}"

        return _HREF.sub(replace_href, source)

    def text(self, source: str) -> str:
        def replace_url(match: re.Match[str]) -> str:
            url = _text_url(match.group(0))
            return self.url(url) + match.group(0)[len(url) :]

        return _TEXT_URL.sub(replace_url, source)

    def content(self, content: Content) -> Content:
        if isinstance(content, EmailContent):
            return replace(
                content,
                html=with_pixel(self.html(content.html), self.message_id),
                text=self.text(content.text),
            )
        if isinstance(content, SmsContent):
            return replace(content, text=self.text(content.text))
        if isinstance(content, ViberContent):
            button = self.url(content.button_url) if content.button_url else None
            return replace(content, text=self.text(content.text), button_url=button)
        if content.link and content.link.startswith(("http://", "https://")):
            return replace(content, link=self.url(content.link))
        return content


def with_pixel(source: str, message_id: int) -> str:
    """The HTML with the open pixel at the end of its body."""
    if not source.strip():
        return source
    pixel = PIXEL.format(url=open_pixel_url(message_id))
    ends = list(_BODY_END.finditer(source))
    if not ends:
        return source + pixel
    at = ends[-1].start()
    return source[:at] + pixel + source[at:]


def record_links(session: Session, urls: Iterable[str]) -> dict[str, int]:
    """{url: link id} for these links, recording the new ones (in a short transaction of their own, so
    that a batch rendering in a read transaction never holds the write lock; a link recorded for a batch
    that then fails is harmless)."""
    by_hash = {url_hash(url): url for url in dict.fromkeys(urls)}
    if not by_hash:
        return {}
    found = TrackingRepository(session).link_ids(list(by_hash))
    missing = [key for key in by_hash if key not in found]
    if missing:
        now = utcnow()
        with session_scope() as writer:
            repository = TrackingRepository(writer)
            repository.add_links(
                [{"url_hash": key, "url": by_hash[key], "created_at": now} for key in missing]
            )
            found |= repository.link_ids(missing)
    return {by_hash[key]: link_id for key, link_id in found.items()}


def track_contents(session: Session, items: Sequence[tuple[int, Content]]) -> list[Content]:
    """The contents of these messages with their links rewritten for click tracking and (e-mail HTML) the
    open pixel added, in the order given."""
    link_ids = record_links(session, (url for _, content in items for url in urls_of(content)))
    return [_Rewriter(message_id, link_ids).content(content) for message_id, content in items]


# --- the link addresses a click redirects to ---------------------------------------------------------


class LinkCache:
    """Link id → address, for the click redirect (links never change once recorded). Bounded; kept per
    database so that tests on several databases never mix them."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._urls: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, link_id: int) -> str | None:
        key = (get_database().url, link_id)
        with self._lock:
            url = self._urls.get(key)
            if url is not None:
                self._urls.move_to_end(key)
        return url

    def put(self, link_id: int, url: str) -> None:
        with self._lock:
            self._urls[(get_database().url, link_id)] = url
            while len(self._urls) > self.size:
                self._urls.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._urls.clear()


links = LinkCache()


def link_url(link_id: int) -> str | None:
    """The address of a recorded link (from the cache, else the database)."""
    url = links.get(link_id)
    if url is None:
        with session_scope(read_only=True) as session:
            url = TrackingRepository(session).link_url(link_id)
        if url is not None:
            links.put(link_id, url)
    return url


# --- hits ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One open or click as the public endpoint saw it."""

    kind: str  # opened | clicked
    message_id: int
    at: datetime
    link_id: int | None = None
    url: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    method: str = "GET"
    visitor_id: str | None = None  # the tracker's anonymous id, from its cookie
    simulated: bool = False  # the sandbox's simulation of a reader

    @property
    def verdict(self) -> Verdict:
        return machines.judge_request(self.kind, self.method, self.user_agent, self.ip)


@dataclass
class _Progress:
    """What one group did to one message."""

    row: Any  # the message as the group found it (TrackingRepository.messages)
    recent: bool = False  # a clicked message sent (or delivered) moments ago, or not sent yet
    sent_at: datetime | None = None  # loaded for recent clicked messages only (the timing rules)
    delivered_before: datetime | None = None
    opens: int = 0
    clicks: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0
    opened_at: datetime | None = None  # the first open by a person in this group
    clicked_at: datetime | None = None
    delivered_at: datetime | None = None  # the first hit at all (a machine's too proves delivery)
    window_start: datetime | None = None  # the burst window's start, while clicks fall in it
    links: set[int] = field(default_factory=set)  # links clicked within the burst window
    earlier: list[Any] = field(default_factory=list)  # people's events of the window, recorded before

    @property
    def opened_by_people(self) -> bool:
        return self.row.opens > 0 or self.opens > 0 or bool(self.row.opened)

    @property
    def burst(self) -> bool:
        return len(self.links) >= machines.BURST_LINKS

    def in_window(self, at: datetime) -> bool:
        return self.window_start is not None and at - self.window_start <= machines.BURST_WINDOW

    @property
    def start(self) -> datetime | None:
        """Where the burst window opens: the delivery, else the sending."""
        return self.delivered_before or self.sent_at


class HitWriter:
    """Writes one group of hits in the session's transaction (the caller commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repository = TrackingRepository(session)
        self.events: list[dict[str, Any]] = []
        self.people: dict[str, list[tuple[int, int | None]]] = {OPENED: [], CLICKED: []}
        self.visitors: dict[str, tuple[int, datetime]] = {}

    def write(self, hits: Sequence[Hit]) -> None:
        ordered = sorted(hits, key=lambda hit: hit.at)
        rows = self.repository.messages([hit.message_id for hit in ordered])
        progress = {message_id: _Progress(row) for message_id, row in rows.items()}
        clicks = [hit for hit in ordered if hit.kind == CLICKED and hit.message_id in progress]
        if clicks:
            since = clicks[0].at - max(machines.BURST_WINDOW, machines.EARLY_CLICK_WINDOW)
            for row in self.repository.recent_times([hit.message_id for hit in clicks], since).values():
                entry = progress[row.id]
                entry.recent, entry.sent_at, entry.delivered_before = True, row.sent_at, row.delivered_at
        self._burst_windows(progress, clicks)
        for hit in ordered:
            if hit.message_id in progress:
                self._one(progress[hit.message_id], hit)
        self._save(progress)

    # --- judging ---------------------------------------------------------------------------------------

    def _burst_windows(self, progress: dict[int, _Progress], clicks: list[Hit]) -> None:
        """The links clicked within the burst window of the messages clicked now — by this group and
        before it (only messages delivered moments ago have a window open)."""
        for hit in clicks:
            entry = progress[hit.message_id]
            start = entry.start
            if start is not None and hit.at - start <= machines.BURST_WINDOW:
                entry.window_start = start
                if hit.link_id is not None:
                    entry.links.add(hit.link_id)
        windows = {mid: e.window_start for mid, e in progress.items() if e.window_start is not None}
        for event in self.repository.engagement_since(windows):
            entry = progress[event.message_id]
            if not entry.in_window(event.occurred_at):
                continue
            link_id = (event.data or {}).get("link_id")
            if event.kind == CLICKED and link_id is not None:
                entry.links.add(int(link_id))
            implied = (event.data or {}).get("implied_by_click")
            if not event.is_machine and (event.kind == CLICKED or implied):
                entry.earlier.append(event)

    def _verdict(self, entry: _Progress, hit: Hit) -> Verdict:
        verdict = hit.verdict
        if verdict.machine or hit.kind != CLICKED:
            return verdict
        if entry.burst and entry.in_window(hit.at):
            return Verdict(machines.CLICK_BURST)
        sent = entry.sent_at
        early = entry.recent and (sent is None or hit.at - sent <= machines.EARLY_CLICK_WINDOW)
        if entry.row.channel == "email" and early and not entry.opened_by_people:
            return Verdict(machines.EARLY_CLICK)
        return verdict

    # --- recording -------------------------------------------------------------------------------------

    def _one(self, entry: _Progress, hit: Hit) -> None:
        verdict = self._verdict(entry, hit)
        machine = verdict.machine is not None
        entry.delivered_at = entry.delivered_at or hit.at
        if hit.kind == CLICKED and not machine and not entry.opened_by_people:
            self._event(entry, replace(hit, kind=OPENED), verdict, implied=True)  # a click proves the open
        self._event(entry, hit, verdict)
        if not machine and hit.kind == CLICKED and hit.visitor_id and entry.row.customer_id is not None:
            self.visitors[hit.visitor_id] = (entry.row.customer_id, hit.at)

    def _event(self, entry: _Progress, hit: Hit, verdict: Verdict, implied: bool = False) -> None:
        machine = verdict.machine is not None
        data = {
            "ip": hit.ip,
            "user_agent": (hit.user_agent or "")[:USER_AGENT_LENGTH] or None,
            "link_id": hit.link_id if hit.kind == CLICKED else None,
            "url": hit.url if hit.kind == CLICKED else None,
            "machine": verdict.machine,
            "via": verdict.via,
            "implied_by_click": True if implied else None,
            "method": hit.method if hit.method != "GET" else None,
            "simulated": True if hit.simulated else None,
        }
        self.events.append(
            {
                "message_id": hit.message_id,
                "kind": hit.kind,
                "occurred_at": hit.at,
                "is_machine": machine,
                "data": {key: value for key, value in data.items() if value is not None},
            }
        )
        counter = ("machine_" if machine else "") + ("opens" if hit.kind == OPENED else "clicks")
        setattr(entry, counter, getattr(entry, counter) + 1)
        if machine:
            return
        if hit.kind == OPENED:
            entry.opened_at = entry.opened_at or hit.at
        else:
            entry.clicked_at = entry.clicked_at or hit.at
        self.people[hit.kind].append((hit.message_id, hit.link_id))

    def _save(self, progress: dict[int, _Progress]) -> None:
        entries = list(progress.values())
        self.repository.add_events(self.events)
        self.repository.apply([_changes(entry) for entry in entries if _counted(entry)])
        self._flag_bursts(entries)
        self._delivered([entry.row.id for entry in entries if _delivers(entry)])
        self._publish(progress)
        self._identify_visitors()

    def _flag_bursts(self, entries: list[_Progress]) -> None:
        """People's clicks recorded before a burst showed were the scanner's too: they move to machines."""
        for entry in entries:
            if not (entry.burst and entry.earlier):
                continue
            clicks = sum(event.kind == CLICKED for event in entry.earlier)
            opens = len(entry.earlier) - clicks
            self.repository.mark_machine([(e.id, e.data) for e in entry.earlier], machines.CLICK_BURST)
            self.repository.add_counts(
                [
                    {
                        "m_id": entry.row.id,
                        "m_opens": -opens,
                        "m_clicks": -clicks,
                        "m_machine_opens": opens,
                        "m_machine_clicks": clicks,
                    }
                ]
            )
            self.repository.settle_milestones([entry.row.id])

    def _delivered(self, message_ids: list[int]) -> None:
        """An open or a click before any delivery receipt: the message was delivered (the ledger publishes
        `message.delivered` and, for Viber, cancels the SMS leg of its cascade)."""
        from smartcomm.delivery.service import delivery_service

        for message_id in message_ids:
            message = self.session.get(Message, message_id)
            if message is not None:
                delivery_service.delivered(self.session, message)

    def _publish(self, progress: dict[int, _Progress]) -> None:
        """One `message.opened` and one `message.clicked` event for the group, naming their customers and
        the messages people opened (`message_ids`) or the links they clicked (`clicks`: [message id, link
        id] pairs). Kept small: a busy group names thousands."""
        for kind, hits in self.people.items():
            if not hits:
                continue
            customers = [progress[message_id].row.customer_id for message_id, _ in hits]
            if kind == OPENED:
                payload: dict[str, Any] = {"message_ids": sorted({message_id for message_id, _ in hits})}
            else:
                payload = {"clicks": [list(pair) for pair in sorted(set(hits), key=_pair_key)]}
            publish(self.session, f"message.{kind}", customer_ids=customers, payload=payload)

    def _identify_visitors(self) -> None:
        """The tracker's visitor who clicked is the message's customer from now on (and its anonymous
        behaviour of the last days is theirs)."""
        if not self.visitors:
            return
        from smartcomm.events.web_events import web_event_service

        known = VisitorRepository(self.session).customers_of(list(self.visitors))
        for visitor_id, (customer_id, at) in self.visitors.items():
            if known.get(visitor_id) != customer_id:
                web_event_service.identify(self.session, visitor_id, customer_id, at)


def _pair_key(pair: tuple[int, int | None]) -> tuple[int, int]:
    return pair[0], pair[1] or 0


def _counted(entry: _Progress) -> bool:
    return any((entry.opens, entry.clicks, entry.machine_opens, entry.machine_clicks))


def _changes(entry: _Progress) -> dict[str, Any]:
    """The message's row changes for `TrackingRepository.apply`: counters, and the milestones people's hits
    proved (any hit proves delivery) when the message is where a hit can move it."""
    target = _target(entry)
    return {
        "m_id": entry.row.id,
        "m_opens": entry.opens,
        "m_clicks": entry.clicks,
        "m_machine_opens": entry.machine_opens,
        "m_machine_clicks": entry.machine_clicks,
        "m_target": target,
        "m_delivered_at": entry.delivered_at if target else None,
        "m_opened_at": entry.opened_at if target else None,
        "m_clicked_at": entry.clicked_at if target else None,
    }


def _target(entry: _Progress) -> Status | None:
    """The furthest milestone the group's hits prove (people's hits; any hit proves delivery)."""
    if entry.row.status not in (Status.QUEUED, Status.SENT, Status.DELIVERED, Status.OPENED, Status.CLICKED):
        return None
    if entry.clicked_at is not None:
        return Status.CLICKED
    if entry.opened_at is not None:
        return Status.OPENED
    return Status.DELIVERED if entry.delivered_at is not None else None


def _delivers(entry: _Progress) -> bool:
    return bool(entry.row.undelivered) and _target(entry) is not None


def record_hits(session: Session, hits: Sequence[Hit]) -> None:
    """Write a group of opens and clicks in the session's transaction (the caller commits)."""
    if hits:
        HitWriter(session).write(hits)


# --- the recorder: hits written in groups by a thread of the web process --------------------------------


class Recorder:
    """Hands the hits of a process to one writer thread: the hits that arrive within `linger` of the first
    one, or while it writes a group, form the next one. When the writer falls behind (the database is slow
    or away), requests slow down instead of memory growing without bound: beyond `behind` waiting hits
    each request is held `throttle` seconds before its hit is queued (a client then sends more slowly,
    while no request waits long), and at `limit` a request waits until the writer takes its next group.
    `inline` writes each hit in the caller's thread instead (tests on a rolled-back connection use it)."""

    def __init__(
        self,
        write: Callable[[Session, Sequence[Hit]], None],
        *,
        group: int = 2000,
        behind: int = 5_000,
        limit: int = 50_000,
        linger: float = 0.05,
        throttle: float = 0.01,
    ) -> None:
        self.write_group = write
        self.group = group
        self.behind = behind
        self.limit = limit
        self.linger = linger
        self.throttle = throttle
        self.inline = False
        self._queue: queue.SimpleQueue[Hit] = queue.SimpleQueue()
        self._room = threading.Condition()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._busy = 0  # hits taken from the queue and not yet written
        self._flush_at_exit = False

    def record(self, hit: Hit) -> None:
        """Queue a hit for writing; at `limit` waiting hits, first wait until the writer takes its next
        group."""
        if self.inline:
            with writers_turn(), session_scope() as session:
                self.write_group(session, [hit])
            return
        self._ensure_thread()
        if self._queue.qsize() >= self.limit:
            with self._room:
                self._room.wait_for(lambda: self._queue.qsize() < self.limit, timeout=30)
        self._queue.put(hit)

    def pressure(self) -> float | None:
        """How a request should hand its hit over: None at once; a pause in seconds when the writer is
        behind; `math.inf` when it must wait in a thread (`record` blocks at the limit, or writes inline)."""
        if self.inline:
            return math.inf
        waiting = self._queue.qsize()
        if waiting >= self.limit:
            return math.inf
        return self.throttle if waiting >= self.behind else None

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every hit queued so far is written; False if that took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while not self._queue.empty() or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))
        return True

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                # The writer shares the process with the event loop, which waits for the interpreter's
                # lock while the writer works: a 1 ms switch interval (instead of 5 ms) keeps that wait,
                # and so the requests' latency, short.
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
                self._thread = threading.Thread(target=self._run, name="tracking-writer", daemon=True)
                self._thread.start()
                if not self._flush_at_exit:
                    # A web process that stops (SIGTERM, Ctrl+C) writes what it answered first; the thread
                    # is a daemon, so it is still there while exit handlers run.
                    atexit.register(self.flush)
                    self._flush_at_exit = True

    def _run(self) -> None:
        while True:
            batch = self._next_group()
            with self._room:
                self._room.notify_all()
            try:
                self._write(batch)
            finally:
                with self._idle:
                    self._busy = 0
                    self._idle.notify_all()

    def _next_group(self) -> list[Hit]:
        """The hits of the next group: what arrives within `linger` of the first, up to `group` hits. The
        requests do not wait for their hits, so lingering costs them nothing, and a group of many hits
        shares one transaction, one commit and one domain event instead of each paying its own."""
        batch = [self._take(None)]
        deadline = time.monotonic() + self.linger
        while len(batch) < self.group:
            remaining = deadline - time.monotonic()
            try:
                batch.append(self._take(remaining if remaining > 0 else 0))
            except queue.Empty:
                break
        return batch

    def _take(self, timeout: float | None) -> Hit:
        hit = self._queue.get(timeout=timeout) if timeout != 0 else self._queue.get_nowait()
        with self._idle:
            self._busy += 1
        return hit

    def _write(self, hits: list[Hit]) -> None:
        try:
            with writers_turn(), session_scope() as session:
                self.write_group(session, hits)
        except Exception:
            if len(hits) == 1:
                logger.exception("a tracking hit could not be written: %s", hits[0])
                return
            logger.warning("a group of %d tracking hits failed; writing them one by one", len(hits))
            for hit in hits:
                self._write([hit])


recorder = Recorder(record_hits)


# --- the tracker's cookie ------------------------------------------------------------------------------

# Segment's analytics.js (the tracker's SDK) keeps the anonymous id in this cookie, on the top domain of
# the site by default — so a click on a link of the same domain (track.shop.example) carries it.
TRACKER_COOKIE = "ajs_anonymous_id"
_VISITOR_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def visitor_from_cookie(value: str | None) -> str | None:
    """The anonymous id from the tracker's cookie (analytics.js writes it JSON-quoted)."""
    if not value:
        return None
    cleaned = unquote(value).strip().strip('"')
    return cleaned if _VISITOR_ID.fullmatch(cleaned) else None


__all__ = [
    "Hit",
    "LinkCache",
    "Recorder",
    "link_url",
    "record_hits",
    "record_links",
    "recorder",
    "track_contents",
    "urls_of",
    "visitor_from_cookie",
    "with_pixel",
]
