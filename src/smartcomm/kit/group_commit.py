"""Group commit: the writes of concurrent requests share one transaction and one commit.

A request that only appends rows (events, for instance) spends most of its time taking the database's
write lock and committing, not writing. Here each web process has one writer thread: requests hand
their job over and wait; while the writer commits one group, the jobs arriving meanwhile form the
next. A lone request is written at once (no waiting for company), and under load the cost of a commit
is shared by every request of the group. A request is answered only after its group has committed.

One job's invalid input fails that job alone: the write function returns an error in its place and
writes nothing for it. If the group's transaction fails as a whole, each job is retried in its own
transaction, so a job that trips the database cannot fail the others.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from smartcomm.kit.db import session_scope, writers_turn

logger = logging.getLogger(__name__)

Job = TypeVar("Job")
Result = TypeVar("Result")

# Writes a group of jobs in the session's transaction: one result per job, or the exception that
# job must raise (having written nothing). The caller commits.
WriteGroup = Callable[[Session, Sequence[Job]], list[Result | Exception]]


@dataclass
class _Waiting(Generic[Job, Result]):
    job: Job
    weight: int
    future: asyncio.Future[Result]


@dataclass
class _LoopState(Generic[Job, Result]):
    """The jobs waiting in one event loop, and whether a group of that loop is being written."""

    waiting: deque[_Waiting[Job, Result]] = field(default_factory=deque)
    writer: asyncio.Task[None] | None = None  # the task writing this loop's groups, while there are any


class GroupCommitter(Generic[Job, Result]):
    def __init__(self, name: str, write_group: WriteGroup[Job, Result], *, max_weight: int) -> None:
        self.name = name
        self.write_group = write_group
        self.max_weight = max_weight  # a group closes once its jobs weigh this much (e.g. rows)
        self._executor: ThreadPoolExecutor | None = None
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState[Job, Result]] = (
            weakref.WeakKeyDictionary()
        )

    async def submit(self, job: Job, *, weight: int = 1) -> Result:
        """Write `job` with whatever else is waiting; returns its result once the group committed."""
        loop = asyncio.get_running_loop()
        state = self._states.setdefault(loop, _LoopState())
        future: asyncio.Future[Result] = loop.create_future()
        state.waiting.append(_Waiting(job, weight, future))
        if state.writer is None:
            state.writer = loop.create_task(self._write_while_waiting(loop, state))
        return await future

    async def _write_while_waiting(
        self, loop: asyncio.AbstractEventLoop, state: _LoopState[Job, Result]
    ) -> None:
        try:
            while state.waiting:
                group = self._next_group(state)
                try:
                    results = await loop.run_in_executor(self._writer(), self._write, group)
                except Exception as error:  # handed to every request of the group
                    results = [error] * len(group)
                for waiting, result in zip(group, results, strict=True):
                    _settle(waiting.future, result)
        finally:
            state.writer = None

    def _next_group(self, state: _LoopState[Job, Result]) -> list[_Waiting[Job, Result]]:
        group: list[_Waiting[Job, Result]] = []
        weight = 0
        while state.waiting and (not group or weight + state.waiting[0].weight <= self.max_weight):
            waiting = state.waiting.popleft()
            group.append(waiting)
            weight += waiting.weight
        return group

    def _writer(self) -> ThreadPoolExecutor:
        # One thread: the groups of a process are written one after the other, never competing
        # with each other for the database's write lock.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"group-commit-{self.name}")
        return self._executor

    def _write(self, group: Sequence[_Waiting[Job, Result]]) -> list[Result | Exception]:
        jobs = [waiting.job for waiting in group]
        try:
            return self._commit(jobs)
        except Exception:
            if len(jobs) == 1:
                raise
            logger.warning("%s: a group of %d failed; writing its jobs one by one", self.name, len(jobs))
            return [self._write_alone(job) for job in jobs]

    def _write_alone(self, job: Job) -> Result | Exception:
        try:
            return self._commit([job])[0]
        except Exception as error:  # this job's own failure, for its request
            return error

    def _commit(self, jobs: Sequence[Job]) -> list[Result | Exception]:
        with writers_turn(), session_scope() as session:
            results = self.write_group(session, jobs)
            if len(results) != len(jobs):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(jobs)} jobs")
        return results


def _settle(future: asyncio.Future[Result], result: Result | Exception) -> None:
    if future.done():  # the request went away (client disconnected); its rows are stored regardless
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)
