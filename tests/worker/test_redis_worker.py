"""A real job through a real Redis-backed worker process, against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from smartcomm.kit.db import Database
from smartcomm.models import AuditEntry, User
from tests.factories import make_user


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("SMARTCOMM_TEST_REDIS_URL")
    if url:
        yield url
        return
    import services

    with services.redis() as started:
        yield started


@pytest.fixture
def deployment_env(live_database: Database, redis_url: str, tmp_path) -> dict[str, str]:
    """The environment of a production process: real database, Redis queue, no test shortcuts."""
    return os.environ | {
        "SMARTCOMM_ENVIRONMENT": "production",
        "SMARTCOMM_DATABASE_URL": live_database.url,
        "SMARTCOMM_REDIS_URL": redis_url,
        "SMARTCOMM_VAR_DIR": str(tmp_path),
    }


@pytest.fixture
def worker_process(deployment_env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "smartcomm.cli.main", "worker", "--threads", "1", "--no-periodic"]
    process = subprocess.Popen(
        command, env=deployment_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    yield process
    process.terminate()
    process.wait(timeout=20)


# A web process enqueues the job into Redis and waits for the worker's result.
PRODUCER = (
    "from smartcomm.auth.tasks import expire_users; print(expire_users().get(blocking=True, timeout=30))"
)


def test_expiry_job_runs_in_a_redis_worker_process(
    live_database: Database, deployment_env: dict[str, str], worker_process: subprocess.Popen[bytes]
) -> None:
    with live_database.session() as session:
        expired, _ = make_user(session, expires_on=date.today() - timedelta(days=1))
        kept, _ = make_user(session)
        expired_id, kept_id = expired.id, kept.id

    produced = subprocess.run(
        [sys.executable, "-c", PRODUCER],
        env=deployment_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert produced.stdout.strip() == "1"
    assert worker_process.poll() is None  # the worker took the job and is still serving

    with live_database.session() as session:
        assert session.get(User, expired_id).is_active is False
        assert session.get(User, kept_id).is_active is True
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "expire")).one()
        assert entry.object_id == str(expired_id) and entry.actor_kind == "system"
