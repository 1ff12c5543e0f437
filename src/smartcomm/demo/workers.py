"""Blocks of customers in order, made ahead by worker processes while the loader writes.

Making rows is pure Python and the database writes on another core, so the blocks are made in a
process pool (spawned, so nothing of the parent's connections or threads is inherited) a few blocks
ahead of the writer, and handed over in order. Each block is the same whichever process made it.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from smartcomm.demo.world import Block, Makers, World

AHEAD_PER_PROCESS = 2  # blocks in flight per worker: enough to keep it busy, little memory held

_makers: Makers | None = None  # the generators of a worker process


def blocks(world: World, customers: int, block_size: int, processes: int) -> Iterator[Block]:
    """The blocks of customers 0 … customers - 1, in order; `processes` 0 makes them in this process."""
    spans = [(first, min(block_size, customers - first)) for first in range(0, customers, block_size)]
    if processes <= 0 or len(spans) < 2:
        makers = Makers(world)
        for first, size in spans:
            yield makers.block(first, size)
        return
    yield from _in_pool(world, spans, processes)


def _in_pool(world: World, spans: list[tuple[int, int]], processes: int) -> Iterator[Block]:
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_start, initargs=(world,))
    waiting = iter(spans)
    pending: deque[Future[Block]] = deque()
    try:
        for first, size in waiting:
            pending.append(pool.submit(_make, first, size))
            if len(pending) >= AHEAD_PER_PROCESS * processes:
                break
        while pending:
            block = pending.popleft().result()
            for first, size in waiting:
                pending.append(pool.submit(_make, first, size))
                break
            yield block
    finally:  # the writer stopped early (an error, Ctrl-C): drop the blocks not started
        pool.shutdown(wait=True, cancel_futures=True)


def _start(world: World) -> None:
    global _makers
    _makers = Makers(world)


def _make(first: int, size: int) -> Block:
    assert _makers is not None, "the pool's initializer builds the generators"
    return _makers.block(first, size)
