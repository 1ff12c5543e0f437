"""The T1 benchmark's figure is measured and checked (the sandbox and plain Jinja2 agree)."""

from __future__ import annotations

from bench import t1_render
from bench.run import Run
from rich.console import Console


def test_t1_measures_the_sandboxed_render_against_plain_jinja(monkeypatch) -> None:
    monkeypatch.setattr(t1_render, "RENDERS", 300)
    run = Run.__new__(Run)
    run.repeat, run.console = 1, Console(quiet=True)
    figure = t1_render.measure(run)[0]
    assert figure.error is None
    assert len(figure.values) == len(figure.reference) == 1
    assert figure.details["rendered_html_bytes"] > 8_000
