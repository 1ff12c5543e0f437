"""`smartcomm attribution rebuild --from YYYY-MM-DD --to YYYY-MM-DD`: attribute a period's receipts again."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Receipt attribution (see docs/attribution.md).", no_args_is_help=True)
console = Console()


@app.command("rebuild")
def rebuild(
    first: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day, YYYY-MM-DD")],
    last: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (included)")],
) -> None:
    """Attribute again every receipt purchased in the period (days of the project time zone)."""
    from smartcomm.attribution.tasks import rebuild_period

    if last.date() < first.date():
        console.print("[red]--to: the last day comes before the first (--from)[/red]")
        raise typer.Exit(2)
    with console.status("Attributing receipts…") as status:
        done = rebuild_period(
            first.date(), last.date(), lambda n: status.update(f"Attributed {n:,} receipts…")
        )
    console.print(
        f"[green]Attributed {done:,} receipts purchased from {_day(first)} to {_day(last)}.[/green]"
    )


def _day(value: datetime) -> date:
    return value.date()
