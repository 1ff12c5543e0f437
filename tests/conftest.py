"""Test harness: real SQLite or PostgreSQL (`--db`), one rolled-back transaction per test.

Tests that need committed data seen by another process or thread (browser tests, worker processes)
use `live_database`, a freshly migrated database of their own.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

_VAR = tempfile.mkdtemp(prefix="smartcomm-test-var-")
atexit.register(shutil.rmtree, _VAR, ignore_errors=True)
os.environ.update(
    {
        "SMARTCOMM_ENVIRONMENT": "test",
        "SMARTCOMM_VAR_DIR": _VAR,
        "SMARTCOMM_SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
        "SMARTCOMM_ARGON2_TIME_COST": "1",
        "SMARTCOMM_ARGON2_MEMORY_COST": "1024",
        # The suite signs in hundreds of times from one address; tests of the limit set their own.
        "SMARTCOMM_SIGN_IN_RATE_LIMIT": "100000/minute",
    }
)
os.environ.pop("SMARTCOMM_REDIS_URL", None)
os.environ.pop("SMARTCOMM_DATABASE_URL", None)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import pytest  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from smartcomm.api.ratelimit import MemoryCounter  # noqa: E402
from smartcomm.app import create_app  # noqa: E402
from smartcomm.auth.checked_tokens import checked_tokens  # noqa: E402
from smartcomm.kit.db import Database, new_session, override_sessions, set_database  # noqa: E402
from smartcomm.kit.migrate import upgrade  # noqa: E402
from tests.factories import make_user  # noqa: E402

CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db", choices=["sqlite", "postgres"], default="sqlite", help="database backend to test on"
    )


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def postgres_server_url(backend: str) -> Iterator[str | None]:
    if backend != "postgres":
        yield None
        return
    url = os.environ.get("SMARTCOMM_TEST_PG_URL")
    if url:
        yield url
        return
    import services

    with services.postgres() as started:
        yield started


_database_counter = itertools.count()


@pytest.fixture(scope="session")
def new_database_url(backend: str, postgres_server_url: str | None, tmp_path_factory: pytest.TempPathFactory):
    """A factory of empty databases on the chosen backend (dropped at the end of the session)."""
    created: list[str] = []

    def factory(label: str) -> str:
        number = next(_database_counter)
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db')}/{label}.db"
        assert postgres_server_url is not None
        name = f"sc_{label}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{number}"
        _admin_execute(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)

    yield factory
    if postgres_server_url:
        for name in created:
            _admin_execute(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_execute(server_url: str, *statements: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def migrated_database(url: str) -> Database:
    database = Database(url)
    upgrade(database.engine)
    return database


@pytest.fixture(scope="session")
def database(new_database_url) -> Iterator[Database]:
    db = migrated_database(new_database_url("main"))
    set_database(db)
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """The test's session; the app and jobs get sessions on the same connection, rolled back at the end."""
    connection = database.engine.connect()
    transaction = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    override_sessions(factory)
    test_session = new_session()  # like the app's sessions: after-commit jobs run when the test commits
    try:
        yield test_session
    finally:
        override_sessions(None)
        test_session.close()
        transaction.rollback()
        connection.close()
        checked_tokens.forget_all()  # the rolled-back users' ids (and so their tokens) come back


@pytest.fixture
def live_database(new_database_url) -> Iterator[Database]:
    """A fresh database whose commits are real (for other threads and processes)."""
    db = migrated_database(new_database_url("live"))
    previous = set_database(db)
    yield db
    set_database(previous)
    db.dispose()


@pytest.fixture
def live_server(live_database: Database) -> Iterator[str]:
    """The real app served by uvicorn in a thread on a free port, on its own database."""
    import services

    port = services.free_port()
    # As `smartcomm run` serves it: the app, not uvicorn, decides whose X-Forwarded-For to believe.
    settings = uvicorn.Config(
        create_app(), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
    )
    server = uvicorn.Server(settings)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def app() -> FastAPI:
    return create_app()


class UIClient(TestClient):
    """A browser-like client: signs in through the login form and sends the CSRF token on every POST."""

    csrf: str = ""

    def sign_in(self, email: str, password: str) -> None:
        self.csrf = extract_csrf(self.get("/login").text)
        response = self.post("/login", data={"email": email, "password": password, "csrf_token": self.csrf})
        assert response.status_code == 303, response.text
        self.csrf = extract_csrf(self.get("/account").text)

    def submit(self, url: str, data: dict[str, str] | None = None, **kwargs: object):
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf}, **kwargs)  # type: ignore[arg-type]


def extract_csrf(html: str) -> str:
    found = CSRF_PATTERN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[UIClient]:
    # Every test starts with fresh request counters: the app (and its limits) lives for the whole session,
    # and the requests of earlier tests in this process must not count against this one.
    app.state.rate_limits.counter = MemoryCounter()
    with UIClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def admin(session: Session):
    return make_user(session, role="administrator", email="boss@example.com", full_name="Anna Admin")


@pytest.fixture
def admin_client(client: UIClient, admin) -> UIClient:
    user, password = admin
    client.sign_in(user.email, password)
    return client
