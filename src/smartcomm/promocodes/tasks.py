"""Jobs of promo codes: a large generation, step by step, and the look that takes up a lost one."""

from __future__ import annotations

from huey import crontab

from smartcomm.kit.db import session_scope
from smartcomm.kit.jobs import huey, pause_point
from smartcomm.promocodes import generating


@huey.task(name="promocodes.generate")
def generate(group_id: int) -> int:
    """Add the group's running generation, one step a transaction; returns the steps taken."""
    steps = 0
    more = True
    while more:
        with session_scope() as session:
            more = generating.step(session, group_id)
        steps += 1
        pause_point("promocodes.generation_step")
    return steps


@huey.periodic_task(crontab(), name="promocodes.every_minute")
def every_minute() -> None:
    # A generation whose job was lost with a killed worker goes on from what it added.
    with session_scope(read_only=True) as session:
        lost = generating.stalled(session)
    for group_id in lost:
        generate(group_id)
