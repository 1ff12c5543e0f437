"""A mailing's report and its groups report: every figure equals an independent computation from the rows
the test writes — messages with their statuses, opens and machine opens, unsubscribes and complaints,
credited receipts, people's opens placed in the project time zone, purchases of recipients and of the
control group — and the significance figures equal the textbook formulas."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from sqlalchemy.orm import Session

from smartcomm.analytics.groups import two_proportion_test, welch_test
from smartcomm.auth.permissions import Role
from smartcomm.mailings.groups_report import groups_report_service
from smartcomm.mailings.reports import mailing_report_service
from smartcomm.models import Customer, Mailing
from tests.factories import make_user
from tests.mailings.helpers import staff_api
from tests.mailings.report_helpers import (
    T0,
    add_control,
    add_message,
    add_open,
    assign,
    credit,
    make_customer,
    make_mailing,
    make_receipt,
    set_attribution_days,
    set_time_zone,
    unsubscribe,
)

H = timedelta(hours=1)
# What each message went through: (status, reason, sent, delivered, people's opens, clicks, machine opens,
# machine clicks). Milestones follow: opened_at when people opened, clicked_at when people clicked.
MESSAGES: list[tuple[str, str | None, bool, bool, int, int, int, int]] = [
    ("clicked", None, True, True, 2, 1, 0, 0),
    ("delivered", None, True, True, 0, 0, 3, 1),  # a privacy proxy fetched it: never opened by a person
    ("opened", None, True, True, 1, 0, 1, 0),
    ("failed", "bounced", True, False, 0, 0, 0, 0),
    ("failed", "undelivered", True, False, 0, 0, 0, 0),
    ("failed", "render_error", False, False, 0, 0, 0, 0),
    ("suppressed", "unsubscribed_channel", False, False, 0, 0, 0, 0),
    ("suppressed", "no_address", False, False, 0, 0, 0, 0),
    ("sent", None, True, False, 0, 0, 0, 0),
    ("delivered", None, True, True, 0, 0, 0, 0),
]


def build_messages(session: Session, mailing: Mailing) -> list[Any]:
    made = []
    for status, reason, sent, delivered, opens, clicks, m_opens, m_clicks in MESSAGES:
        made.append(
            add_message(
                session,
                mailing,
                make_customer(session),
                status=status,
                reason=reason,
                sent_at=T0 if sent else None,
                delivered_at=T0 + H if delivered else None,
                opened_at=T0 + 2 * H if opens else None,
                clicked_at=T0 + 3 * H if clicks else None,
                opens=opens,
                clicks=clicks,
                machine_opens=m_opens,
                machine_clicks=m_clicks,
            )
        )
    return made


def expected_figures() -> dict[str, int]:
    """The figures computed straight from MESSAGES."""
    rows = [
        dict(zip(("status", "reason", "sent", "delivered", "opens", "clicks", "mo", "mc"), m, strict=True))
        for m in MESSAGES
    ]
    return {
        "recorded": len(rows),
        "sent": sum(r["sent"] for r in rows),
        "delivered": sum(r["delivered"] for r in rows),
        "bounced": sum(r["status"] == "failed" and r["reason"] in ("bounced", "undelivered") for r in rows),
        "opened": sum(r["opens"] > 0 for r in rows),
        "clicked": sum(r["clicks"] > 0 for r in rows),
        "opens": sum(r["opens"] for r in rows),
        "clicks": sum(r["clicks"] for r in rows),
        "machine_opens": sum(r["mo"] for r in rows),
        "machine_clicks": sum(r["mc"] for r in rows),
        "machine_only_opened": sum(r["mo"] > 0 and r["opens"] == 0 for r in rows),
    }


def test_the_figures_and_rates_are_those_of_the_mailings_messages(session: Session) -> None:
    mailing = make_mailing(session)
    messages = build_messages(session, mailing)
    unsubscribe(session, messages[0])
    unsubscribe(session, messages[0], source="preferences")  # the same message: one unsubscribe
    unsubscribe(session, messages[2], source="complaint")
    other = make_mailing(session)  # another mailing's messages never count
    add_message(session, other, make_customer(session), status="delivered", sent_at=T0, delivered_at=T0)
    add_control(session, mailing, [make_customer(session) for _ in range(3)])

    report = mailing_report_service.report(session, mailing.id)

    figures = {f.key: f for f in report.figures}
    expected = expected_figures()
    assert {key: figures[key].value for key in expected} == expected
    assert (figures["unsubscribed"].value, figures["complaints"].value) == (1, 1)
    delivered, sent, opened = expected["delivered"], expected["sent"], expected["opened"]
    assert figures["delivered"].rate == pytest.approx(delivered / sent)
    assert figures["bounced"].rate == pytest.approx(expected["bounced"] / sent)
    assert figures["opened"].rate == pytest.approx(opened / delivered)
    assert figures["clicked"].rate == pytest.approx(expected["clicked"] / delivered)
    assert figures["click_to_open"].rate == pytest.approx(expected["clicked"] / opened)
    assert figures["unsubscribed"].rate == pytest.approx(1 / delivered)
    assert figures["machine_opens"].rate is None  # machines are shown apart, never as a rate
    assert report.buckets["unsubscribed_channel"] == 1 and report.buckets["address_issue"] == 1
    assert report.buckets["good_recipients"] == len(MESSAGES) - 2
    assert report.control == 3


def test_a_mailing_without_messages_has_zero_figures_and_no_rates(session: Session) -> None:
    mailing = make_mailing(session, status="draft", started_at=None)
    report = mailing_report_service.report(session, mailing.id)
    assert all(f.value == 0 and f.rate is None for f in report.figures)
    assert report.heatmap is not None and report.heatmap.total == 0
    assert report.per_day == [] and report.attributed.receipts == 0


def test_opens_by_hour_are_peoples_opens_in_the_project_time_zone(session: Session) -> None:
    set_time_zone(session, "Asia/Kolkata")  # UTC+05:30: quarter hours matter
    mailing = make_mailing(session)
    message = add_message(session, mailing, make_customer(session), status="opened", sent_at=T0)
    people = [T0 + timedelta(minutes=m) for m in (0, 29, 31, 45, 60 * 24 * 3 + 10, 60 * 15 + 40)]
    for when in people:
        add_open(session, message, when)
    add_open(session, message, T0 + 5 * H, machine=True)  # a machine's open is not on the map
    sms = make_mailing(session, channel="sms")
    add_open(session, add_message(session, sms, make_customer(session), sent_at=T0), T0)

    heatmap = mailing_report_service.report(session, mailing.id).heatmap

    assert heatmap is not None
    zone = ZoneInfo("Asia/Kolkata")
    expected = Counter((w.astimezone(zone).weekday(), w.astimezone(zone).hour) for w in people)
    found = {(day, hour): n for day, row in enumerate(heatmap.cells) for hour, n in enumerate(row) if n}
    assert found == dict(expected)
    assert heatmap.total == len(people) and heatmap.peak == max(expected.values())
    assert mailing_report_service.report(session, sms.id).heatmap is None  # e-mail only


def test_attributed_receipts_per_day_count_only_credited_ones_in_the_project_zone(session: Session) -> None:
    set_time_zone(session, "America/New_York")
    mailing = make_mailing(session)
    buyer = make_customer(session)
    message = add_message(session, mailing, buyer, status="opened", sent_at=T0)
    # T0 is 09:00 UTC: 04:00 in New York. 02:00 UTC the next day is still the first day there.
    early = make_receipt(session, buyer, T0 + timedelta(hours=17), total="100.00")
    late = make_receipt(session, buyer, T0 + timedelta(days=1, hours=18), total="50.50")
    elsewhere = make_receipt(session, buyer, T0 + timedelta(hours=20), total="999.00")
    credit(session, early, message)
    credit(session, late, message)
    credit(session, elsewhere, message, credited=False)  # another touch got the credit

    report = mailing_report_service.report(session, mailing.id)

    assert [(d.day.isoformat(), d.receipts, d.amount) for d in report.per_day] == [
        ("2026-11-02", 1, Decimal("100.00")),
        ("2026-11-03", 1, Decimal("50.50")),
    ]
    assert (report.attributed.receipts, report.attributed.buyers) == (2, 1)
    assert report.attributed.amount == Decimal("150.50")


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_the_report_csv_holds_the_figures_and_the_days(session: Session) -> None:
    mailing = make_mailing(session, name="=cmd|' /C calc'!A0")
    messages = build_messages(session, mailing)
    buyer_message = messages[0]
    receipt = make_receipt(session, session.get(Customer, buyer_message.customer_id), T0 + 5 * H, "80.00")
    credit(session, receipt, buyer_message)

    rows = read_csv(mailing_report_service.report_csv(mailing_report_service.report(session, mailing.id)))

    assert rows[0] == ["Mailing", "'=cmd|' /C calc'!A0"]  # a formula-looking name stays text
    by_label = {row[0]: row[1:] for row in rows if row}
    expected = expected_figures()
    assert by_label["Sent"] == [str(expected["sent"]), ""]
    assert by_label["Delivered"] == [
        str(expected["delivered"]),
        str(round(100 * expected["delivered"] / expected["sent"], 2)),
    ]
    assert by_label["Machine opens"] == [str(expected["machine_opens"]), ""]
    assert by_label["Attributed revenue"] == ["80.00", ""]
    assert rows[-1] == ["2026-11-02", "1", "80.00"]


def test_the_recipients_csv_has_a_row_per_message_with_its_credited_amount(session: Session) -> None:
    mailing = make_mailing(session)
    messages = build_messages(session, mailing)
    first = messages[0]
    customer = session.get(Customer, first.customer_id)
    assert customer is not None
    for total in ("10.00", "15.50"):
        credit(session, make_receipt(session, customer, T0 + 4 * H, total), first)

    rows = read_csv("".join(mailing_report_service.recipients_csv(session, mailing.id)))

    assert rows[0][:5] == ["Message", "External id", "Channel", "Recipient", "Status"]
    assert len(rows) == 1 + len(MESSAGES)
    first_row = rows[1]
    assert first_row[1] == customer.external_id and first_row[4] == "clicked"
    assert first_row[-2:] == ["2", "25.50"]
    assert rows[2][-2:] == ["0", ""]
    assert [row[4] for row in rows[1:]] == [m[0] for m in MESSAGES]


# --- the groups report ---------------------------------------------------------------------------------


def buy(session: Session, customer: Customer, hours: float, total: str, status: str = "paid") -> None:
    make_receipt(session, customer, T0 + timedelta(hours=hours), total=total, status=status)


def proportions_by_formula(b1: int, n1: int, b2: int, n2: int) -> tuple[float, float]:
    pooled = (b1 + b2) / (n1 + n2)
    z = (b1 / n1 - b2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, math.erfc(abs(z) / math.sqrt(2))


def welch_by_formula(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """(t, CI low, CI high) of mean(a) − mean(b) from Welch's formulas."""
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    error = math.sqrt(va + vb)
    freedom = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    difference = float(np.mean(a) - np.mean(b))
    margin = float(stats.t.ppf(0.975, freedom)) * error
    return difference / error, difference - margin, difference + margin


@pytest.fixture
def groups_mailing(session: Session) -> tuple[Mailing, list[Customer], list[Customer]]:
    """A mailing with 12 recipients and 8 control members, purchases inside and outside the window."""
    set_attribution_days(session, 3)
    mailing = make_mailing(session, attribution_rule={"window": "days", "days": 2})
    recipients = [make_customer(session) for _ in range(12)]
    for index, customer in enumerate(recipients):
        delivered = index < 10
        add_message(session, mailing, customer, status="delivered" if delivered else "failed",
                    sent_at=T0, delivered_at=T0 if delivered else None)  # fmt: skip
    control = [make_customer(session) for _ in range(8)]
    add_control(session, mailing, control)
    buy(session, recipients[0], 1, "100.00")
    buy(session, recipients[0], 20, "50.00")  # two receipts, one buyer
    buy(session, recipients[1], 47, "30.00")
    buy(session, recipients[2], 10, "70.00")
    buy(session, recipients[3], 49, "500.00")  # after the 2-day window
    buy(session, recipients[4], -1, "500.00")  # before the start
    buy(session, recipients[5], 5, "400.00", status="returned")  # not a purchase
    buy(session, control[0], 3, "40.00")
    buy(session, control[1], 30, "20.00")
    return mailing, recipients, control


def test_groups_compare_recipients_with_the_control_group_in_one_window(
    session: Session, groups_mailing: tuple[Mailing, list[Customer], list[Customer]]
) -> None:
    mailing, _, _ = groups_mailing

    report = groups_report_service.report(session, mailing.id)

    assert (report.window_start, report.window_end, report.window_days) == (T0, T0 + timedelta(days=2), 2)
    main, control = report.groups
    assert (main.key, control.key) == ("main", "control")
    assert (main.recipients, main.delivered, main.buyers, main.receipts) == (12, 10, 3, 4)
    assert main.amount == Decimal("250.00")
    assert main.conversion == pytest.approx(3 / 12)
    assert main.receipts_per_customer == pytest.approx(4 / 12)
    assert main.revenue_per_customer == Decimal("20.83")
    assert (control.recipients, control.delivered, control.buyers, control.receipts) == (8, None, 2, 2)
    assert control.amount == Decimal("60.00") and control.revenue_per_customer == Decimal("7.50")
    assert main.expected_amount == Decimal("90.00")  # 12 recipients × 7.50
    assert main.incremental_amount == Decimal("160.00")
    assert control.expected_amount is None and control.comparison is None


def test_the_significance_figures_equal_the_textbook_formulas(
    session: Session, groups_mailing: tuple[Mailing, list[Customer], list[Customer]]
) -> None:
    mailing, _, _ = groups_mailing

    comparison = groups_report_service.report(session, mailing.id).groups[0].comparison

    assert comparison is not None
    z, p = proportions_by_formula(3, 12, 2, 8)
    assert comparison.z == pytest.approx(z) and comparison.p_value == pytest.approx(p)
    assert comparison.significant is False
    main = [150.0, 30.0, 70.0] + [0.0] * 9
    control = [40.0, 20.0] + [0.0] * 6
    t, low, high = welch_by_formula(main, control)
    assert comparison.t == pytest.approx(t)
    assert (comparison.ci_low, comparison.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert comparison.t_p_value == pytest.approx(stats.ttest_ind(main, control, equal_var=False).pvalue)
    assert comparison.revenue_difference == pytest.approx(250 / 12 - 60 / 8)


def test_a_large_clear_difference_is_significant() -> None:
    z, p = two_proportion_test(300, 1000, 200, 1000) or (0.0, 1.0)
    assert p == pytest.approx(proportions_by_formula(300, 1000, 200, 1000)[1]) and p < 0.05 and z > 0
    assert two_proportion_test(0, 10, 0, 10) is None  # nobody bought anywhere: no test
    assert two_proportion_test(1, 0, 0, 10) is None
    assert welch_test(np.zeros(5), np.zeros(5)) is None


def test_groups_of_an_ab_test_are_its_variants_and_the_rest(session: Session) -> None:
    mailing = make_mailing(
        session,
        variants=[{"subject": "A"}, {"subject": "B"}],
        winner_variant=1,
        winner_reason={"metric": "opens", "rates": {"A": 0.1, "B": 0.2}},
    )
    a, b, rest = ([make_customer(session) for _ in range(n)] for n in (4, 5, 6))
    assign(session, mailing, a, 0)
    assign(session, mailing, b, 1)
    assign(session, mailing, rest, None)
    for customer in [*a, *b, *rest]:
        add_message(session, mailing, customer, status="delivered", sent_at=T0, delivered_at=T0)
    control = [make_customer(session) for _ in range(4)]
    add_control(session, mailing, control)
    buy(session, b[0], 2, "10.00")
    buy(session, a[0], 2, "30.00")

    report = groups_report_service.report(session, mailing.id)

    labels = [(g.key, g.label, g.recipients, g.buyers) for g in report.groups]
    assert labels == [
        ("variant", "A", 4, 1),
        ("variant", "B", 5, 1),
        ("rest", "Rest", 6, 0),
        ("control", "Control", 4, 0),
    ]
    assert report.winner_label == "B" and report.winner_reason == {
        "metric": "opens",
        "rates": {"A": 0.1, "B": 0.2},
    }
    assert report.groups[0].expected_amount == Decimal("0.00")


def test_a_date_range_rule_is_the_window_and_off_takes_the_default_days(session: Session) -> None:
    set_time_zone(session, "Europe/Moscow")
    set_attribution_days(session, 5)
    ranged = make_mailing(
        session, attribution_rule={"window": "range", "date_from": "2026-11-10", "date_to": "2026-11-11"}
    )
    off = make_mailing(session, attribution_rule={"window": "off"})
    not_started = make_mailing(session, status="draft", started_at=None)

    window = groups_report_service.report(session, ranged.id)
    assert (window.window_start.isoformat(), window.window_end.isoformat()) == (  # type: ignore[union-attr]
        "2026-11-09T21:00:00+00:00",
        "2026-11-11T21:00:00+00:00",
    )
    assert groups_report_service.report(session, off.id).window_end == T0 + timedelta(days=5)
    empty = groups_report_service.report(session, not_started.id)
    assert empty.window_start is None and empty.groups == []


# --- over the API ----------------------------------------------------------------------------------------


def test_an_analyst_reads_the_report_and_the_groups_over_the_api(
    session: Session, client: TestClient, groups_mailing: tuple[Mailing, list[Customer], list[Customer]]
) -> None:
    mailing, _, _ = groups_mailing
    analyst = staff_api(client, session, Role.ANALYST)
    session.commit()

    report = analyst.get(f"/api/v1/mailings/{mailing.id}/report")
    groups = analyst.get(f"/api/v1/mailings/{mailing.id}/groups")

    assert report.status_code == 200, report.text
    figures = {f["key"]: f for f in report.json()["figures"]}
    assert figures["delivered"]["value"] == 10 and figures["delivered"]["rate_of"] == "sent"
    assert groups.status_code == 200, groups.text
    assert [g["key"] for g in groups.json()["groups"]] == ["main", "control"]
    assert groups.json()["groups"][0]["incremental_amount"] == "160.00"
    assert analyst.get("/api/v1/mailings/999999/report").status_code == 404
    assert analyst.get("/api/v1/mailings/999999/groups").status_code == 404
    assert analyst.get("/api/v1/mailings/abc/groups").status_code == 422


def test_a_designer_may_not_read_mailing_reports(session: Session, client: TestClient) -> None:
    mailing = make_mailing(session)
    designer = staff_api(client, session, Role.DESIGNER)
    session.commit()
    assert designer.get(f"/api/v1/mailings/{mailing.id}/report").status_code == 403


# --- the pages -------------------------------------------------------------------------------------------


def test_an_analyst_opens_the_report_its_groups_tab_and_its_files(
    session: Session, client: TestClient, groups_mailing: tuple[Mailing, list[Customer], list[Customer]]
) -> None:
    mailing, recipients, _ = groups_mailing
    message = add_message(session, mailing, recipients[0], status="opened", sent_at=T0, opened_at=T0, opens=1)
    add_open(session, message, T0 + H)
    receipt = make_receipt(session, recipients[0], T0 + 2 * H, "42.00")
    credit(session, receipt, message)
    user, password = make_user(session, role=Role.ANALYST)
    client.sign_in(user.email, password)  # type: ignore[attr-defined]

    overview = client.get(f"/mailings/{mailing.id}/report")
    assert overview.status_code == 200, overview.text
    assert 'data-card="delivered"' in overview.text and 'id="report-days-data"' in overview.text
    assert overview.text.count('class="sc-heatmap-cell') == 7 * 24
    groups = client.get(f"/mailings/{mailing.id}/report/groups")
    assert groups.status_code == 200, groups.text
    assert 'data-group="main"' in groups.text and 'data-group="control"' in groups.text
    assert "not significant yet" in groups.text

    report_file = client.get(f"/mailings/{mailing.id}/report.csv")
    assert report_file.status_code == 200 and report_file.headers["content-type"].startswith("text/csv")
    assert "attachment" in report_file.headers["content-disposition"]
    recipients_file = client.get(f"/mailings/{mailing.id}/recipients.csv")
    assert recipients_file.status_code == 200
    assert len(read_csv(recipients_file.text)) == 1 + 13  # the header, 12 recipients and one more message
    assert client.get("/mailings/999999/report").status_code == 404


def test_the_report_speaks_russian(session: Session, client: TestClient) -> None:
    mailing = make_mailing(session)
    build_messages(session, mailing)
    user, password = make_user(session, role=Role.SENIOR_MARKETER, language="ru")
    client.sign_in(user.email, password)  # type: ignore[attr-defined]

    page = client.get(f"/mailings/{mailing.id}/report")
    assert page.status_code == 200
    assert "Доставлено" in page.text
    rows = read_csv(client.get(f"/mailings/{mailing.id}/report.csv").text)
    assert rows[0][0] == "Рассылка"
