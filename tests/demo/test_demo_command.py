"""`smartcomm demo` and the first `smartcomm run`, which loads a demo base only into an empty database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from smartcomm.cli.demo import load_if_empty
from smartcomm.cli.main import app
from smartcomm.models import Customer, Event, Message, MessageTemplate, Receipt, RfmCalculation, Segment
from tests.demo.conftest import count

runner = CliRunner()


def test_demo_command_loads_and_then_refuses_a_second_load(session: Session) -> None:
    result = runner.invoke(app, ["demo", "--customers", "60", "--seed", "5", "--as-of", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert "customers" in result.output and "60" in result.output
    receipts = count(session, Receipt)
    assert count(session, Customer) == 60 and receipts > 60

    again = runner.invoke(app, ["demo", "--customers", "60"])
    assert again.exit_code == 1
    assert "already holds 60 customers" in again.output
    assert (count(session, Customer), count(session, Receipt)) == (60, receipts)


def test_first_run_loads_a_demo_base_and_later_runs_add_nothing(session: Session) -> None:
    first = load_if_empty(customers=50, seed=2)
    assert first is not None and first.counts["customers"] == 50
    sizes = (count(session, Customer), count(session, Receipt), count(session, Event))
    # The Segments and RFM pages have something to show from the first minute.
    segments = session.scalars(select(Segment).order_by(Segment.name)).all()
    assert [s.last_build_status for s in segments] == ["done"] * 4
    assert "Покупали за последние 90 дней" in [s.name for s in segments]
    assert max(s.member_count for s in segments) > 0
    calculation = session.scalars(select(RfmCalculation)).one()
    assert calculation.status == "done" and calculation.scored > 0
    # … and so do the Templates and the Outbox.
    starters = (count(session, MessageTemplate), count(session, Message))
    assert starters[0] >= 6 and starters[1] > 0  # the examples, and the history's mailings' own

    assert load_if_empty(customers=50, seed=2) is None
    assert (count(session, Customer), count(session, Receipt), count(session, Event)) == sizes
    assert sizes[0] == 50
    assert (count(session, Segment), count(session, RfmCalculation)) == (4, 1)
    assert (count(session, MessageTemplate), count(session, Message)) == starters
