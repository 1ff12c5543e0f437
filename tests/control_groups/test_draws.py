"""Drawing the global control group: its size, cap and strata, the same members for the same seed on
every database, a redraw's history, and an uploaded list."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.control_groups.draws import Share, age_band, draw_key, draw_key_sql
from smartcomm.control_groups.service import global_control_service
from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.models import AuditEntry, Customer, GlobalControlDraw, GlobalControlMember
from tests.control_groups.helpers import ACTOR, NOW, born, enable, make_base, open_members


def expected_draw(seed: int, ids: list[int], take: int) -> list[int]:
    return sorted(sorted(ids, key=lambda i: (draw_key(seed, i), i))[:take])


def test_the_database_computes_the_same_keys_as_python(session: Session) -> None:
    ids = make_base(session, 50)
    computed = dict(session.execute(select(Customer.id, draw_key_sql(987654321, Customer.id))).all())
    assert computed == {i: draw_key(987654321, i) for i in ids}


def test_a_draw_takes_the_share_of_the_base_with_the_smallest_keys(session: Session) -> None:
    ids = make_base(session, 400)
    enable(session, percent=5, source="draw")  # switching on draws at once
    global_control_service.draw(session, ACTOR, seed=42, now=NOW)
    assert open_members(session) == expected_draw(42, ids, 20)
    draw = session.scalars(select(GlobalControlDraw).order_by(GlobalControlDraw.id.desc())).first()
    assert (draw.seed, draw.size, draw.base_size, draw.percent) == (42, 20, 400, 5.0)


def test_the_same_seed_draws_the_same_members_and_another_seed_others(session: Session) -> None:
    make_base(session, 300)
    enable(session, percent=10)
    global_control_service.draw(session, ACTOR, seed=7, now=NOW)
    first = open_members(session)
    global_control_service.draw(session, ACTOR, seed=7, now=NOW + timedelta(minutes=1))
    assert open_members(session) == first
    global_control_service.draw(session, ACTOR, seed=8, now=NOW + timedelta(minutes=2))
    assert open_members(session) != first
    assert len(open_members(session)) == 30


def test_the_cap_limits_the_group(session: Session) -> None:
    ids = make_base(session, 500)
    enable(session, percent=20, cap=37)
    global_control_service.draw(session, ACTOR, seed=3, now=NOW)
    assert open_members(session) == expected_draw(3, ids, 37)


def test_a_stratified_draw_keeps_the_share_in_every_stratum(session: Session) -> None:
    ids = make_base(session, 600, gender=lambda i: "mf"[i % 2], birth_date=born)
    enable(session, percent=10, strata=["gender", "age_band"])
    global_control_service.draw(session, ACTOR, seed=11, now=NOW)
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}

    def stratum(customer_id: int) -> tuple[str | None, str | None]:
        customer = customers[customer_id]
        return customer.gender, age_band(customer.birth_date, NOW.date())

    strata: dict[tuple[str | None, str | None], list[int]] = {}
    for customer_id in ids:
        strata.setdefault(stratum(customer_id), []).append(customer_id)
    expected = sorted(
        c for members in strata.values() for c in expected_draw(11, members, round(len(members) / 10))
    )
    assert len(strata) == 6
    assert open_members(session) == expected
    assert Counter(stratum(c) for c in open_members(session)) == dict.fromkeys(strata, 10)


def test_a_redraw_closes_the_old_stays_and_keeps_them(session: Session) -> None:
    make_base(session, 100)
    enable(session, percent=10)
    first = global_control_service.draw(session, ACTOR, seed=1, now=NOW)
    later = NOW + timedelta(days=90)
    second = global_control_service.draw(session, ACTOR, seed=2, now=later)
    stays = session.scalars(select(GlobalControlMember).where(GlobalControlMember.draw_id == first.id)).all()
    assert len(stays) == 10 and all(stay.left_at == later for stay in stays)
    assert len(open_members(session)) == 10
    assert {
        s.draw_id
        for s in session.scalars(select(GlobalControlMember).where(GlobalControlMember.left_at.is_(None)))
    } == {second.id}
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "global_control")
    ).all()
    assert actions.count("draw") == 3  # switching on, and the two draws


def test_the_periodic_redraw_draws_when_the_months_have_passed(session: Session) -> None:
    make_base(session, 50)
    enable(session, percent=10, months=3)
    assert global_control_service.redraw_due(session, NOW + timedelta(days=80)) is None
    redrawn = global_control_service.redraw_due(session, NOW + timedelta(days=93))
    assert redrawn is not None and redrawn.drawn_by == "global control group"
    assert global_control_service.status(session).next_draw_at == redrawn.drawn_at.replace(month=6)


def test_switching_off_dissolves_the_group_and_keeps_its_history(session: Session) -> None:
    make_base(session, 50)
    enable(session, percent=10)
    global_control_service.update(session, ACTOR, {"enabled": False}, now=NOW + timedelta(hours=1))
    assert open_members(session) == []
    assert session.scalar(select(func.count()).select_from(GlobalControlMember)) == 5
    with pytest.raises(Conflict):
        global_control_service.draw(session, ACTOR)


def test_an_uploaded_list_becomes_the_group(session: Session) -> None:
    ids = make_base(session, 10)
    enable(session, percent=10)
    data = b"external_id;name\nG-2;Anna\nG-5;Boris\n\nG-2;Anna\nG-9;Olga\n"
    draw = global_control_service.upload(session, ACTOR, "group.csv", data, now=NOW + timedelta(hours=1))
    assert open_members(session) == [ids[1], ids[4], ids[8]]
    assert (draw.source, draw.size, draw.file_name) == ("file", 3, "group.csv")
    assert global_control_service.settings(session).source == "file"
    assert global_control_service.redraw_due(session, NOW + timedelta(days=400)) is None


def test_an_upload_naming_unknown_customers_is_rejected_by_row_and_writes_nothing(session: Session) -> None:
    make_base(session, 5)
    enable(session, percent=20)
    before = open_members(session)
    draws = session.scalar(select(func.count()).select_from(GlobalControlDraw))
    with pytest.raises(InvalidInput) as raised:
        global_control_service.upload(session, ACTOR, "group.csv", b"G-1\nNOPE-1\nG-3\nNOPE-2\n")
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("file.rows[2]", "Row 2: no customer has the external id “NOPE-1”"),
        ("file.rows[4]", "Row 4: no customer has the external id “NOPE-2”"),
    ]
    assert open_members(session) == before
    assert session.scalar(select(func.count()).select_from(GlobalControlDraw)) == draws
    assert global_control_service.settings(session).source == "draw"


def test_an_empty_file_is_rejected(session: Session) -> None:
    enable(session)
    with pytest.raises(InvalidInput) as raised:
        global_control_service.upload(session, ACTOR, "empty.csv", b"external_id\n\n")
    assert raised.value.errors[0].field == "file"


def test_shares_round_half_up_in_integers() -> None:
    assert Share.of(5, None, 1000).of_stratum(30) == 2  # 1.5 → 2
    assert Share.of(5, 10, 1000).of_stratum(1000) == 10
    assert Share.of(5, 100, 1000).of_stratum(1000) == 50  # the cap is above the share
