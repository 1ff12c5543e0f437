"""Events posted to the API are written in groups: concurrent requests share one commit."""

from __future__ import annotations

from smartcomm.events.schemas import EventBatchOut
from smartcomm.events.service import EventSubmission, event_service
from smartcomm.kit.group_commit import GroupCommitter

# A group closes at this many events: large enough to share a commit widely, small enough that a
# group's transaction stays short.
GROUP_EVENTS = 5000

event_writer: GroupCommitter[EventSubmission, EventBatchOut] = GroupCommitter(
    "events", event_service.record_groups, max_weight=GROUP_EVENTS
)
