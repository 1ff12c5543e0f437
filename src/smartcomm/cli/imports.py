"""`smartcomm import customers|receipts|products FILE`: CSV imports with a progress bar and a report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from smartcomm.imports.schemas import ImportSummary

app = typer.Typer(
    help="Import CSV files (all or nothing unless --valid-only; see docs/imports.md).", no_args_is_help=True
)
console = Console()

SHOWN_ERRORS = 20
PHASES = {"checking": "Checking rows", "writing": "Writing rows"}

FileArgument = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file, UTF-8, `,` or `;` separated"),
]
ValidOnly = Annotated[
    bool,
    typer.Option("--valid-only", help="Import the valid rows and report the others, instead of rejecting"),
]
Classifier = Annotated[str | None, typer.Option(help="Classifier code (the main catalogue when omitted)")]


@app.command("customers")
def import_customers(file: FileArgument, valid_only: ValidOnly = False) -> None:
    """Create or update customers by external_id."""
    _run("customers", file, valid_only, None)


@app.command("receipts")
def import_receipts(file: FileArgument, valid_only: ValidOnly = False, classifier: Classifier = None) -> None:
    """Create or replace receipts by store and number, one row per receipt line."""
    _run("receipts", file, valid_only, classifier)


@app.command("products")
def import_products(file: FileArgument, valid_only: ValidOnly = False, classifier: Classifier = None) -> None:
    """Create or update products by SKU, with their categories."""
    _run("products", file, valid_only, classifier)


class RowsPerSecond(ProgressColumn):
    """Average rows per second of the phase so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} rows/s", style="progress.data.speed")


def _run(kind: str, file: Path, valid_only: bool, classifier: str | None) -> None:
    from smartcomm.imports.runner import run_file
    from smartcomm.imports.schemas import ImportOptions
    from smartcomm.kit.errors import DomainError

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RowsPerSecond(),
               TimeElapsedColumn())  # fmt: skip
    started = time.perf_counter()
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
                bar.update(tasks[phase], completed=done, total=max(total, done))

            summary = run_file(kind, file, ImportOptions(valid_only, classifier), progress=progress)
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(2) from error
    except Exception as error:  # the job row records it too; say it plainly here
        console.print(f"[red]The import stopped: {error}[/red]")
        raise typer.Exit(1) from error
    _report(summary, time.perf_counter() - started)
    if summary.status != "done":
        raise typer.Exit(1)


def _report(summary: ImportSummary, seconds: float) -> None:
    done = summary.status == "done"
    table = Table(title="Import done" if done else "Import rejected", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Rows in the file", f"{summary.total_rows:,}")
    table.add_row("Rows imported", f"{summary.imported_rows:,}")
    table.add_row("Rows with errors", f"{summary.error_rows:,}")
    table.add_row("Time", f"{seconds:,.1f} s")
    if seconds > 0 and summary.imported_rows:
        table.add_row("Speed", f"{summary.imported_rows / seconds:,.0f} rows/s")
    console.print(table, style="green" if done else "red")
    if summary.message and not done:
        console.print(summary.message, style="red")
    if summary.errors:
        many = summary.error_rows > SHOWN_ERRORS
        console.print(
            "[bold]Errors[/bold]"
            + (f" (the first {SHOWN_ERRORS} of {summary.error_rows:,} rows)" if many else "")
        )
        errors = Table("Row", "Column", "Problem")
        for error in summary.errors[:SHOWN_ERRORS]:
            errors.add_row(str(error.row), error.column, error.message)
        console.print(errors)
    if summary.job_id:
        from smartcomm.config import config

        console.print(f"Full report: {config.public_base_url}/imports/{summary.job_id}")
