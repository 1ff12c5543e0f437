"""Password hashing cannot be driven to use every core: one argon2 lane per hash, a hash of older
parameters is replaced at the next sign-in, and a process computes only a few hashes at once (sign-ins of
unknown users included, so they cost as much as others)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from smartcomm.auth.service import user_service
from smartcomm.config import config
from smartcomm.kit.security import hash_password, password_hashing_slot, verify_password
from tests.factories import make_user


def test_a_new_hash_uses_one_lane() -> None:
    assert ",p=1$" in hash_password("correct horse battery staple")


def test_a_hash_of_four_lanes_is_replaced_at_the_next_sign_in(session: Session) -> None:
    user, password = make_user(session)
    old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=4).hash(password)
    user.password_hash = old
    session.commit()

    assert user_service.authenticate(session, user.email, password, None).user is not None

    session.refresh(user)
    assert ",p=1$" in user.password_hash and user.password_hash != old
    assert user_service.authenticate(session, user.email, password, None).user is not None


def test_a_wrong_password_leaves_an_old_hash_alone(session: Session) -> None:
    user, _ = make_user(session)
    old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=4).hash("the real one")
    user.password_hash = old
    session.commit()

    assert user_service.authenticate(session, user.email, "a guess", None).user is None
    session.refresh(user)
    assert user.password_hash == old


@contextmanager
def every_slot_taken() -> Iterator[None]:
    with ExitStack() as stack:
        for _ in range(config.effective_password_hash_concurrency):
            stack.enter_context(password_hashing_slot())
        yield


def waits_for_a_slot(work: Callable[[], object]) -> object:
    """Runs `work` in a thread while every hashing slot is taken: it must not finish before one is free."""
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(work()))
    with every_slot_taken():
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive(), "the password work ran although every slot was taken"
    worker.join(timeout=30)
    assert not worker.is_alive()
    return results[0]


def test_password_checks_wait_for_a_free_slot() -> None:
    stored = hash_password("secret-1")
    assert waits_for_a_slot(lambda: verify_password("secret-1", stored)) is True


def test_a_sign_in_of_an_unknown_user_does_the_same_password_work(session: Session) -> None:
    def sign_in() -> object:
        return user_service.authenticate(session, "nobody@example.com", "a guess", None).error

    assert waits_for_a_slot(sign_in) == "invalid"
