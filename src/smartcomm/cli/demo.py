"""`smartcomm demo`: load a realistic demo base (customers, receipts, behaviour) into an empty database."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBars
from rich.table import Table

from smartcomm.audit.actor import Actor

if TYPE_CHECKING:  # the generator (and Faker) load only when demo data is made
    from smartcomm.demo import DemoOptions, DemoSummary

DEMO_CUSTOMERS = 10_000
DEMO_SEED = 1
console = Console()


class ProgressBars:
    """One Rich progress bar per table being written."""

    def __init__(self, bars: RichBars) -> None:
        self.bars = bars
        self.tasks: dict[str, TaskID] = {}

    def begin(self, task: str, expected: int | None) -> None:
        self.tasks[task] = self.bars.add_task(task.replace("_", " "), total=expected)

    def advance(self, task: str, rows: int) -> None:
        self.bars.advance(self.tasks[task], rows)

    def end(self, task: str) -> None:
        done = self.bars.tasks[self.tasks[task]].completed
        self.bars.update(self.tasks[task], total=done, completed=done)


def progress_bars() -> RichBars:
    return RichBars(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def load(options: DemoOptions, actor: Actor) -> DemoSummary:
    """Generate demo data with a commit per block of customers, drawing progress bars.

    An interrupted load keeps the blocks it committed (its indexes are rebuilt before it stops); as
    the base then has customers, a rerun refuses it instead of adding duplicates.
    """
    from smartcomm.demo import generate
    from smartcomm.kit.db import pinned_session

    with progress_bars() as bars, pinned_session() as session:
        return generate(session, options, ProgressBars(bars), actor, checkpoint=session.commit)


def load_if_empty(customers: int = DEMO_CUSTOMERS, seed: int = DEMO_SEED) -> DemoSummary | None:
    """The first `smartcomm run` loads a demo base; once customers exist nothing is added."""
    from smartcomm.demo import DemoOptions
    from smartcomm.demo.communications import add_loyalty_tools
    from smartcomm.demo.repository import DemoRepository
    from smartcomm.demo.starters import add_starters
    from smartcomm.kit.db import session_scope

    with session_scope(read_only=True) as session:
        if DemoRepository(session).customer_count():
            return None
    console.print(f"Loading a demo base of {customers:,} customers (seed {seed}) …")
    actor = Actor.system("first run")
    summary = load(DemoOptions(customers=customers, seed=seed), actor)
    console.print(f"[green]Demo data loaded in {summary.seconds:.1f} s.[/green]")
    with session_scope() as session:
        # Committed first: the check of a template that names a promo code group or a poll renders it,
        # and the macros read groups and polls in a session of their own.
        add_loyalty_tools(session, actor)
    with session_scope() as session:
        starters = add_starters(session, actor)
    console.print(
        f"{starters.segments} example segments (built by the worker), a first RFM calculation, "
        f"{starters.templates} example templates, {starters.messages} sample messages "
        f"(sent to the sandbox by the worker), {starters.mailings} mailings of the last three months and "
        f"{starters.campaigns} trigger campaigns (see Campaigns)."
    )
    return summary


def demo(
    customers: Annotated[int, typer.Option(min=1, help="Number of customers")] = DEMO_CUSTOMERS,
    seed: Annotated[int, typer.Option(help="The same seed always gives the same data")] = DEMO_SEED,
    receipts_per_customer: Annotated[
        float, typer.Option(min=1.0, help="Average receipts per customer over the two years")
    ] = 10.0,
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="History ends the day before (default: today)"),
    ] = None,
) -> None:
    """Load realistic demo data (stores, catalogue, customers, receipts, behaviour) into an empty base."""
    from smartcomm.demo import DemoOptions, NotEmpty

    day: date | None = as_of.date() if as_of else None
    options = DemoOptions(
        customers=customers, seed=seed, receipts_per_customer=receipts_per_customer, as_of=day
    )
    try:
        summary = load(options, Actor.system("command line"))
    except NotEmpty as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    console.print(_summary_table(summary))


def _summary_table(summary: DemoSummary) -> Table:
    stages = ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in summary.stages.items())
    table = Table(title=f"Demo data loaded in {summary.seconds:.1f} s", caption=stages or None)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.counts.items():
        table.add_row(name.replace("_", " "), f"{count:,}")
    return table
