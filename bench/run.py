"""What every figure of one harness run shares: the tier, the seed, repetitions, databases, files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bench.databases import Databases
from bench.tiers import Tier


class BenchError(Exception):
    """A measurement that cannot be trusted (wrong counts, failed requests): reported, never hidden."""


@dataclass
class Run:
    tier: Tier
    seed: int
    repeat: int
    workdir: Path
    databases: Databases
    console: Console
    redis_url: str | None = None
    files: dict[Path, int] = field(default_factory=dict)  # files written once per run -> their rows
