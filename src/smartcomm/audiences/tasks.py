"""Jobs of target audiences."""

from __future__ import annotations

import logging

from smartcomm.audiences.importer import audience_import_service
from smartcomm.kit.jobs import huey
from smartcomm.kit.leases import LeaseLost

logger = logging.getLogger(__name__)


@huey.task(name="audiences.import")
def run_audience_import(import_id: int) -> str:
    """Run a queued audience import; one that already ran (or runs elsewhere) is left alone."""
    try:
        return audience_import_service.run(import_id)
    except LeaseLost:
        # Taken for interrupted while it ran (its record says so); it stopped without writing anything.
        logger.warning("audience import %s stopped: it was marked interrupted", import_id)
        return "interrupted"
    except Exception:
        # The import's record already says "failed" with the reason; a retry would fail the same way.
        logger.exception("audience import %s failed", import_id)
        return "failed"
