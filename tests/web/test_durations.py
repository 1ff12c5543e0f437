"""How long builds, calculations and imports took, as people read it: milliseconds below a second."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from smartcomm.kit import i18n
from smartcomm.kit.time import utcnow
from smartcomm.models import ImportJob
from smartcomm.web.templating import format_duration
from tests.conftest import UIClient
from tests.factories import make_user


@pytest.mark.parametrize(
    ("ms", "english", "russian"),
    [
        (None, "—", "—"),
        (0, "0 ms", "0 мс"),
        (13, "13 ms", "13 мс"),
        (999, "999 ms", "999 мс"),
        (1_000, "1.0 s", "1,0 с"),
        (9_940, "9.9 s", "9,9 с"),
        (42_600, "43 s", "43 с"),
        (125_000, "2 min 5 s", "2 мин 5 с"),
    ],
)
def test_durations_in_both_languages(ms: int | None, english: str, russian: str) -> None:
    with i18n.language("en"):
        assert format_duration(ms) == english
    with i18n.language("ru"):
        assert format_duration(ms) == russian


@pytest.mark.parametrize(("language", "shown"), [("en", "took 14 ms"), ("ru", "заняло 14 мс")])
def test_an_import_of_a_few_rows_says_how_many_milliseconds_it_took(
    client: UIClient, session: Session, language: str, shown: str
) -> None:
    started = utcnow()
    job = ImportJob(
        kind="customers",
        file_name="few.csv",
        file_path="/nonexistent/few.csv",
        status="done",
        total_rows=3,
        processed_rows=3,
        imported_rows=3,
        started_at=started,
        finished_at=started + timedelta(milliseconds=14),
    )
    session.add(job)
    session.commit()
    user, password = make_user(session, role="administrator", language=language)
    client.sign_in(user.email, password)

    page = html.unescape(client.get(f"/imports/{job.id}").text)

    assert shown in page
