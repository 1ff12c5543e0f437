"""Command line of the harness: which tier, figures, backends and how many repetitions."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from bench import (
    a1_dashboard,
    c1_campaigns,
    d1_import,
    http_intake,
    m1_mailing,
    m2_snapshot,
    s1_rfm,
    s2_preview,
    s3_build,
    s4_receipt,
    t1_render,
    t2_mime,
    w1_tracking,
)
from bench.databases import Databases
from bench.results import Figure, Report
from bench.run import BenchError, Run
from bench.tiers import TIERS
from bench.workcopy import work_copy
from smartcomm.cli.demo import ProgressBars, progress_bars

FIGURES = ("D1", "D2", "D3", "S1", "S2", "S3", "S4", "A1", "T1", "T2", "W1", "M1", "M2", "C1", "C2")
# The S figures share one working copy per backend, measured in this order (see bench/workcopy.py).
ON_WORK_COPY = {
    "S1": s1_rfm.measure,
    "S2": s2_preview.measure,
    "S3": s3_build.measure,
    # Reads what S1–S3 leave and stores only its own snapshots; before S4 adds receipts.
    "A1": a1_dashboard.measure,
    "S4": s4_receipt.measure,
}
BACKENDS = {"sqlite": ("sqlite",), "postgres": ("postgres",), "both": ("sqlite", "postgres")}
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="smartcomm performance figures")
    parser.add_argument("--tier", choices=sorted(TIERS), default="XS", help="data tier (S is the reference)")
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated figures, e.g. D1,S2")
    parser.add_argument(
        "--repeat", type=int, default=5, help="repetitions per figure (the median is reported)"
    )
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="both")
    parser.add_argument("--seed", type=int, default=1, help="seed of the demo data")
    args = parser.parse_args(argv)
    args.only = [code.strip().upper() for code in args.only.split(",") if code.strip()]
    unknown = sorted(set(args.only) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figures: {', '.join(unknown)} (known: {', '.join(FIGURES)})")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    report = Report(args.tier, args.seed, args.repeat)
    workdir = Path(tempfile.mkdtemp(prefix="smartcomm-bench-"))
    backends = BACKENDS[args.backend]
    try:
        with servers("postgres" in backends) as (pg_url, redis_url), progress_bars() as bars:
            databases = Databases(workdir, pg_url, ProgressBars(bars))
            run = Run(TIERS[args.tier], args.seed, args.repeat, workdir, databases, console, redis_url)
            try:
                if "T1" in args.only:  # no database: measured once per run
                    report.figures.extend(t1_render.measure(run))
                if "T2" in args.only:  # no database: measured once per run
                    report.figures.extend(t2_mime.measure(run))
                for backend in backends:
                    report.figures.extend(measure_backend(run, backend, args.only))
                    databases.release(backend)
            finally:
                report.setup = [setup_entry(base) for base in databases.generated]
                databases.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report.print(console)
    path = report.write()
    console.print(
        f"Results written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )
    return 0


def measure_backend(run: Run, backend: str, only: list[str]) -> list[Figure]:
    figures: list[Figure] = []
    if "D1" in only:
        figures.append(_guarded(lambda: d1_import.measure(run, backend), "D1", backend))
    wanted = [code for code in ("D2", "D3") if code in only]
    if wanted:
        figures.extend(http_intake.measure(run, backend, wanted))
    if "W1" in only:
        figures.extend(w1_tracking.measure(run, backend))
    if "M1" in only:  # a database of its own, with the tier's recipients
        figures.extend(m1_mailing.measure(run, backend))
    if "M2" in only:
        figures.extend(m2_snapshot.measure(run, backend))
    campaigns = [code for code in ("C1", "C2") if code in only]
    if campaigns:  # databases of their own, with the tier's customers (C2: 300 k at least)
        figures.extend(c1_campaigns.measure(run, backend, campaigns))
    on_copy = [code for code in ON_WORK_COPY if code in only]
    if on_copy:
        with work_copy(run, backend) as copy:
            for code in on_copy:
                figures.extend(ON_WORK_COPY[code](run, copy))
    return figures


def _guarded(measure: object, code: str, backend: str) -> Figure:
    """A figure whose measurement failed still appears in the table, with the reason."""
    assert callable(measure)
    try:
        figure: Figure = measure()
    except BenchError as error:
        figure = Figure(
            code, "bulk receipt import", backend, "rows/s", d1_import.TARGETS[backend], error=str(error)
        )
    return figure


def setup_entry(base: object) -> dict[str, object]:
    from bench.databases import BaseDatabase

    assert isinstance(base, BaseDatabase)
    return {
        "what": "demo data",
        "backend": base.backend,
        "tier": base.tier.name,
        "seed": base.seed,
        "seconds": round(base.seconds, 1),
        "rows": base.counts,
    }


@contextlib.contextmanager
def servers(need_postgres: bool) -> Iterator[tuple[str | None, str | None]]:
    """The throwaway PostgreSQL and Redis of `make bench`, or ones started here when run directly."""
    pg_url, redis_url = os.environ.get("SMARTCOMM_TEST_PG_URL"), os.environ.get("SMARTCOMM_TEST_REDIS_URL")
    if pg_url or not need_postgres:
        yield pg_url, redis_url
        return
    sys.path.insert(0, str(SCRIPTS))
    import services  # type: ignore[import-not-found]

    with services.postgres() as started:
        yield started, redis_url
