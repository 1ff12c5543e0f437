"""The `smartcomm` command line: run the product, the worker, migrations and staff users."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from smartcomm.cli import attribution, demo, imports
from smartcomm.config import config

app = typer.Typer(help="smartcomm: communications for retail loyalty programmes.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Staff users.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(imports.app, name="import")
app.add_typer(attribution.app, name="attribution")
app.command("demo")(demo.demo)

console = Console()


def _admin_password_file() -> Path:
    return config.var_dir / "admin-password.txt"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the configured database."""
    from smartcomm.kit.db import get_database
    from smartcomm.kit.migrate import upgrade

    upgrade(get_database().engine)
    console.print("[green]Database is up to date.[/green]")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in e-mail")],
    full_name: Annotated[str, typer.Option("--name", help="Full name")],
    role: Annotated[
        str, typer.Option(help="administrator, senior_marketer, marketer, analyst, designer, operator or api")
    ],
    password: Annotated[str | None, typer.Option(help="Initial password (generated when omitted)")] = None,
    language: Annotated[str, typer.Option(help="Interface language: en or ru")] = "en",
) -> None:
    """Create a staff user and print its password."""
    from pydantic import ValidationError

    from smartcomm.audit.actor import Actor
    from smartcomm.auth.schemas import UserCreate
    from smartcomm.auth.service import user_service
    from smartcomm.kit.db import session_scope
    from smartcomm.kit.errors import DomainError

    try:
        data = UserCreate.model_validate(
            {"email": email, "full_name": full_name, "role": role, "password": password, "language": language}
        )
        with session_scope() as session:
            user, initial = user_service.create(session, Actor.system("command line"), data)
    except ValidationError as error:
        for item in error.errors():
            console.print(f"[red]{'.'.join(map(str, item['loc']))}: {item['msg']}[/red]")
        raise typer.Exit(2) from error
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    console.print(f"Created {user.role} [bold]{user.email}[/bold] with password [bold]{initial}[/bold]")


@users_app.command("reset-password")
def users_reset_password(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail of the user")],
    password: Annotated[str | None, typer.Option(help="New password (generated when omitted)")] = None,
) -> None:
    """Set a new password for a user (for a lost administrator password)."""
    from smartcomm.audit.actor import Actor
    from smartcomm.auth.repository import UserRepository
    from smartcomm.auth.service import user_service
    from smartcomm.kit.db import session_scope

    with session_scope() as session:
        user = UserRepository(session).by_email(email)
        if user is None:
            console.print(f"[red]No user with e-mail {email}[/red]")
            raise typer.Exit(1)
        new_password = user_service.reset_password(session, Actor.system("command line"), user.id, password)
    if email.lower() == config.default_admin_email:
        _admin_password_file().write_text(new_password)
    console.print(f"New password of [bold]{email}[/bold]: [bold]{new_password}[/bold]")


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads")] = config.worker_threads,
    periodic: Annotated[bool, typer.Option(help="Also run the periodic schedule")] = True,
) -> None:
    """Run a background worker (start several, on several machines, when Redis is configured)."""
    from smartcomm.worker import huey

    consumer = huey.create_consumer(
        workers=threads, worker_type="thread", periodic=periodic, check_worker_health=True
    )
    consumer.run()


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Bind address")] = config.bind_host,
    port: Annotated[int, typer.Option(help="Port")] = config.bind_port,
    with_worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Start a worker beside the web server")
    ] = True,
    with_demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load a demo base when the database has no customers")
    ] = True,
) -> None:
    """Migrate, make sure an administrator exists, start the worker and serve the product."""
    import uvicorn

    _stop_on_signals()
    db_upgrade()
    email, password = _ensure_admin()
    if with_demo:
        demo.load_if_empty()
    _print_welcome(host, port, email, password)
    worker_process = None
    try:
        worker_process = _start_worker() if with_worker else None
        uvicorn.run(
            "smartcomm.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=config.web_workers if config.web_workers > 1 else None,
            log_level="info",
            proxy_headers=False,  # the app decides whom to believe (SMARTCOMM_TRUSTED_PROXIES)
        )
    finally:
        if worker_process is not None:
            _stop(worker_process)


def _stop_on_signals() -> None:
    """SIGTERM (from `kill` or a service manager) and SIGHUP stop `smartcomm run` as Ctrl+C does.

    While it serves, uvicorn handles SIGTERM itself, shuts down, then raises the signal again: with the
    default action the process would end right there, before the `finally` that stops the worker. As
    KeyboardInterrupt it ends like Ctrl+C instead. uvicorn does not handle SIGHUP: it is turned into
    a SIGTERM, so that the server still shuts down in order.
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda _signum, _frame: os.kill(os.getpid(), signal.SIGTERM))


def _ensure_admin() -> tuple[str | None, str | None]:
    """Create the first administrator once, when no active administrator exists; its generated password
    is kept in var/ until changed. (None, None) when the administrators were made otherwise (for
    example with `smartcomm users create`): nobody else is created beside them."""
    from smartcomm.auth.repository import UserRepository
    from smartcomm.auth.service import user_service
    from smartcomm.kit.db import session_scope
    from smartcomm.kit.security import verify_password

    with session_scope() as session:
        users = UserRepository(session)
        default = users.by_email(config.default_admin_email)
        if (default is None or not default.is_active) and users.count_active_administrators():
            return None, None
        user, created_password = user_service.ensure_administrator(
            session, config.default_admin_email, "Administrator"
        )
        password_hash = user.password_hash
    password_file = _admin_password_file()
    if created_password:
        password_file.parent.mkdir(parents=True, exist_ok=True)  # var/ may hold nothing else yet
        password_file.write_text(created_password)
        password_file.chmod(0o600)
        return user.email, created_password
    if password_file.exists() and verify_password(password_file.read_text().strip(), password_hash):
        return user.email, password_file.read_text().strip()
    return user.email, None


def _print_welcome(host: str, port: int, email: str | None, password: str | None) -> None:
    url = (
        config.public_base_url
        if (host, port) == (config.bind_host, config.bind_port)
        else f"http://{host}:{port}"
    )
    secret = password or "(changed since installation; `smartcomm users reset-password EMAIL` sets a new one)"
    sign_in = (
        f"Sign in as [bold]{email}[/bold]\nPassword   [bold]{secret}[/bold]"
        if email
        else "Sign in as one of your administrators\n(`smartcomm users reset-password EMAIL` sets a password)"
    )
    body = f"[bold]{url}[/bold]\n\n{sign_in}\n\nAPI docs   {url}/api/docs"
    console.print(Panel(body, title="smartcomm is running", border_style="green", expand=False))


def _start_worker() -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "smartcomm.cli.main", "worker"]
    return subprocess.Popen(command, env=os.environ.copy())  # noqa: S603 (our own interpreter and module)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    app()
