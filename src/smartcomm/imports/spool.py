"""Checked records kept on disk between the two passes of an import, so no row is parsed twice."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class Spool:
    """Batches of records written to an anonymous temporary file and read back in the same order."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (closed by __exit__)
        self.records = 0

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._file.close()

    def add(self, records: list[Any]) -> None:
        if records:
            pickle.dump(records, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self.records += len(records)

    def batches(self) -> Iterator[list[Any]]:
        self._file.seek(0)
        while True:
            try:
                # Only this process wrote this file, moments earlier, from records it built itself.
                yield pickle.load(self._file)  # noqa: S301
            except EOFError:
                return

    def records_in_order(self) -> Iterator[Any]:
        for batch in self.batches():
            yield from batch
