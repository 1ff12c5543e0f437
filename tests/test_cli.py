"""The command line: migrations, staff users, and the first-run administrator of `smartcomm run`."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from smartcomm.cli.main import _ensure_admin, app
from smartcomm.config import config
from smartcomm.models import User

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
