"""Poll triggers: a customer completed the chosen poll.

From `poll.answered`, which the poll's answering publishes only for a complete response (every required
question of those shown answered; one response per customer and poll). The responses are read in one query,
so the context carries the answers (question id → option id(s) or text) for filters and templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.triggers import lookups
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.campaigns.triggers.common import exists_problem, moment
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.kit.types import RowId
from smartcomm.models import Poll

POLL_ANSWERED = "poll.answered"


class PollSettings(Settings):
    poll_id: RowId


@register
class PollCompleted(Trigger):
    name = "trigger.poll_completed"
    family = "polls"
    label = lazy("Poll completed")
    description = lazy("A customer answered the chosen poll to the end")
    icon = "ti-checklist"
    settings_model = PollSettings
    listens = frozenset({POLL_ANSWERED})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        return exists_problem(
            context.session, Poll, settings.poll_id, "poll_id", lazy("The poll does not exist")
        )

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        ids = [
            int(event.payload["response_id"])
            for event in events
            if event.payload.get("poll_id") == settings.poll_id and event.payload.get("response_id")
        ]
        return [
            Entry(row.customer_id, f"poll_response:{row.id}", _context(settings.poll_id, row))
            for row in (lookups.poll_responses(session, ids, settings.poll_id) if ids else [])
        ]


def _context(poll_id: int, row: Any) -> dict[str, Any]:
    return {
        "poll_id": poll_id,
        "response_id": row.id,
        "completed_at": moment(row.completed_at),
        "answers": dict(row.answers or {}),
    }
