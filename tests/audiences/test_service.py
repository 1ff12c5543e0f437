"""Audience rules: unique names, members by id and from segments (set-based), delete guard, audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from smartcomm.audiences.schemas import AudienceIn, AudienceUpdate, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.kit.errors import Conflict
from smartcomm.kit.pagination import PageParams
from smartcomm.models import Audience, AudienceMember, AuditEntry
from smartcomm.segments.rules import SegmentRules
from smartcomm.segments.schemas import SegmentIn
from smartcomm.segments.service import segment_service
from tests.audiences.helpers import ACTOR, audit_rows, city_segment, customer, member_ids


def new_audience(session: Session, name: str = "VIP", description: str | None = None) -> Audience:
    return audience_service.create(session, ACTOR, AudienceIn(name=name, description=description))


def test_create_rename_and_describe_are_audited(session: Session) -> None:
    audience = new_audience(session, "Coffee lovers", "Bought coffee twice")
    audience_service.update(session, ACTOR, audience.id, AudienceUpdate(name="Coffee fans"))
    audience_service.update(session, ACTOR, audience.id, AudienceUpdate(description=None))
    rows = audit_rows(session, audience.id)
    assert [row.action for row in rows] == ["create", "update", "update"]
    assert rows[0].changes == {"description": [None, "Bought coffee twice"], "name": [None, "Coffee lovers"]}
    assert rows[1].changes == {"name": ["Coffee lovers", "Coffee fans"]}
    assert rows[2].changes == {"description": ["Bought coffee twice", None]}
    assert (audience.name, audience.description, audience.created_by_id) == ("Coffee fans", None, None)


def test_a_name_is_unique_in_any_case(session: Session) -> None:
    new_audience(session, "VIP")
    other = new_audience(session, "Newcomers")
    with pytest.raises(Conflict) as creating:
        new_audience(session, "vip")
    assert creating.value.errors[0].field == "name"
    with pytest.raises(Conflict):
        audience_service.update(session, ACTOR, other.id, AudienceUpdate(name="Vip"))
    assert session.scalar(select(func.count()).select_from(Audience)) == 2


def test_adding_and_removing_a_segment_is_set_based_with_exact_counts(
    session: Session, statements: StatementCounter
) -> None:
    for number, city in enumerate(["Moscow", "Moscow", "Moscow", "Kazan", "Kazan"]):
        customer(session, f"C{number}", f"Last{number}", city=city)
    moscow = city_segment(session, "Moscow", "Moscow")
    audience = new_audience(session)
    audience_service.add_members(session, ACTOR, audience.id, MembersIn(external_ids=["C0", "C3"]))

    statements.of("")
    added = audience_service.add_segment(session, ACTOR, audience.id, moscow.id)
    assert (added.changed, added.member_count) == (2, 4)  # C0 was already in
    assert statements.of("INSERT INTO audience_members") == 1
    assert member_ids(session, audience.id) == {"C0", "C1", "C2", "C3"}

    again = audience_service.add_segment(session, ACTOR, audience.id, moscow.id)
    assert (again.changed, again.member_count) == (0, 4)

    removed = audience_service.remove_segment(session, ACTOR, audience.id, moscow.id)
    assert (removed.changed, removed.member_count) == (3, 1)
    assert statements.of("DELETE FROM audience_members") == 1
    assert member_ids(session, audience.id) == {"C3"}
    session.refresh(audience)
    assert audience.member_count == 1
    rows = audit_rows(session, audience.id)
    assert [row.action for row in rows] == [
        "create",
        "add_members",
        "add_members",
        "add_members",
        "remove_members",
    ]
    assert rows[2].changes == {"added": [None, 2], "member_count": [None, 4], "segment": [None, "Moscow"]}
    assert rows[4].changes == {"member_count": [None, 1], "removed": [None, 3], "segment": [None, "Moscow"]}


def test_segment_members_who_left_are_not_added(session: Session) -> None:
    ivan = customer(session, "C1", "Ivanov", city="Moscow")
    customer(session, "C2", "Petrov", city="Moscow")
    moscow = city_segment(session, "Moscow", "Moscow")
    ivan.city = "Kazan"
    session.flush()
    segment_service.build(session, moscow.id, "manual")  # Ivan's stay is closed, not deleted
    audience = new_audience(session)
    assert audience_service.add_segment(session, ACTOR, audience.id, moscow.id).changed == 1
    assert member_ids(session, audience.id) == {"C2"}


def test_members_by_id_report_unknown_ids_and_keep_an_exact_count(session: Session) -> None:
    people = [customer(session, f"C{n}", f"Last{n}") for n in range(3)]
    audience = new_audience(session)
    added = audience_service.add_members(
        session, ACTOR, audience.id, MembersIn(external_ids=["C0", "C1", "X9", "C0"])
    )
    assert (added.added, added.already_members, added.unknown, added.member_count) == (2, 0, ["X9"], 2)
    by_id = MembersIn(customer_ids=[people[1].id, people[2].id, 999_999])
    again = audience_service.add_members(session, ACTOR, audience.id, by_id)
    assert (again.added, again.already_members, again.unknown, again.member_count) == (1, 1, [999_999], 3)
    removed = audience_service.remove_members(
        session, ACTOR, audience.id, MembersIn(external_ids=["C0", "C0", "X9"])
    )
    assert (removed.removed, removed.not_members, removed.unknown, removed.member_count) == (1, 0, ["X9"], 2)
    stored = session.scalar(select(func.count()).select_from(AudienceMember))
    assert stored == 2 == session.scalar(select(Audience.member_count).where(Audience.id == audience.id))
    row = audit_rows(session, audience.id, "remove_members")[0]
    assert row.changes == {
        "member_count": [None, 2],
        "not_members": [None, 0],
        "removed": [None, 1],
        "unknown": [None, 1],
    }


def test_members_are_listed_by_name_and_searched_within_the_audience(session: Session) -> None:
    customer(session, "C1", "Sokolova", email="maria@example.com", phone="+7 916 111-22-33")
    customer(session, "C2", "Antonov", email="anton@example.com")
    customer(session, "C3", "Sokolov")  # not in the audience
    audience = new_audience(session)
    audience_service.add_members(session, ACTOR, audience.id, MembersIn(external_ids=["C1", "C2"]))
    everyone = audience_service.members(session, audience.id, PageParams(size=10))
    assert [(m.external_id, m.name) for m in everyone.items] == [
        ("C2", "Antonov Test"),
        ("C1", "Sokolova Test"),
    ]
    assert everyone.items[1].phone == "+79161112233" and everyone.items[1].added_at is not None
    assert [
        m.external_id for m in audience_service.members(session, audience.id, PageParams(), "soko").items
    ] == ["C1"]
    by_phone = audience_service.members(session, audience.id, PageParams(), "8 916 111 22 33")
    assert [m.external_id for m in by_phone.items] == ["C1"]
    by_email = audience_service.members(session, audience.id, PageParams(), "ANTON@example.com")
    assert [m.external_id for m in by_email.items] == ["C2"]


def test_an_audience_used_by_a_segment_cannot_be_deleted(session: Session) -> None:
    audience = new_audience(session, "VIP")
    condition = {"metric": "audiences.member", "operator": "is_true", "params": {"audience": audience.id}}
    rules = SegmentRules.model_validate({"root": {"op": "and", "children": [condition]}})
    segment_service.create(session, ACTOR, SegmentIn(name="VIP customers", rules=rules))
    with pytest.raises(Conflict) as refused:
        audience_service.delete(session, ACTOR, audience.id)
    assert refused.value.status_code == 409
    assert "VIP customers" in refused.value.message
    assert session.get(Audience, audience.id) is not None
    assert audit_rows(session, audience.id, "delete") == []


def test_deleting_an_audience_removes_its_members_and_is_audited(session: Session) -> None:
    customer(session, "C1", "Ivanov")
    audience = new_audience(session, "Old list")
    audience_service.add_members(session, ACTOR, audience.id, MembersIn(external_ids=["C1"]))
    audience_service.delete(session, ACTOR, audience.id)
    assert session.get(Audience, audience.id) is None
    assert session.scalar(select(func.count()).select_from(AudienceMember)) == 0
    deleted = session.scalars(select(AuditEntry).where(AuditEntry.action == "delete")).one()
    assert (deleted.object_type, deleted.object_label) == ("audience", "Old list")
    assert deleted.changes == {"name": ["Old list", None]}


def test_the_audiences_of_a_customer(session: Session) -> None:
    ivan = customer(session, "C1", "Ivanov")
    for name in ("Newcomers", "Coffee lovers"):
        audience = new_audience(session, name)
        audience_service.add_members(session, ACTOR, audience.id, MembersIn(external_ids=["C1"]))
    new_audience(session, "Empty")
    assert [a.name for a, _added in audience_service.audiences_of(session, ivan.id)] == [
        "Coffee lovers",
        "Newcomers",
    ]


class StatementCounter:
    """The SQL statements sent while a test runs."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def of(self, prefix: str) -> int:
        """How many statements starting with `prefix` were sent since the last call (then forgets them)."""
        found = [s for s in self.statements if s.lstrip().upper().startswith(prefix.upper())]
        self.statements.clear()
        return len(found)

    def remember(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)


@pytest.fixture
def statements(session: Session) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    engine = session.get_bind().engine  # type: ignore[union-attr]
    event.listen(engine, "before_cursor_execute", counter.remember)
    yield counter
    event.remove(engine, "before_cursor_execute", counter.remember)
