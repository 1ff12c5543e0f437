"""Group commit: concurrent jobs share a transaction, yet each gets its own answer and its own failure."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.kit.db import Database, writers_turn
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.group_commit import GroupCommitter
from smartcomm.models import AuditEntry
from tests.factories import run_apart

TESTS = Actor.system("tests")


def stored_labels(session: Session) -> list[str]:
    statement = select(AuditEntry.object_id).where(AuditEntry.object_type == "group_test")
    return sorted(session.scalars(statement))


def write_labels(session: Session, labels: Sequence[str]) -> list[str | Exception]:
    """Stores one history row per job; a label starting with 'bad' is refused without writing."""
    results: list[str | Exception] = []
    for label in labels:
        if label.startswith("bad"):
            results.append(InvalidInput(f"{label} is refused"))
            continue
        if label.startswith("poison"):
            raise RuntimeError("the database refused the group")
        audit_service.record(session, TESTS, object_type="group_test", object_id=label, action="create")
        results.append(f"stored {label}")
    return results


async def submit_all(committer: GroupCommitter[str, str], labels: list[str]) -> list[str | BaseException]:
    return await asyncio.gather(*(committer.submit(label) for label in labels), return_exceptions=True)


def test_jobs_arriving_while_a_group_is_written_form_the_next_group(session: Session) -> None:
    groups: list[list[str]] = []
    first_group_started, let_it_finish = threading.Event(), threading.Event()

    def write(session: Session, labels: Sequence[str]) -> list[str | Exception]:
        groups.append(list(labels))
        if len(groups) == 1:
            first_group_started.set()
            assert let_it_finish.wait(10)
        return write_labels(session, labels)

    committer = GroupCommitter("test", write, max_weight=100)

    async def scenario() -> list[str | BaseException]:
        first = asyncio.ensure_future(committer.submit("a"))
        await asyncio.get_running_loop().run_in_executor(None, first_group_started.wait, 10)
        rest = asyncio.ensure_future(submit_all(committer, [f"b{n}" for n in range(9)]))
        await asyncio.sleep(0.05)  # all nine are waiting behind the first group
        let_it_finish.set()
        return [await first, *await rest]

    answers = run_apart(scenario())

    assert groups == [["a"], [f"b{n}" for n in range(9)]]
    assert answers == ["stored a", *[f"stored b{n}" for n in range(9)]]
    assert stored_labels(session) == ["a", *[f"b{n}" for n in range(9)]]


def test_a_group_closes_at_its_weight_limit(session: Session) -> None:
    groups: list[list[str]] = []

    def write(session: Session, labels: Sequence[str]) -> list[str | Exception]:
        groups.append(list(labels))
        return write_labels(session, labels)

    committer = GroupCommitter("test", write, max_weight=3)
    run_apart(submit_all(committer, [f"j{n}" for n in range(7)]))

    assert [len(group) for group in groups] == [3, 3, 1]
    assert len(stored_labels(session)) == 7


def test_an_invalid_job_fails_alone_and_writes_nothing(session: Session) -> None:
    committer = GroupCommitter("test", write_labels, max_weight=100)

    answers = run_apart(submit_all(committer, ["one", "bad-two", "three"]))

    assert answers[0] == "stored one" and answers[2] == "stored three"
    assert isinstance(answers[1], InvalidInput) and "bad-two is refused" in str(answers[1])
    assert stored_labels(session) == ["one", "three"]


def test_a_job_that_fails_the_transaction_is_retried_apart_from_the_others(session: Session) -> None:
    committer = GroupCommitter("test", write_labels, max_weight=100)

    answers = run_apart(submit_all(committer, ["one", "poison", "three"]))

    assert answers[0] == "stored one" and answers[2] == "stored three"
    assert isinstance(answers[1], RuntimeError)
    assert stored_labels(session) == ["one", "three"]


def test_a_write_function_must_answer_every_job(session: Session) -> None:
    committer = GroupCommitter("test", lambda session, jobs: [], max_weight=100)

    with pytest.raises(RuntimeError, match="0 results for 1 jobs"):
        run_apart(committer.submit("lonely"))
    assert stored_labels(session) == []


def test_grouped_writers_of_several_processes_take_turns_on_a_sqlite_file(database: Database) -> None:
    if database.writers_lock_path is None:  # PostgreSQL: writers do not exclude each other
        with writers_turn():
            return
    order: list[str] = []
    first_in, release = threading.Event(), threading.Event()

    def first() -> None:
        with writers_turn():
            order.append("first in")
            first_in.set()
            release.wait(5)
            order.append("first out")

    def second() -> None:
        first_in.wait(5)
        with writers_turn():  # a file of its own, as another process would open it
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_in.wait(5)
    time.sleep(0.2)
    assert order == ["first in"]  # the second writer waits for the first

    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first in", "first out", "second in"]


def test_a_foreground_writer_waits_for_one_background_turn_at_most(database: Database) -> None:
    """A receipt's write does not queue behind a worker's stream of background writes on SQLite."""
    if database.writers_lock_path is None:  # PostgreSQL: writers do not exclude each other
        with writers_turn(background=True):
            return
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with writers_turn():
            holding.set()
            release.wait(5)

    def writer(name: str, background: bool) -> None:
        with writers_turn(background=background):
            order.append(name)
            time.sleep(0.05)  # long enough for a waiter that was not let through to take the lock instead

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    holding.wait(5)
    for name, background in [("background 1", True), ("background 2", True), ("background 3", True),
                             ("foreground", False)]:  # fmt: skip
        threads.append(threading.Thread(target=writer, args=(name, background)))
        threads[-1].start()
        time.sleep(0.2)  # queued before the next one comes
    assert order == []
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["background 1", "foreground", "background 2", "background 3"]


def test_a_request_writer_queues_ahead_of_background_writers(database: Database) -> None:
    """A web request's write transaction (a queued session) waits for a writers' turn, not SQLite's busy
    wait, and goes before the worker's background writers queued behind the background writer in the lock."""
    if database.writers_lock_path is None:  # PostgreSQL: writers do not exclude each other
        return
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def holder() -> None:
        with writers_turn(background=True), database.session() as session:
            session.execute(select(AuditEntry.id).limit(1))  # BEGIN IMMEDIATE: SQLite's write lock
            holding.set()
            release.wait(5)
            session.commit()

    def background(name: str) -> None:
        with writers_turn(background=True), database.session() as session:
            session.execute(select(AuditEntry.id).limit(1))
            order.append(name)
            time.sleep(0.05)
            session.commit()

    def request() -> None:
        session = database.session(queued=True)
        try:
            session.execute(select(AuditEntry.id).limit(1))  # BEGIN: waits for its turn
            order.append("request")
            time.sleep(0.05)
            session.commit()  # its connection goes back to the pool: the turn is over
        finally:
            session.close()

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    holding.wait(5)
    for target, args in [(background, ("background 1",)), (background, ("background 2",)), (request, ())]:
        threads.append(threading.Thread(target=target, args=args))
        threads[-1].start()
        time.sleep(0.2)
    assert order == []
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["request", "background 1", "background 2"]
    with database.session(queued=True) as session:  # the turn was let go: the next one begins at once
        session.execute(select(AuditEntry.id).limit(1))
        session.commit()
