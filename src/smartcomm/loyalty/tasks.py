"""Jobs of the loyalty connector: sending the due accrual requests to the loyalty system."""

from __future__ import annotations

from smartcomm.kit.jobs import huey
from smartcomm.loyalty.sending import loyalty_sender


@huey.task(name="loyalty.deliver")
def deliver_requests() -> None:
    """Send the due accrual requests (after the commit that recorded one, at a retry's time, every minute)."""
    loyalty_sender.deliver_due()
