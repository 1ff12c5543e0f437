"""The spool hands the checked batches back in order, from memory or from its temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcomm.imports.spool import Spool


@pytest.mark.parametrize("memory_rows", [0, 3, 100], ids=["on-disk", "spilled-half-way", "in-memory"])
def test_batches_come_back_in_order(tmp_path: Path, memory_rows: int) -> None:
    added = [[1, 2], [], [3], [4, 5, 6]]
    with Spool(tmp_path / "spool", memory_rows=memory_rows) as spool:
        for batch in added:
            spool.add(batch)
        assert spool.records == 6
        assert list(spool.batches()) == [[1, 2], [3], [4, 5, 6]]
    # Only a spool that spilled made its folder (and its file is gone once it is closed).
    assert not (tmp_path / "spool").exists() or not any((tmp_path / "spool").iterdir())
