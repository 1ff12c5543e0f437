"""Segment triggers: a customer entered or left a segment; a customer was added to or removed from a
target audience (a "user segment").

Segments keep a stream of entries and exits (`segment_events`); every build and every per-customer refresh
that changed a segment publishes one `segment.changed` naming the ids of the stream rows it wrote, which the
trigger reads (one query per segment and batch, through the index on segment and id). Each stream row enters
its customer once: a few hundred rows are read and entered one by one, a larger stretch (a segment's
first build, 300,000 new members) with one INSERT … SELECT. Audiences publish `audience.changed` with the
customers added and removed by an import, the API, the back office or a campaign (a large change in parts
of at most 5,000 customers); each such event enters each of its customers once. An event that does not
list its customers (`many_customers`, written before changes were published in parts) enters nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Select
from sqlalchemy.orm import Session

from smartcomm.campaigns.nodes import Settings, register
from smartcomm.campaigns.triggers import lookups
from smartcomm.campaigns.triggers.base import Entry, Trigger
from smartcomm.campaigns.triggers.common import exists_problem, moment
from smartcomm.kit.i18n import lazy
from smartcomm.kit.outbox import Event
from smartcomm.kit.types import RowId
from smartcomm.models import Audience, Segment

SEGMENT_CHANGED = "segment.changed"
SET_BASED_FROM = 500  # stream rows in a stretch from which its customers enter in one statement
AUDIENCE_CHANGED = "audience.changed"


class SegmentSettings(Settings):
    segment_id: RowId
    change: Literal["entered", "exited"] = Field(default="entered", title=lazy("Change"))


@register
class SegmentChanged(Trigger):
    name = "trigger.segment_changed"
    family = "segments"
    label = lazy("Segment changed")
    description = lazy("A customer entered the chosen segment, or left it")
    icon = "ti-chart-pie"
    settings_model = SegmentSettings
    listens = frozenset({SEGMENT_CHANGED})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        message = lazy("The segment does not exist")
        return exists_problem(context.session, Segment, settings.segment_id, "segment_id", message)

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        entries = []
        for first, last in _ranges(events, settings.segment_id, settings.change):
            if last - first >= SET_BASED_FROM:
                continue  # see selections
            for row in lookups.segment_stream(session, settings.segment_id, first, last, settings.change):
                context = {
                    "segment_id": settings.segment_id,
                    "change": settings.change,
                    "changed_at": moment(row.occurred_at),
                }
                entries.append(Entry(row.customer_id, f"segment_event:{row.id}", context))
        return entries

    def selections(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Select[Any]]:
        return [
            lookups.segment_stream_entries(settings.segment_id, first, last, settings.change)
            for first, last in _ranges(events, settings.segment_id, settings.change)
            if last - first >= SET_BASED_FROM
        ]


def _ranges(events: Sequence[Event], segment_id: int, change: str) -> list[tuple[int, int]]:
    """The stream's id ranges the batch names for the segment, merged where they touch or overlap."""
    ranges = sorted(
        (int(event.payload["first_event_id"]), int(event.payload["last_event_id"]))
        for event in events
        if event.payload.get("segment_id") == segment_id and event.payload.get(change, 1)
    )
    merged: list[tuple[int, int]] = []
    for first, last in ranges:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


class AudienceSettings(Settings):
    audience_id: RowId
    change: Literal["added", "removed"] = Field(default="added", title=lazy("Change"))


@register
class AudienceChanged(Trigger):
    name = "trigger.audience_changed"
    family = "segments"
    label = lazy("User segment change")
    description = lazy("A customer was added to the chosen target audience, or removed from it")
    icon = "ti-users-group"
    settings_model = AudienceSettings
    listens = frozenset({AUDIENCE_CHANGED})

    def check(self, settings: Any, context: Any) -> list[tuple[str, str]]:
        message = lazy("The target audience does not exist")
        return exists_problem(context.session, Audience, settings.audience_id, "audience_id", message)

    def entries(self, session: Session, settings: Any, events: Sequence[Event]) -> list[Entry]:
        context = {"audience_id": settings.audience_id, "change": settings.change}
        return [
            Entry(
                int(customer_id), f"audience:{event.id}", context | {"changed_at": moment(event.occurred_at)}
            )
            for event in events
            if event.payload.get("audience_id") == settings.audience_id
            for customer_id in event.payload.get(settings.change) or ()
        ]
