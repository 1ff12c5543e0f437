"""Demo databases for the benchmarks: generated once per backend, tier and seed in a run, then
cloned for every measurement so that each one starts from the same state.

SQLite databases are files under the run's work folder (cloned by copying the file); PostgreSQL
databases live on the throwaway server of `make bench` (cloned with CREATE DATABASE … TEMPLATE).
"""

from __future__ import annotations

import itertools
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.tiers import Tier
from smartcomm.demo import DemoOptions, generate
from smartcomm.demo.progress import Progress
from smartcomm.kit.db import Database, pinned_session, set_database
from smartcomm.kit.migrate import upgrade


@dataclass(frozen=True)
class BaseDatabase:
    backend: str
    url: str
    tier: Tier
    seed: int
    seconds: float  # demo generation, commit included
    counts: dict[str, int]


class Databases:
    def __init__(self, workdir: Path, pg_server_url: str | None, progress: Progress) -> None:
        self.workdir = workdir
        self.pg_server_url = pg_server_url
        self.progress = progress
        self.bases: dict[tuple[str, str, int], BaseDatabase] = {}
        self.generated: list[BaseDatabase] = []  # every base of the run, kept for the report
        self._numbers = itertools.count(1)

    def base(self, backend: str, tier: Tier, seed: int) -> BaseDatabase:
        """The demo database of this tier and seed, generated on first use."""
        key = (backend, tier.name, seed)
        if key not in self.bases:
            url = self._empty(backend, f"base_{tier.name.lower()}_{seed}")
            self.bases[key] = self._generate(backend, url, tier, seed)
            self.generated.append(self.bases[key])
        return self.bases[key]

    def clone(self, base: BaseDatabase) -> str:
        """A fresh copy of a base database (its URL)."""
        number = next(self._numbers)
        if base.backend == "sqlite":
            source = Path(str(make_url(base.url).database))
            target = self.workdir / f"copy_{number}.db"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"
        name = f"copy_{number}"
        source_name = make_url(base.url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{source_name}"')
        return self._pg_url(name)

    def drop(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            for suffix in ("", "-wal", "-shm", "-writers"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
            return
        self._admin(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')

    def release(self, backend: str) -> None:
        """Drop the bases of a backend whose figures are measured: a tier-S base takes several GB."""
        for key in [key for key, base in self.bases.items() if base.backend == backend]:
            self.drop(self.bases.pop(key).url)

    def close(self) -> None:
        for backend in {base.backend for base in self.bases.values()}:
            self.release(backend)

    def _empty(self, backend: str, name: str) -> str:
        if backend == "sqlite":
            path = self.workdir / f"{name}.db"
            self.drop(f"sqlite:///{path}")
            return f"sqlite:///{path}"
        if self.pg_server_url is None:
            raise RuntimeError("PostgreSQL runs need SMARTCOMM_TEST_PG_URL (make bench starts a server)")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        return self._pg_url(name)

    def _generate(self, backend: str, url: str, tier: Tier, seed: int) -> BaseDatabase:
        database = Database(url)
        upgrade(database.engine)
        previous = set_database(database)
        try:
            started = time.perf_counter()
            options = DemoOptions(
                customers=tier.customers, seed=seed, receipts_per_customer=tier.receipts_per_customer
            )
            with pinned_session() as session:
                summary = generate(session, options, self.progress, checkpoint=session.commit)
            seconds = time.perf_counter() - started
            if backend == "sqlite":  # fold the WAL into the file, so a plain copy is a complete database
                pooled = database.engine.raw_connection()  # outside any transaction, as the pragma needs
                try:
                    pooled.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
                finally:
                    pooled.close()
        finally:
            set_database(previous)
            database.dispose()
        return BaseDatabase(backend, url, tier, seed, seconds, summary.counts)

    def _pg_url(self, name: str) -> str:
        assert self.pg_server_url is not None
        return make_url(self.pg_server_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self, *statements: str) -> None:
        assert self.pg_server_url is not None
        engine = create_engine(self.pg_server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
        engine.dispose()
