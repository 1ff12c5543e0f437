"""The Summary dashboard page: who may open it, where users land after signing in, what it shows from the
stored snapshot, and the recomputation on demand (the job writes the snapshot, the page never does)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.analytics.tasks import recompute_dashboard, recompute_on_schedule
from smartcomm.models import DashboardSnapshot
from tests.analytics.fixtures import NOW, base
from tests.analytics.test_dashboard_figures import global_control_group
from tests.conftest import UIClient
from tests.factories import make_user

SOURCE = Path(__file__).parents[2] / "src" / "smartcomm"
# A snapshot made, or deleted, anywhere in the code (its class statement aside).
WRITES = re.compile(r"(?<!class )DashboardSnapshot\(|delete\(DashboardSnapshot")


@pytest.fixture
def now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role, full_name=f"Test {role}")
    client.sign_in(user.email, password)
    return client


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def snapshots(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DashboardSnapshot)) or 0


def computed(session: Session, key: str = "last-3") -> None:
    base(session)
    session.commit()
    recompute_dashboard.call_local(key)


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("analyst", "/dashboard"),
        ("marketer", "/dashboard"),
        ("senior_marketer", "/dashboard"),
        ("administrator", "/dashboard"),
        ("designer", "/templates/email"),
        ("operator", "/customers"),
    ],
)
def test_after_signing_in_users_land_on_the_dashboard_when_they_may_see_it(
    client: UIClient, session: Session, role: str, landing: str
) -> None:
    assert signed_in(client, session, role).get("/").headers["location"] == landing


@pytest.mark.parametrize("role", ["designer", "operator"])
def test_roles_without_access_get_403(client: UIClient, session: Session, role: str) -> None:
    browser = signed_in(client, session, role)
    assert browser.get("/dashboard").status_code == 403
    assert browser.get("/dashboard/status?period=last-12").status_code == 403
    assert browser.submit("/dashboard/recompute", {"period": "last-12"}).status_code == 403
    assert snapshots(session) == 0


def test_before_the_first_computation_the_page_says_so_and_writes_nothing(
    client: UIClient, session: Session, now: None
) -> None:
    page = signed_in(client, session, "analyst").get("/dashboard")
    assert page.status_code == 200
    assert 'id="dashboard-empty"' in page.text and "Not computed for this period yet" in page.text
    assert client.get("/dashboard/status?period=last-12&since=0").status_code == 200
    assert snapshots(session) == 0


def test_the_page_shows_the_stored_figures_with_links_to_the_customers(
    client: UIClient, session: Session, now: None
) -> None:
    computed(session)
    page = signed_in(client, session, "analyst").get("/dashboard?period=last-3").text
    assert re.search(r'data-kpi="customers".*?data-value>6<', page, re.S)
    assert re.search(r'data-kpi="buyers".*?data-value>4<', page, re.S)
    assert 'id="chart-base"' in page and 'id="chart-sales"' in page and 'id="dashboard-data"' in page
    assert "Global control group not enabled" in page and 'href="/settings/global-control"' in page
    row = re.search(r'<tr data-bucket="months0">.*?</tr>', page, re.S)
    assert row is not None and ">2</a>" in row.group(0)
    link = re.search(r'<tr data-bucket="months0">.*?href="([^"]+)"', page, re.S)
    assert link is not None
    rules = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["rules"][0]
    assert '"purchases.last_date"' in rules and '["2026-10-21","2026-11-20"]' in rules
    assert "data-builder" not in page  # an analyst does not edit segments
    # The link opens the same two customers in the customer list.
    listed = client.get(link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200 and "2 customers match the filter" in text_of(listed.text)


def test_a_marketer_also_gets_the_segment_builder_preset(
    client: UIClient, session: Session, now: None
) -> None:
    computed(session)
    page = signed_in(client, session, "marketer").get("/dashboard?period=last-3").text
    assert 'href="/segments/new?rules=' in page and "data-builder" in page


def test_recompute_on_demand_queues_the_job_which_stores_the_new_figures(
    client: UIClient, session: Session, now: None
) -> None:
    base(session)
    browser = signed_in(client, session, "analyst")
    response = browser.submit("/dashboard/recompute", {"period": "last-6"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dashboard?period=last-6&since=0")
    # Tests run jobs when the request commits: the figures are there, and the page no longer waits.
    assert snapshots(session) == 1
    page = browser.get(response.headers["location"]).text
    assert 'id="dashboard-computing"' not in page and 'id="computed-at"' in page
    status = browser.get("/dashboard/status?period=last-6&since=0")
    assert status.headers["HX-Redirect"] == "/dashboard?period=last-6"


def test_while_the_job_has_not_run_the_page_shows_computing(
    client: UIClient, session: Session, now: None
) -> None:
    computed(session, "last-12")
    stored = session.scalar(select(DashboardSnapshot))
    assert stored is not None
    since = stored.computed_at.timestamp()
    page = signed_in(client, session, "analyst").get(f"/dashboard?since={since}").text
    assert 'id="dashboard-computing"' in page and 'id="recompute" disabled' in page
    assert 'id="dashboard-computing"' in client.get(f"/dashboard/status?period=last-12&since={since}").text


def test_a_custom_period_is_picked_by_its_months(client: UIClient, session: Session, now: None) -> None:
    computed(session, "2026-09:2026-10")
    page = signed_in(client, session, "analyst").get("/dashboard?start=2026-09&end=2026-10").text
    assert 'data-kpi="buyers"' in page and 'value="2026-09"' in page
    assert "data-builder" not in page and 'data-bucket="months0"' in page
    wrong = client.get("/dashboard?start=2026-10&end=2026-09")
    assert wrong.status_code == 303 and wrong.headers["location"] == "/dashboard"


def test_russian_numbers_and_labels(client: UIClient, session: Session, now: None) -> None:
    computed(session)
    user, password = make_user(session, role="analyst", language="ru")
    client.sign_in(user.email, password)
    page = client.get("/dashboard?period=last-3").text
    assert "Сводка" in page and "Качество клиентской базы" in page
    assert "250,00" in page  # the returning customers' revenue, with the Russian decimal comma


def test_only_the_analytics_package_writes_the_snapshot() -> None:
    """The page reads it; the analytics repository is the one place that writes it."""
    users = sorted(
        str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py") if WRITES.search(path.read_text())
    )
    assert users == ["analytics/dashboard.py", "analytics/dashboard_repository.py"]


def test_a_snapshot_of_an_older_shape_reads_as_not_computed(
    client: UIClient, session: Session, now: None
) -> None:
    computed(session, "last-12")
    stored = session.scalar(select(DashboardSnapshot))
    assert stored is not None
    stored.data = {"period_key": "last-12"}  # what an older version might have stored
    session.commit()
    page = signed_in(client, session, "analyst").get("/dashboard")
    assert page.status_code == 200 and 'id="dashboard-empty"' in page.text


def test_the_schedule_recomputes_the_preset_periods_once_the_interval_has_passed(session: Session) -> None:
    base(session)
    session.commit()
    presets = ["last-3", "last-6", "last-12", "last-24"]
    with time_machine.travel(NOW, tick=False):
        assert recompute_on_schedule.call_local() == presets  # never computed
        assert recompute_on_schedule.call_local() == []
        assert recompute_on_schedule.call_local(True) == presets  # new data in bulk (the demo)
    # Every 6 hours by default; the hourly look allows itself five minutes' slack.
    with time_machine.travel(NOW + timedelta(hours=5, minutes=54), tick=False):
        assert recompute_on_schedule.call_local() == []
    with time_machine.travel(NOW + timedelta(hours=5, minutes=56), tick=False):
        assert recompute_on_schedule.call_local() == presets
    assert snapshots(session) == 4


def test_the_global_control_group_block_shows_its_figures_once_there(
    client: UIClient, session: Session, now: None
) -> None:
    global_control_group(session)
    session.commit()
    recompute_dashboard.call_local("last-3")
    page = signed_in(client, session, "analyst").get("/dashboard?period=last-3").text
    block = page[page.index('id="block-control"') :]
    assert "data-control" in block and "Global control group not enabled" not in page
    words = text_of(block)
    assert "Members in the group 4 of 10 customers" in words
    assert "Incremental revenue +190.00 ₽ not significant yet" in words
    assert "Revenue per customer, rest 76.67 ₽ group: 45.00 ₽" in words
    assert "Conversion, rest 50.0 % group: 50.0 %" in words
    assert 'data-cell="control:buyers">2<' in block and 'data-cell="main:buyers">3<' in block
    chart = json.loads(html.unescape(re.search(r'id="dashboard-data">(.*?)</script>', page, re.S)[1]))
    assert chart["control"]["conversion"] == [50.0, 50.0]
    assert chart["control"]["revenue"] == [45.0, 76.67]
