"""The benchmark harness's D1 path end to end on a tiny tier: demo base, import file, reference, import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench import d1_import
from bench.databases import Databases
from bench.results import Report
from bench.run import Run
from bench.tiers import Tier
from rich.console import Console

from smartcomm.demo.progress import SilentProgress

pytest.importorskip("smartcomm.imports.runner")
TINY = Tier("T", customers=40, receipts_per_customer=3, import_receipts=120, http_seconds=1)


def test_d1_measures_the_import_against_its_reference(
    backend: str, postgres_server_url: str | None, tmp_path: Path
) -> None:
    databases = Databases(tmp_path, postgres_server_url, SilentProgress())
    run = Run(TINY, seed=3, repeat=1, workdir=tmp_path, databases=databases, console=Console())
    try:
        figure = d1_import.measure(run, backend)
    finally:
        databases.close()

    assert figure.error is None
    assert len(figure.values) == len(figure.reference) == 1
    assert figure.values[0] > 0 and figure.reference[0] > 0
    rows = figure.details["rows"]
    assert 120 <= rows <= 6 * 120
    header = (tmp_path / "receipts-T-3.csv").read_text().splitlines()[0]
    assert header == ";".join(d1_import.HEADER)

    report = Report("T", 3, 1, figures=[figure])
    written = json.loads(report.write(tmp_path / "results").read_text())
    assert written["figures"][0]["id"] == "D1" and written["figures"][0]["median"] == figure.values[0]
    assert (tmp_path / "results" / "latest.json").exists()
