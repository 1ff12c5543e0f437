"""Wake-up jobs that a burst of commits queues once, and the lane that keeps long jobs off the last threads
of a worker."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from smartcomm.kit import jobs
from smartcomm.kit.jobs import Lane, pending_started, queue_unless_pending


def test_a_burst_of_commits_queues_one_job_until_it_starts() -> None:
    queued: list[int] = []
    for _ in range(5):
        queue_unless_pending("tests.burst", lambda: queued.append(1))
    assert queued == [1]
    pending_started("tests.burst")  # the job reads what is due from here on
    queue_unless_pending("tests.burst", lambda: queued.append(2))
    assert queued == [1, 2]
    pending_started("tests.burst")


def test_a_job_waiting_too_long_is_queued_again(monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[int] = []
    queue_unless_pending("tests.stale", lambda: queued.append(1))
    later = jobs.time.time() + jobs.PENDING_SECONDS + 1
    monkeypatch.setattr(jobs.time, "time", lambda: later)
    queue_unless_pending("tests.stale", lambda: queued.append(2))
    assert queued == [1, 2]
    pending_started("tests.stale")


def test_a_failed_enqueue_leaves_no_mark() -> None:
    def broken() -> None:
        raise ConnectionError("the queue is down")

    with pytest.raises(ConnectionError):
        queue_unless_pending("tests.broken", broken)
    queued: list[int] = []
    queue_unless_pending("tests.broken", lambda: queued.append(1))
    assert queued == [1]
    pending_started("tests.broken")


def test_a_full_lane_turns_jobs_away_and_queues_them_again_when_a_place_frees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "huey", SimpleNamespace(immediate=False))  # as in a worker
    again: list[int] = []
    lane = Lane(1, lambda: again.append(1))
    inside, leave = threading.Event(), threading.Event()

    def long_job() -> int:
        inside.set()
        leave.wait(5)
        return 7

    results: list[int] = []
    holder = threading.Thread(target=lambda: results.append(lane.run(long_job)))
    holder.start()
    inside.wait(5)
    assert lane.run(lambda: 99) == 0  # every place taken: turned away at once, work not done
    assert again == []
    leave.set()
    holder.join(5)
    assert results == [7]
    assert again == [1]  # the holder queued the turned-away job again as it let go
    assert lane.run(lambda: 3) == 3


def test_tests_run_every_job_of_a_lane_inline() -> None:
    lane = Lane(1, lambda: None)
    assert lane.run(lambda: lane.run(lambda: 5)) == 5  # nested, as jobs run inline in tests


def test_a_worker_starting_forgets_the_marks_of_jobs_a_stopped_worker_took_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued: list[int] = []
    queue_unless_pending("tests.killed", lambda: queued.append(1))  # its worker dies before it starts
    monkeypatch.setattr(jobs, "_booted", threading.Event())  # a new worker process
    jobs._forget_pending()
    queue_unless_pending("tests.killed", lambda: queued.append(2))
    assert queued == [1, 2]
    pending_started("tests.killed")
