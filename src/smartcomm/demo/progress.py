"""How a long bulk job reports its progress, table by table (the CLI draws Rich progress bars)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def begin(self, task: str, expected: int | None) -> None:
        """A table (or a step) starts; `expected` rows when known in advance, else None."""

    def advance(self, task: str, rows: int) -> None:
        """`rows` more rows of the task are done."""

    def end(self, task: str) -> None:
        """The task is complete."""


class SilentProgress:
    """Reports nothing (tests, library use)."""

    def begin(self, task: str, expected: int | None) -> None:
        return None

    def advance(self, task: str, rows: int) -> None:
        return None

    def end(self, task: str) -> None:
        return None
