"""The command line: migrations, staff users, and the first-run administrator of `smartcomm run`."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen

import httpx
import pytest
import services
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from smartcomm.cli.main import _ensure_admin, app
from smartcomm.config import config
from smartcomm.models import User
from tests.factories import make_user
from tests.worker.processes import children_of, is_running, production_env, stop, wait_until

runner = CliRunner()


def count_users(session: Session, email: str) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0)


def test_users_create_prints_the_password(session: Session) -> None:
    result = runner.invoke(
        app, ["users", "create", "--email", "Erp@Example.com", "--name", "ERP", "--role", "api"]
    )
    assert result.exit_code == 0, result.output
    assert "erp@example.com" in result.output and "with password" in result.output
    assert count_users(session, "erp@example.com") == 1


def test_users_create_rejects_bad_input_and_writes_nothing(session: Session) -> None:
    result = runner.invoke(app, ["users", "create", "--email", "bad", "--name", "X", "--role", "pilot"])
    assert result.exit_code == 2
    assert "email" in result.output and "role" in result.output
    assert session.scalar(select(func.count()).select_from(User).where(User.full_name == "X")) == 0


def test_first_run_creates_one_administrator_and_later_runs_reuse_it(session: Session) -> None:
    password_file = config.var_dir / "admin-password.txt"
    password_file.unlink(missing_ok=True)
    email, first_password = _ensure_admin()
    again_email, again_password = _ensure_admin()

    assert email == again_email == config.default_admin_email
    assert first_password and again_password == first_password
    assert password_file.read_text() == first_password
    assert count_users(session, email) == 1
    admin = session.scalar(select(User).where(User.email == email))
    assert admin is not None and admin.role == "administrator"


def test_reset_password_replaces_the_printed_one(session: Session) -> None:
    _ensure_admin()
    result = runner.invoke(
        app, ["users", "reset-password", config.default_admin_email, "--password", "Brand-new-1"]
    )
    assert result.exit_code == 0, result.output
    assert _ensure_admin()[1] == "Brand-new-1"


def test_run_creates_no_administrator_beside_one_made_on_the_command_line(session: Session) -> None:
    (config.var_dir / "admin-password.txt").unlink(missing_ok=True)
    result = runner.invoke(
        app,
        ["users", "create", "--email", "owner@shop.example", "--name", "Owner", "--role", "administrator"],
    )
    assert result.exit_code == 0, result.output

    assert _ensure_admin() == (None, None)

    assert count_users(session, config.default_admin_email) == 0
    assert not (config.var_dir / "admin-password.txt").exists()
    administrators = select(func.count()).select_from(User).where(User.role == "administrator")
    assert session.scalar(administrators) == 1


def test_run_creates_the_first_administrator_when_the_only_one_is_disabled(session: Session) -> None:
    make_user(session, role="administrator", is_active=False)
    email, password = _ensure_admin()
    assert (email, bool(password)) == (config.default_admin_email, True)
    assert count_users(session, config.default_admin_email) == 1


@pytest.fixture
def run_command(
    new_database_url: Callable[[str], str], tmp_path: Path
) -> Iterator[Callable[[], Popen[bytes]]]:
    """Start `smartcomm run --no-demo` on a fresh database, a var folder and a port of its own."""
    started: list[Popen[bytes]] = []
    port = services.free_port()

    def start() -> Popen[bytes]:
        env = production_env(new_database_url("run"), tmp_path / "var", SMARTCOMM_BIND_PORT=str(port))
        command = [sys.executable, "-m", "smartcomm.cli.main", "run", "--no-demo", "--port", str(port)]
        with (tmp_path / "run.log").open("ab") as log:
            process = Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        started.append(process)
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), "the server", timeout=120)
        return process

    yield start
    for process in started:
        stop(process)  # the whole process group, whatever the test left running


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_run_stopped_by_a_signal_stops_its_worker(
    run_command: Callable[[], Popen[bytes]], signum: signal.Signals
) -> None:
    process = run_command()
    [worker] = wait_until(lambda: children_of(process.pid), "the worker")
    assert is_running(worker)

    os.kill(process.pid, signum)  # as `kill` or a service manager does: to the command alone
    assert process.wait(timeout=60) == 0
    assert not is_running(worker)
