"""Customers → RFM segments as marketers and analysts use it: grids, drill-down, recalculation, settings,
and the RFM card of the customer profile."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.models import AuditEntry, RfmCalculation, Segment
from smartcomm.rfm.service import rfm_service
from smartcomm.settings.schemas import RfmSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.factories import make_user
from tests.rfm.conftest import NOW, Shop
from tests.rfm.test_calculation import ten_customers


@pytest.fixture
def shop(session: Session) -> Iterator[Shop]:
    with time_machine.travel(NOW, tick=False):
        yield Shop(session)


@pytest.fixture
def scored(session: Session, shop: Shop) -> RfmCalculation:
    ten_customers(shop)
    calculation = rfm_service.run(session, "manual")
    session.commit()
    return calculation


def signed_in(client: UIClient, session: Session, role: str) -> UIClient:
    user, password = make_user(session, role=role, full_name=f"Test {role}")
    client.sign_in(user.email, password)
    return client


def cell(html: str, name: str) -> str:
    found = re.search(rf'<a [^>]*data-cell="{name}".*?</a>', html, re.S)
    assert found is not None, f"no cell {name}"
    return found.group(0)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_the_grids_show_counts_shares_and_value_ranges(
    client: UIClient, session: Session, scored: RfmCalculation
) -> None:
    page = signed_in(client, session, "marketer").get("/rfm").text
    assert re.search(r'data-kpi="scored">10<', page) and re.search(r'data-kpi="best">1<', page)
    assert re.search(r'data-kpi="lost">2<', page)
    # RF: A and B (200 and 300 days, one receipt each) are R1 F1: two of ten customers.
    assert text_of(cell(page, "r1f1")) == "R1·F1 2 20.0 % 200–300 days 1 receipt"
    assert text_of(cell(page, "r5f5")) == "R5·F5 2 20.0 % 0–1 days 5–8 receipts"
    assert text_of(cell(page, "r3f4")) == "R3·F4 0 0.0 % 10–50 days —"  # nobody got F4
    # RM and FM: the money ranges of M5 and M3.
    assert text_of(cell(page, "r5m5")) == "R5·M5 1 10.0 % 0–1 days 3,000–5,000 ₽"
    assert text_of(cell(page, "f5m3")) == "F5·M3 1 10.0 % 5–8 receipts 800 ₽"
    assert 'href="/rfm/cells?r=1&amp;f=1"' in page or 'href="/rfm/cells?r=1&f=1"' in page
    assert 'id="recalculate"' in page and 'id="save-rfm-settings"' in page


def test_before_the_first_calculation(client: UIClient, session: Session) -> None:
    page = signed_in(client, session, "analyst").get("/rfm").text
    assert "No RFM calculation yet" in page
    assert 'data-grid="rf"' not in page


def test_a_cell_lists_its_customers_biggest_spenders_first(
    client: UIClient, session: Session, shop: Shop, scored: RfmCalculation
) -> None:
    marketer = signed_in(client, session, "marketer")
    page = marketer.get("/rfm/cells?r=3&f=2&m=2").text
    d, e = shop.customer("D"), shop.customer("E")
    assert re.findall(r'data-customer-id="(\d+)"', page) == [str(d.id), str(e.id)]
    assert f'href="/customers/{d.id}"' in page
    assert re.search(r'id="cell-count">2<', page)
    row = re.search(rf'<tr data-customer-id="{d.id}">.*?</tr>', page, re.S)
    assert row is not None
    assert "10 days ago" in row.group(0) and "300.00" in row.group(0)
    assert re.search(r"data-frequency>2<", row.group(0))
    c_cell = marketer.get("/rfm/cells?r=3&m=5").text  # two letters are enough: C is R3 M5
    assert re.findall(r'data-customer-id="(\d+)"', c_cell) == [str(shop.customer("C").id)]


@pytest.mark.parametrize("query", ["r=5", "r=6&f=1", "f=0&m=2"])
def test_a_cell_needs_two_valid_scores(client: UIClient, session: Session, query: str) -> None:
    response = signed_in(client, session, "marketer").get(f"/rfm/cells?{query}")
    assert response.status_code == 422


def test_an_analyst_views_but_cannot_recalculate_or_change_settings(
    client: UIClient, session: Session, scored: RfmCalculation
) -> None:
    analyst = signed_in(client, session, "analyst")
    page = analyst.get("/rfm").text
    assert 'data-cell="r1f1"' in page
    assert 'id="recalculate"' not in page and 'id="save-rfm-settings"' not in page
    audit_rows = session.scalar(select(func.count()).select_from(AuditEntry))
    assert analyst.submit("/rfm/calculations").status_code == 403
    assert analyst.submit("/rfm/settings", {"period_days": "90", "runs_per_day": "2"}).status_code == 403
    assert session.scalar(select(func.count()).select_from(RfmCalculation)) == 1
    assert settings_service.read(session, RfmSettings) == RfmSettings()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows


def test_a_marketer_recalculates_now(client: UIClient, session: Session, scored: RfmCalculation) -> None:
    marketer = signed_in(client, session, "marketer")
    response = marketer.submit("/rfm/calculations")
    assert (response.status_code, response.headers["location"]) == (303, "/rfm")
    session.expire_all()
    runs = session.scalars(select(RfmCalculation).order_by(RfmCalculation.id)).all()
    assert [(c.trigger, c.status, c.scored) for c in runs] == [("manual", "done", 10), ("manual", "done", 10)]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "rfm")).one()
    assert entry.action == "create" and entry.actor_label.startswith("Test marketer <")
    assert "The RFM calculation has started." in marketer.get("/rfm").text


def test_the_status_line_reloads_the_page_once_the_calculation_is_over(
    client: UIClient, session: Session
) -> None:
    viewer = signed_in(client, session, "analyst")
    queued = rfm_service.queue(session, "schedule")
    session.commit()
    polling = viewer.get(f"/rfm/status?watch={queued.id}")
    assert 'hx-trigger="every 2s"' in polling.text and "HX-Refresh" not in polling.headers
    queued.status = "done"
    session.commit()
    assert viewer.get(f"/rfm/status?watch={queued.id}").headers["HX-Refresh"] == "true"


def test_settings_are_saved_and_audited(client: UIClient, session: Session) -> None:
    segment = Segment(name="Moscow", rules={"root": {"op": "and", "children": []}})
    session.add(segment)
    session.commit()
    marketer = signed_in(client, session, "marketer")
    values = {"period_days": "180", "base_segment_id": str(segment.id), "runs_per_day": "6"}
    assert marketer.submit("/rfm/settings", values).status_code == 303
    assert settings_service.read(session, RfmSettings) == RfmSettings(
        period_days=180, base_segment_id=segment.id, runs_per_day=6
    )
    entry = session.scalars(select(AuditEntry).where(AuditEntry.object_id == "rfm")).one()
    assert set(entry.changes) == {"period_days", "base_segment_id", "runs_per_day"}
    assert f'<option value="{segment.id}" selected>Moscow</option>' in marketer.get("/rfm").text


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"period_days": "7", "runs_per_day": "4"}, "period_days", "greater than or equal to 30"),
        ({"period_days": "365", "runs_per_day": "4", "base_segment_id": "999999"}, "base_segment_id",
         "Choose an existing segment"),
    ],
)  # fmt: skip
def test_invalid_settings_are_refused_and_nothing_is_written(
    client: UIClient, session: Session, values: dict[str, str], field: str, message: str
) -> None:
    marketer = signed_in(client, session, "marketer")
    audit_rows = session.scalar(select(func.count()).select_from(AuditEntry))
    response = marketer.submit("/rfm/settings", values)
    assert response.status_code == 422
    error = re.search(rf'data-error-for="{field}">([^<]*)<', response.text)
    assert error is not None and message in error.group(1)
    assert settings_service.read(session, RfmSettings) == RfmSettings()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows


def test_the_profile_shows_the_rfm_cell_or_not_scored(
    client: UIClient, session: Session, shop: Shop, scored: RfmCalculation
) -> None:
    operator = signed_in(client, session, "operator")
    j_page = operator.get(f"/customers/{shop.customer('J').id}").text
    card = re.search(r'<div class="card" id="rfm-card">.*?</div>\s*</div>\s*</div>\s*</div>', j_page, re.S)
    assert card is not None
    assert re.findall(r'data-score="(\w)">(\w\d)<', card.group(0)) == [("r", "R5"), ("f", "F5"), ("m", "M5")]
    assert "8" in re.search(r'data-field="frequency">([^<]*)<', j_page).group(1)  # type: ignore[union-attr]
    assert "3,000.00" in re.search(r'data-field="monetary">([^<]*)<', j_page).group(1)  # type: ignore[union-attr]
    assert "rfm-cell-link" not in j_page  # operators do not see RFM segments
    k_page = operator.get(f"/customers/{shop.customer('K').id}").text
    assert 'id="rfm-not-scored"' in k_page


def test_a_failed_calculation_is_shown_above_the_previous_grids(
    client: UIClient, session: Session, scored: RfmCalculation
) -> None:
    failed = rfm_service.queue(session, "schedule")
    session.commit()
    rfm_service.record_failure(session, failed.id, "OperationalError: database is locked")
    session.commit()
    page = signed_in(client, session, "analyst").get("/rfm").text
    alert = re.search(r'id="rfm-failure">(.*?)</div>', page, re.S)
    assert alert is not None
    assert "failed: OperationalError: database is locked" in text_of(alert.group(1))
    assert "The grids show the previous one." in text_of(alert.group(1))
    assert re.search(r'data-kpi="scored">10<', page)


@pytest.mark.parametrize(("language", "shown"), [("en", "19 ms"), ("ru", "19 мс")])
def test_a_calculation_faster_than_a_second_shows_its_milliseconds(
    client: UIClient, session: Session, scored: RfmCalculation, language: str, shown: str
) -> None:
    scored.duration_ms = 19
    session.commit()
    user, password = make_user(session, role="analyst", language=language)
    client.sign_in(user.email, password)
    assert re.search(rf'data-kpi="duration">{shown}<', client.get("/rfm").text)
