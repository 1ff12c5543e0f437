"""Jobs of imports."""

from __future__ import annotations

import logging

from smartcomm.imports.service import import_service
from smartcomm.kit.jobs import huey
from smartcomm.kit.leases import LeaseLost

logger = logging.getLogger(__name__)


@huey.task(name="imports.run")
def run_import(job_id: int) -> str:
    """Run a queued import; an import that already ran (or is running elsewhere) is left alone."""
    try:
        return import_service.run(job_id).status
    except LeaseLost:
        # Taken for interrupted while it ran (its row says so); it stopped without writing more.
        logger.warning("import %s stopped: it was marked interrupted", job_id)
        return "interrupted"
    except Exception:
        # The job row already says "failed" with the reason; retrying would fail the same way.
        logger.exception("import %s failed", job_id)
        return "failed"
