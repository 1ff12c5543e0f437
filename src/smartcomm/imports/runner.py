"""Running an import of a file on this machine, start to end, in this process (CLI, benchmarks)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# An import's commit queues the segment refresh of the customers it touched, whose jobs live in
# smartcomm.segments.tasks: a process that runs imports itself loads them up front (as the worker
# does), not half a second into the commit of its first import.
import smartcomm.segments.tasks  # noqa: F401
from smartcomm.audit.actor import Actor
from smartcomm.imports.schemas import ImportOptions, ImportSummary, PhaseProgress, RowError
from smartcomm.imports.service import import_service
from smartcomm.kit.db import session_scope

__all__ = ["ImportSummary", "RowError", "import_file", "run_file"]


def import_file(
    kind: str,
    path: Path,
    *,
    valid_rows_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
    actor: Actor | None = None,
) -> ImportSummary:
    """Import a customers, receipts or products CSV file and return what happened.

    All or nothing unless `valid_rows_only`. `progress(done_rows, total_rows)` is called after every
    batch of each pass: first while rows are checked (the total is estimated from the line breaks),
    then again from zero while the checked rows are written.
    """
    phase_progress: PhaseProgress | None = None
    if progress is not None:
        report = progress

        def phase_progress(phase: str, done: int, total: int) -> None:
            report(done, total)

    return run_file(
        kind, path, ImportOptions(valid_rows_only=valid_rows_only), progress=phase_progress, actor=actor
    )


def run_file(
    kind: str,
    path: Path,
    options: ImportOptions,
    *,
    progress: PhaseProgress | None = None,
    actor: Actor | None = None,
) -> ImportSummary:
    """Record the import (it shows in the list of imports) and run it at once.

    Imports left running by a command or worker killed before are marked interrupted first: a machine
    that only ever imports from the command line has no worker to notice them.
    """
    who = actor or Actor.system("command line")
    import_service.reap()
    with session_scope() as session:
        job = import_service.register(
            session, who, kind=kind, path=Path(path), valid_rows_only=options.valid_rows_only,
            classifier=options.classifier,
        )  # fmt: skip
        job_id = job.id
    return import_service.run(job_id, options=options, actor=who, progress=progress)
