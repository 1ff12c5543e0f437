"""The messaging calendar: mailings sit on their day of the project time zone (started ones on their start,
scheduled ones and drafts with a time on it), the channel filter keeps its channel's mailings and volume,
the month and week views cover whole weeks, and the page opens each mailing."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from smartcomm.auth.permissions import Role
from smartcomm.mailings.calendar_queries import CalendarQueries
from smartcomm.web.routes.mailing_calendar import period_of
from tests.conftest import UIClient
from tests.factories import make_user
from tests.mailings.report_helpers import add_message, make_customer, make_mailing, set_time_zone

UTC_NOON = datetime.fromisoformat("2026-12-10T12:00:00+00:00")


def test_a_month_view_covers_whole_weeks_monday_first() -> None:
    period = period_of("month", date(2026, 12, 17))
    assert (period.first, period.last) == (date(2026, 11, 30), date(2027, 1, 3))
    assert (period.previous, period.next, period.weeks) == (date(2026, 11, 1), date(2027, 1, 1), 5)
    week = period_of("week", date(2026, 12, 17))
    assert (week.first, week.last) == (date(2026, 12, 14), date(2026, 12, 20))
    assert (week.previous, week.next) == (date(2026, 12, 10), date(2026, 12, 24))


def test_mailings_are_placed_on_their_day_of_the_project_zone(session: Session) -> None:
    set_time_zone(session, "Asia/Vladivostok")  # UTC+10: 20:00 UTC is the next morning there
    sent = make_mailing(session, name="Sent", started_at=datetime.fromisoformat("2026-12-09T20:00:00+00:00"))
    scheduled = make_mailing(
        session, name="Planned", status="scheduled", started_at=None, scheduled_at=UTC_NOON
    )
    draft = make_mailing(session, name="Idea", status="draft", started_at=None, scheduled_at=UTC_NOON)
    make_mailing(session, name="Undated draft", status="draft", started_at=None)
    cancelled = make_mailing(
        session,
        name="Stopped",
        status="cancelled",
        started_at=None,
        scheduled_at=UTC_NOON + timedelta(days=1),
    )
    make_mailing(session, name="Elsewhere", started_at=UTC_NOON + timedelta(days=40))
    sms = make_mailing(session, name="Texts", channel="sms_viber", started_at=UTC_NOON)

    entries = CalendarQueries(session).entries(
        date(2026, 12, 1), date(2026, 12, 31), "Asia/Vladivostok", None
    )

    placed = {e.name: (e.day.isoformat(), e.kind) for e in entries}
    assert placed == {
        "Sent": ("2026-12-10", "done"),
        "Planned": ("2026-12-10", "scheduled"),
        "Idea": ("2026-12-10", "draft"),
        "Stopped": ("2026-12-11", "done"),
        "Texts": ("2026-12-10", "done"),
    }
    assert {e.id for e in entries} >= {sent.id, scheduled.id, draft.id, cancelled.id}
    only_sms = CalendarQueries(session).entries(
        date(2026, 12, 1), date(2026, 12, 31), "Asia/Vladivostok", "sms"
    )
    assert [e.id for e in only_sms] == [sms.id]


def test_the_volume_counts_handed_over_messages_per_channel_and_local_day(session: Session) -> None:
    set_time_zone(session, "Europe/Moscow")
    email = make_mailing(session)
    texts = make_mailing(session, channel="sms_viber")
    late_evening = datetime.fromisoformat("2026-12-10T21:30:00+00:00")  # 00:30 on the 11th in Moscow
    for when in (UTC_NOON, UTC_NOON, late_evening):
        add_message(session, email, make_customer(session), handed_over_at=when)
    add_message(session, email, make_customer(session), status="planned")  # not handed over
    add_message(session, texts, make_customer(session), channel="viber", handed_over_at=UTC_NOON)
    add_message(session, texts, make_customer(session), channel="sms", handed_over_at=UTC_NOON)

    queries = CalendarQueries(session)
    volume = queries.volume(date(2026, 12, 1), date(2026, 12, 31), "Europe/Moscow", None)

    assert {channel: dict(days) for channel, days in volume.items()} == {
        "email": {date(2026, 12, 10): 2, date(2026, 12, 11): 1},
        "viber": {date(2026, 12, 10): 1},
        "sms": {date(2026, 12, 10): 1},
    }
    only_sms = queries.volume(date(2026, 12, 1), date(2026, 12, 31), "Europe/Moscow", "sms")
    assert set(only_sms) == {"viber", "sms"}


def signed_in(client: UIClient, session: Session, role: Role) -> UIClient:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    return client


def test_the_calendar_page_links_each_mailing_and_filters_by_channel(
    client: UIClient, session: Session
) -> None:
    email = make_mailing(session, name="Winter sale", started_at=UTC_NOON)
    push = make_mailing(session, name="Flash push", channel="push", status="scheduled", started_at=None,
                        scheduled_at=UTC_NOON)  # fmt: skip
    add_message(session, email, make_customer(session), handed_over_at=UTC_NOON)
    session.commit()
    signed_in(client, session, Role.ANALYST)

    page = client.get("/mailings/calendar?date=2026-12-10")
    assert page.status_code == 200, page.text
    assert f'href="/mailings/{email.id}"' in page.text and f'href="/mailings/{push.id}"' in page.text
    assert re.search(rf'data-mailing="{push.id}" data-kind="scheduled"', page.text)
    assert 'id="calendar-volume-data"' in page.text

    filtered = client.get("/mailings/calendar?date=2026-12-10&channel=push&view=week")
    assert filtered.status_code == 200
    assert f'data-mailing="{push.id}"' in filtered.text and f'data-mailing="{email.id}"' not in filtered.text
    assert 'id="calendar-volume-data"' not in filtered.text  # no push handed over

    refused = client.get("/mailings/calendar?channel=fax")
    assert refused.status_code == 422 and "channel" in refused.text
    assert client.get("/mailings/calendar?date=2026-13-01").status_code == 422


def test_a_designer_does_not_see_the_calendar(client: UIClient, session: Session) -> None:
    signed_in(client, session, Role.DESIGNER)
    assert client.get("/mailings/calendar").status_code == 403
