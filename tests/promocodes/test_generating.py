"""Large generations run in the background: step by step, with their progress on the group, taken up
again when their job was lost, and stopped short — saying so — when the format runs out of codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.kit.errors import Conflict
from smartcomm.kit.time import utcnow
from smartcomm.models import AuditEntry, PromoCodeGroup
from smartcomm.promocodes import generating, tasks
from smartcomm.promocodes.schemas import GenerateIn
from smartcomm.promocodes.service import promocode_service
from tests.conftest import UIClient
from tests.promocodes.helpers import ACTOR, add, codes_of, make_group


@pytest.fixture(autouse=True)
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above 500 codes a generation goes to the job, 200 codes a step: the same paths as a million."""
    monkeypatch.setattr(generating, "SYNC_LIMIT", 500)
    monkeypatch.setattr(generating, "STEP", 200)


def reloaded(session: Session, group_id: int) -> PromoCodeGroup:
    session.expire_all()
    group = session.get(PromoCodeGroup, group_id)
    assert group is not None
    return group


def test_a_large_quantity_is_generated_by_the_job_in_steps(session: Session) -> None:
    group = make_group(session, "BIG")
    session.commit()

    answer = promocode_service.generate(
        session, ACTOR, group.id, GenerateIn(format="B-{string('0-9', 6)}", quantity=900)
    )
    assert (answer.added, answer.queued) == (0, 900)
    assert reloaded(session, group.id).generation is not None  # running, until the commit queues the job
    session.commit()  # the job runs now (tests run jobs when they are queued)

    done = reloaded(session, group.id)
    assert done.generation is None and done.last_format == "B-{string('0-9', 6)}"
    codes = codes_of(session, group.id)
    assert len(codes) == 900 and all(code.startswith("B-") and len(code) == 8 for code in codes)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "generate_codes")).one()
    assert entry.changes["codes"] == [None, 900]


def test_a_second_generation_waits_for_the_running_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generating, "queue_after_commit", lambda *args: None)  # the job never starts
    group = make_group(session, "BUSY")
    promocode_service.generate(
        session, ACTOR, group.id, GenerateIn(format="{string('A-Z', 8)}", quantity=600)
    )

    with pytest.raises(Conflict) as refused:
        promocode_service.generate(
            session, ACTOR, group.id, GenerateIn(format="{string('A-Z', 8)}", quantity=600)
        )

    assert refused.value.errors[0].field == "quantity"
    assert codes_of(session, group.id) == {}


def test_a_lost_job_is_taken_up_where_it_stopped(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    group = make_group(session, "LOST")
    monkeypatch.setattr(generating, "queue_after_commit", lambda *args: None)
    promocode_service.generate(
        session, ACTOR, group.id, GenerateIn(format="L{string('0-9', 7)}", quantity=700)
    )
    assert generating.step(session, group.id) is True  # one step, then the worker dies
    session.commit()
    assert (len(codes_of(session, group.id)), reloaded(session, group.id).generation["added"]) == (200, 200)  # type: ignore[index]

    tasks.every_minute.call_local()  # its last step is recent: nothing is taken up yet
    assert len(codes_of(session, group.id)) == 200
    stale = dict(reloaded(session, group.id).generation or {}) | {
        "beat": (utcnow() - timedelta(minutes=3)).isoformat()
    }
    reloaded(session, group.id).generation = stale
    session.commit()
    tasks.every_minute.call_local()

    assert len(codes_of(session, group.id)) == 700
    assert reloaded(session, group.id).generation is None


def test_a_format_running_out_stops_short_and_says_so(admin_client: UIClient, session: Session) -> None:
    group = make_group(session, "TINY")
    other = make_group(session, "OTHER")
    # 'AB' × 4 makes 16 codes; 12 of them are stored already, so only 4 new ones can be made.
    taken = [f"{a}{b}{c}{d}" for a in "AB" for b in "AB" for c in "AB" for d in "AB"][:12]
    add(session, other, *taken)
    session.commit()
    generating.SYNC_LIMIT = 5  # type: ignore[misc]  (restored by the fixture's monkeypatch)

    promocode_service.generate(session, ACTOR, group.id, GenerateIn(format="{string('AB', 4)}", quantity=8))
    session.commit()

    stopped = reloaded(session, group.id).generation
    assert stopped is not None and (stopped["added"], stopped["error"]) == (4, generating.SPACE_EXHAUSTED)
    assert len(codes_of(session, group.id)) == 4
    page = admin_client.get(f"/promocodes/{group.id}")
    assert 'id="generation"' in page.text and "stopped at 4 of 8" in page.text


def test_the_page_polls_a_running_generation_and_reloads_when_it_ends(
    admin_client: UIClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generating, "queue_after_commit", lambda *args: None)
    group = make_group(session, "POLLED")
    promocode_service.generate(
        session, ACTOR, group.id, GenerateIn(format="P{string('0-9', 7)}", quantity=600)
    )
    generating.step(session, group.id)
    session.commit()

    running = admin_client.get(f"/promocodes/{group.id}/generation")
    assert 'hx-trigger="every 2s"' in running.text and "200 of 600" in running.text
    while generating.step(session, group.id):
        pass
    session.commit()
    ended = admin_client.get(f"/promocodes/{group.id}/generation")
    assert ended.headers.get("HX-Refresh") == "true"
    assert len(codes_of(session, group.id)) == 600
