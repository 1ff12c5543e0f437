"""The Huey instance every domain registers its jobs on, and the after-commit enqueue.

SQLite storage under var/ by default; Redis when SMARTCOMM_REDIS_URL is set, so consumers can run on
any number of machines. Jobs take ids, re-read their rows and treat "already done" as success.
"""

from __future__ import annotations

from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.storage import SqliteStorage
from sqlalchemy.orm import Session

from smartcomm.config import config
from smartcomm.kit.db import on_commit

HUEY_NAME = "smartcomm"


class _QueueStorage(SqliteStorage):  # type: ignore[misc]  # huey ships no type hints
    """Huey's SQLite queue, synced like the main database: in WAL mode a commit no longer waits for
    the disk (a crash of the process loses nothing; a power cut may lose the last jobs queued)."""

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


def _create_huey() -> Huey:
    if config.environment == "test":
        # Unit tests run jobs synchronously, in memory, when they are enqueued.
        return Huey(HUEY_NAME, immediate=True)
    if config.redis_url:
        return RedisHuey(HUEY_NAME, url=config.redis_url, utc=True)
    config.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        HUEY_NAME, filename=str(config.var_dir / "jobs.db"), utc=True, storage_class=_QueueStorage
    )


huey: Huey = _create_huey()


def enqueue_after_commit(session: Session, task: TaskWrapper, *args: Any) -> None:
    """Queue `task(*args)` once the current transaction commits; nothing is queued on rollback."""
    on_commit(session, lambda: task(*args))
