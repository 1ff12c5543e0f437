"""The reaper: jobs left running by a process that died are marked interrupted, or built again.

Run when a worker starts and every minute (`worker.registry`); the command-line import runs the
imports' part itself. Which rows are looked at and when an owner counts as gone: `kit.leases`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from smartcomm.audiences.importer import audience_import_service
from smartcomm.delivery import dispatch as message_dispatch
from smartcomm.imports.service import import_service
from smartcomm.rfm import tasks as rfm_tasks
from smartcomm.segments import build_jobs

logger = logging.getLogger(__name__)

REAPERS: dict[str, Callable[[], list[int]]] = {
    "import": import_service.reap,
    "audience import": audience_import_service.reap,
    "segment build": build_jobs.reap,  # each also queued again
    "RFM calculation": rfm_tasks.reap,
    "message dispatch": message_dispatch.reap,  # never handed over: sent again; handed over: never
}


def reap_interrupted_jobs() -> dict[str, list[int]]:
    """Every kind of job, each on its own: one that cannot be reaped now (a lock) waits for the next round."""
    reaped: dict[str, list[int]] = {}
    for kind, reap in REAPERS.items():
        try:
            reaped[kind] = reap()
        except Exception:
            logger.exception("the reaper could not look at %s jobs; it tries again in a minute", kind)
            continue
        if reaped[kind]:
            logger.warning("%s jobs interrupted with their process: %s", kind, reaped[kind])
    return reaped
