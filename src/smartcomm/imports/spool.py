"""Checked records kept between the two passes of an import, so no row is parsed twice."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator, Sized
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class Spool:
    """Batches of records read back in the order they were added.

    Up to `memory_rows` records stay in memory (a small import then never serialises its rows); beyond
    that every batch goes to an anonymous temporary file in `folder`, so memory stays bounded however
    big the file.
    """

    def __init__(self, folder: Path, *, memory_rows: int = 0) -> None:
        self.folder = folder
        self.memory_rows = memory_rows
        self._held: list[Sized] = []
        self._file: IO[bytes] | None = None
        self.records = 0

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._held.clear()
        if self._file is not None:
            self._file.close()

    def add(self, records: Sized) -> None:
        if not records:
            return
        self.records += len(records)
        if self._file is None and self.records <= self.memory_rows:
            self._held.append(records)
            return
        file = self._file or self._spill()
        pickle.dump(records, file, protocol=pickle.HIGHEST_PROTOCOL)

    def batches(self) -> Iterator[Any]:
        """Every batch once, in order (those held in memory are let go as they are handed out)."""
        if self._file is None:
            while self._held:
                yield self._held.pop(0)
            return
        self._file.seek(0)
        while True:
            try:
                # Only this process wrote this file, moments earlier, from records it built itself.
                yield pickle.load(self._file)  # noqa: S301
            except EOFError:
                return

    def _spill(self) -> IO[bytes]:
        """Move to the temporary file: the batches held so far go first."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=self.folder)  # noqa: SIM115 (closed by __exit__)
        for records in self._held:
            pickle.dump(records, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._held.clear()
        return self._file
