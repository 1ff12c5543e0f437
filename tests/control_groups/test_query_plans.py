"""The gate finds a batch's members of the global control group through the index of the open stays."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from smartcomm.delivery.repository import LedgerRepository, open_stays_among
from smartcomm.models import GlobalControlMember
from tests.control_groups.helpers import enable, make_base, open_members
from tests.segments.test_query_plans import plan_lines

OPEN_INDEX = "ix_global_control_members_open"


def test_the_members_of_a_batch_are_read_through_the_open_stays_index(session: Session) -> None:
    ids = make_base(session, 200)
    enable(session, percent=10)
    repository = LedgerRepository(session)
    if repository.is_postgres:
        # Few rows make a sequential scan the cheapest plan; asks which index a large group would use.
        session.execute(text("SET LOCAL enable_seqscan = off"))
    [among] = repository.id_conditions(GlobalControlMember.customer_id, ids[:50])

    lines = plan_lines(session, open_stays_among(among))

    assert any(OPEN_INDEX in line for line in lines), lines
    assert repository.in_global_control(ids) == set(open_members(session))
