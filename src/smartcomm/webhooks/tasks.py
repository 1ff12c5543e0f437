"""Jobs of webhooks: sending the due deliveries."""

from __future__ import annotations

from smartcomm.kit.jobs import huey
from smartcomm.webhooks.service import webhook_service


@huey.task(name="webhooks.deliver")
def deliver_webhooks() -> None:
    """Send the due webhook deliveries (after a subscriber recorded some, at a retry's time, every minute)."""
    webhook_service.deliver_due()
