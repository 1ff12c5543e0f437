"""Rules of target audiences: names, members by hand or from a segment, and the delete guard."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audiences.repository import AudienceRepository, current_members_of_segment
from smartcomm.audiences.schemas import (
    AudienceIn,
    AudienceUpdate,
    MemberRow,
    MembersAddedOut,
    MembersIn,
    MembersRemovedOut,
    SegmentChange,
)
from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service, diff
from smartcomm.customers.repository import chunks
from smartcomm.kit.errors import Conflict, FieldError, NotFound
from smartcomm.kit.outbox import CUSTOMER_IDS_LIMIT, publish
from smartcomm.kit.pagination import Page, PageParams
from smartcomm.kit.time import utcnow
from smartcomm.models import Audience, Customer, Segment
from smartcomm.segments.rules import SegmentRules, label_key
from smartcomm.segments.service import segment_service

OBJECT_TYPE = "audience"
AUDIENCE_METRIC = "audiences.member"
AUDIENCE_CHANGED = "audience.changed"


def audiences_in_rules(rules: dict[str, Any]) -> set[int]:
    """Ids of the audiences a segment's rule tree tests membership of."""
    found: set[int] = set()
    for _path, condition in SegmentRules.model_validate(rules).conditions():
        audience_id = label_key(condition.params.get("audience"))  # also the id of {"name": …, "id": …}
        if condition.metric == AUDIENCE_METRIC and audience_id is not None and audience_id.isdigit():
            found.add(int(audience_id))
    return found


def announce_change(
    session: Session, audience_id: int, added: Collection[int] = (), removed: Collection[int] = ()
) -> None:
    """`audience.changed` for a change of an audience's members (campaign triggers enter on it): the
    customers added and removed, in parts of at most the outbox's limit of listed customers, so that a
    change of any size names each of its customers (300,000 added at once are 60 events)."""
    changes = [(customer_id, "added") for customer_id in sorted(added)]
    changes += [(customer_id, "removed") for customer_id in sorted(removed)]
    for start in range(0, len(changes), CUSTOMER_IDS_LIMIT):
        part = changes[start : start + CUSTOMER_IDS_LIMIT]
        payload: dict[str, Any] = {
            "audience_id": audience_id,
            "added": [customer_id for customer_id, change in part if change == "added"],
            "removed": [customer_id for customer_id, change in part if change == "removed"],
        }
        publish(
            session, AUDIENCE_CHANGED, customer_ids=[customer_id for customer_id, _ in part], payload=payload
        )


class AudienceService:
    def get(self, session: Session, audience_id: int) -> Audience:
        audience = AudienceRepository(session).get(audience_id)
        if audience is None:
            raise NotFound("Audience", audience_id)
        return audience

    def search(self, session: Session, params: PageParams, query: str = "") -> Page[Audience]:
        """Audiences ordered by name, optionally those whose name contains `query`."""
        return AudienceRepository(session).search(params, query)

    def find_by_name(self, session: Session, name: str) -> Audience | None:
        """The audience with this name, compared without regard to case."""
        wanted = name.strip().casefold()
        for audience_id, existing in AudienceRepository(session).names():
            if existing.casefold() == wanted:
                return self.get(session, audience_id)
        return None

    def create(
        self, session: Session, actor: Actor, data: AudienceIn, *, source: str | None = None
    ) -> Audience:
        """Create an empty audience with a name no other audience has."""
        self._check_name_free(session, data.name, None)
        audience = Audience(name=data.name, description=data.description, created_by_id=actor.user_id)
        AudienceRepository(session).add(audience)
        after: dict[str, Any] = {"name": audience.name, "description": audience.description}
        if source:
            after["source"] = source
        self._audit(session, actor, audience, "create", diff({}, after))
        return audience

    def update(self, session: Session, actor: Actor, audience_id: int, data: AudienceUpdate) -> Audience:
        """Rename an audience or change its description."""
        audience = self.get(session, audience_id)
        before = {"name": audience.name, "description": audience.description}
        if data.name is not None and data.name != audience.name:
            self._check_name_free(session, data.name, audience.id)
            audience.name = data.name
        if "description" in data.model_fields_set:
            audience.description = data.description or None
        session.flush()
        changes = diff(before, {"name": audience.name, "description": audience.description})
        if changes:
            self._audit(session, actor, audience, "update", changes)
        return audience

    def delete(self, session: Session, actor: Actor, audience_id: int) -> None:
        """Delete an audience that no segment's conditions rely on."""
        audience = self.get(session, audience_id)
        users = self.segments_using(session, audience_id)
        if users:
            names = ", ".join(segment.name for segment in users)
            raise Conflict(
                f"The audience is used in the conditions of: {names}",
                [FieldError("audience", f"used by the segments: {names}", "in_use")],
            )
        self._audit(session, actor, audience, "delete", diff({"name": audience.name}, {}))
        AudienceRepository(session).delete(audience)

    def segments_using(self, session: Session, audience_id: int) -> list[Segment]:
        """Segments whose rules contain the condition "in the target audience" with this audience."""
        segments = AudienceRepository(session).all_segments()
        return [s for s in segments if audience_id in audiences_in_rules(s.rules)]

    def segments(self, session: Session) -> list[Segment]:
        """Every segment, by name (the choices for adding or removing a segment's members)."""
        return AudienceRepository(session).all_segments()

    # --- members --------------------------------------------------------------------------------------

    def members(
        self,
        session: Session,
        audience_id: int,
        params: PageParams,
        query: str = "",
        default_country: str = "RU",
    ) -> Page[MemberRow]:
        """Members by name, with their contacts and the date they were added."""
        return AudienceRepository(session).members(audience_id, params, query.strip(), default_country)

    def audiences_of(self, session: Session, customer_id: int) -> list[tuple[Audience, Any]]:
        """The audiences a customer is in, with the date they were added to each."""
        return AudienceRepository(session).audiences_of(customer_id)

    def add_segment(self, session: Session, actor: Actor, audience_id: int, segment_id: int) -> SegmentChange:
        """Add every current member of a segment who is not in the audience yet (one INSERT … SELECT)."""
        audience, segment = self.get(session, audience_id), segment_service.get(session, segment_id)
        repository = AudienceRepository(session)
        ids = repository.add_selected_ids(audience.id, current_members_of_segment(segment.id), utcnow())
        announce_change(session, audience.id, added=ids)
        added = len(ids)
        count = self._recount(session, audience)
        self._audit_members(
            session,
            actor,
            audience,
            "add_members",
            {"segment": segment.name, "added": added, "member_count": count},
        )
        return SegmentChange(added, count)

    def remove_segment(
        self, session: Session, actor: Actor, audience_id: int, segment_id: int
    ) -> SegmentChange:
        """Remove every current member of a segment from the audience (one DELETE)."""
        audience, segment = self.get(session, audience_id), segment_service.get(session, segment_id)
        ids = AudienceRepository(session).remove_selected_ids(
            audience.id, current_members_of_segment(segment.id)
        )
        announce_change(session, audience.id, removed=ids)
        removed = len(ids)
        count = self._recount(session, audience)
        self._audit_members(
            session,
            actor,
            audience,
            "remove_members",
            {"segment": segment.name, "removed": removed, "member_count": count},
        )
        return SegmentChange(removed, count)

    def add_members(
        self, session: Session, actor: Actor, audience_id: int, data: MembersIn
    ) -> MembersAddedOut:
        """Add customers named by external or platform ids; unknown ids are reported, not added."""
        audience, repository = self.get(session, audience_id), AudienceRepository(session)
        found, unknown = self._resolve(session, data)
        ids: list[int] = []
        now = utcnow()
        for part in chunks(sorted(found)):
            chosen = select(Customer.id).where(Customer.id.in_(part))
            ids += repository.add_selected_ids(audience.id, chosen, now)
        announce_change(session, audience.id, added=ids)
        added = len(ids)
        count = self._recount(session, audience)
        counts = {
            "added": added,
            "already_members": len(found) - added,
            "unknown": len(unknown),
            "member_count": count,
        }
        self._audit_members(session, actor, audience, "add_members", counts)
        return MembersAddedOut(
            added=added, already_members=len(found) - added, unknown=unknown, member_count=count
        )

    def remove_members(
        self, session: Session, actor: Actor, audience_id: int, data: MembersIn
    ) -> MembersRemovedOut:
        """Remove customers named by external or platform ids; ids of no customer are reported."""
        audience, repository = self.get(session, audience_id), AudienceRepository(session)
        found, unknown = self._resolve(session, data)
        ids: list[int] = []
        for part in chunks(sorted(found)):
            ids += repository.remove_selected_ids(
                audience.id, select(Customer.id).where(Customer.id.in_(part))
            )
        announce_change(session, audience.id, removed=ids)
        removed = len(ids)
        count = self._recount(session, audience)
        counts = {
            "removed": removed,
            "not_members": len(found) - removed,
            "unknown": len(unknown),
            "member_count": count,
        }
        self._audit_members(session, actor, audience, "remove_members", counts)
        return MembersRemovedOut(
            removed=removed, not_members=len(found) - removed, unknown=unknown, member_count=count
        )

    def remove_customer(self, session: Session, actor: Actor, audience_id: int, customer_id: int) -> int:
        """Take one customer out of the audience; returns how many were removed (0 or 1)."""
        result = self.remove_members(session, actor, audience_id, MembersIn(customer_ids=[customer_id]))
        return result.removed

    def recount(self, session: Session, audience_ids: Sequence[int]) -> None:
        """Store the exact member count of these audiences."""
        AudienceRepository(session).recount(audience_ids)

    # --- helpers --------------------------------------------------------------------------------------

    def _resolve(self, session: Session, data: MembersIn) -> tuple[set[int], list[str | int]]:
        """Customer ids found for the ids sent, and the ids sent that name nobody (in the order sent)."""
        by_external_id = data.external_ids is not None
        sent: list[str | int] = [*((data.external_ids if by_external_id else data.customer_ids) or [])]
        wanted = list(dict.fromkeys(sent))
        column = Customer.external_id if by_external_id else Customer.id
        found = AudienceRepository(session).customers_by(column, wanted)
        return {id_ for ids in found.values() for id_ in ids}, [
            value for value in wanted if value not in found
        ]

    def _recount(self, session: Session, audience: Audience) -> int:
        repository = AudienceRepository(session)
        repository.recount([audience.id])
        return repository.member_count(audience.id)

    def _check_name_free(self, session: Session, name: str, audience_id: int | None) -> None:
        existing = self.find_by_name(session, name)
        if existing is not None and existing.id != audience_id:
            raise Conflict(
                f"An audience named {existing.name!r} already exists",
                [FieldError("name", "an audience with this name already exists", "taken")],
            )

    def _audit(self, session: Session, actor: Actor, audience: Audience, action: str, changes: Any) -> None:
        audit_service.record(
            session,
            actor,
            object_type=OBJECT_TYPE,
            object_id=audience.id,
            action=action,
            changes=changes,
            object_label=audience.name,
        )

    def _audit_members(
        self, session: Session, actor: Actor, audience: Audience, action: str, counts: dict[str, Any]
    ) -> None:
        self._audit(session, actor, audience, action, {name: [None, value] for name, value in counts.items()})


audience_service = AudienceService()
