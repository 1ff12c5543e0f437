"""Figures of a run: repeated measurements, their median and spread, the reference measured beside
them, the target and whether it is met; printed as one table and written as JSON."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Target:
    value: float
    at_least: bool  # True: higher is better (throughput); False: lower is better (latency)
    text: str

    def met(self, measured: float) -> bool:
        return measured >= self.value if self.at_least else measured <= self.value


@dataclass
class Figure:
    id: str
    title: str
    backend: str
    unit: str
    target: Target | None
    variant: str = ""
    values: list[float] = field(default_factory=list)
    reference_title: str | None = None
    reference: list[float] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def reference_median(self) -> float | None:
        return statistics.median(self.reference) if self.reference else None

    @property
    def ratio(self) -> float | None:
        """The figure over its reference (both medians): 0.5 means half the reference's speed."""
        if self.median is None or not self.reference_median:
            return None
        return self.median / self.reference_median

    @property
    def met(self) -> bool | None:
        if self.target is None or self.median is None:
            return None
        return self.target.met(self.median)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "backend": self.backend,
            "variant": self.variant,
            "unit": self.unit,
            "values": self.values,
            "median": self.median,
            "min": min(self.values) if self.values else None,
            "max": max(self.values) if self.values else None,
            "reference": None
            if self.reference_title is None
            else {
                "title": self.reference_title,
                "values": self.reference,
                "median": self.reference_median,
            },
            "ratio": self.ratio,
            "target": None
            if self.target is None
            else {
                "value": self.target.value,
                "at_least": self.target.at_least,
                "text": self.target.text,
            },
            "met": self.met,
            "details": self.details,
            "error": self.error,
        }


@dataclass
class Report:
    tier: str
    seed: int
    repeat: int
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    figures: list[Figure] = field(default_factory=list)
    setup: list[dict[str, Any]] = field(default_factory=list)
    load_at_start: list[float] | None = field(default_factory=lambda: _load_average())

    def as_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "seed": self.seed,
            "repeat": self.repeat,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine() | {"load_average_at_start": self.load_at_start},
            "setup": self.setup,
            "figures": [f.as_json() for f in self.figures],
        }

    def write(self, directory: Path = RESULTS_DIR) -> Path:
        """bench/results/<UTC timestamp>-<tier>.json, and the same as latest.json."""
        directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n"
        path = directory / f"{self.started_at.strftime('%Y%m%dT%H%M%SZ')}-{self.tier}.json"
        path.write_text(text)
        (directory / "latest.json").write_text(text)
        return path

    def print(self, console: Console) -> None:
        table = Table(
            title=f"smartcomm benchmarks, tier {self.tier}, seed {self.seed}, {self.repeat} repetitions"
        )
        for column, justify in (
            ("figure", "left"),
            ("backend", "left"),
            ("median", "right"),
            ("min–max", "right"),
            ("reference (median)", "right"),
            ("ratio", "right"),
            ("target", "left"),
            ("met", "center"),
        ):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for figure in self.figures:
            table.add_row(*_cells(figure))
        console.print(table)


def _cells(figure: Figure) -> list[str]:
    name = f"{figure.id} {figure.title}" + (f" ({figure.variant})" if figure.variant else "")
    if figure.error or figure.median is None:
        return [
            name,
            figure.backend,
            "—",
            "—",
            "—",
            "—",
            figure.target.text if figure.target else "—",
            f"[red]{(figure.error or 'no result')[:80]}[/red]",
        ]
    met = {True: "[green]met[/green]", False: "[red]not met[/red]", None: "—"}[figure.met]
    rejected = len(figure.details.get("rejected_runs", []))
    if rejected:
        met += f" ({rejected} run{'s' if rejected > 1 else ''} rejected)"
    reference = "—"
    if figure.reference_median is not None:
        reference = f"{_number(figure.reference_median)} {figure.unit} ({figure.reference_title})"
    return [
        name,
        figure.backend,
        f"{_number(figure.median)} {figure.unit}",
        f"{_number(min(figure.values))}–{_number(max(figure.values))}",
        reference,
        f"{figure.ratio:.2f}" if figure.ratio is not None else "—",
        figure.target.text if figure.target else "—",
        met,
    ]


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.0f}"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average": _load_average(),
    }


def _load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: how busy the shared machine was."""
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None
