"""When the reaper runs, and that one kind of job it cannot look at does not stop it for the others."""

from __future__ import annotations

from datetime import datetime

import pytest

from smartcomm.worker import huey, reaper, registry


def test_the_reaper_runs_when_a_worker_starts_and_every_minute() -> None:
    periodic = registry.reap_every_minute.s()
    assert all(periodic.validate_datetime(datetime(2026, 12, 6, 10, minute)) for minute in range(60))
    assert huey._startup["reap_at_startup"] is registry.reap_at_startup


def test_each_worker_process_reaps_once_at_startup_whatever_its_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rounds: list[int] = []
    monkeypatch.setattr(registry, "reap_interrupted_jobs", lambda: rounds.append(1))
    monkeypatch.setattr(registry, "_reaped_at_startup", type(registry._reaped_at_startup)())
    for _thread in range(4):  # Huey calls startup hooks in every worker thread
        registry.reap_at_startup()
    assert rounds == [1]


def test_a_kind_of_job_that_cannot_be_reaped_now_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def locked() -> list[int]:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(reaper, "REAPERS", {"import": locked, "segment build": lambda: [7]})
    assert reaper.reap_interrupted_jobs() == {"segment build": [7]}
