"""Settings → Global control group: the settings, drawing, uploading, the report, every change in the action
history; refused input writes nothing; marketers run it, an analyst reads it, other roles may not open it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.control_groups.service import global_control_service
from smartcomm.models import AuditEntry, GlobalControlDraw, SettingValue
from tests.conftest import UIClient
from tests.control_groups.helpers import ACTOR, make_base, open_members
from tests.factories import make_user

URL = "/settings/global-control"
GOOD = {"enabled": "true", "source": "draw", "percent": "10", "cap": "", "months": "3", "strata[]": "gender"}


def history(session: Session) -> list[tuple[str, str]]:
    statement = select(AuditEntry.object_type, AuditEntry.action).order_by(AuditEntry.id)
    return [tuple(row) for row in session.execute(statement) if row[0] in ("settings", "global_control")]


def stored(session: Session) -> int:
    statement = select(func.count()).where(SettingValue.key.startswith("global_control."))
    return int(session.scalar(statement) or 0)


def test_the_page_shows_the_settings_the_group_and_the_report(
    admin_client: UIClient, session: Session
) -> None:
    page = admin_client.get(URL)
    assert page.status_code == 200
    for text in ("Global control group", "Enable effect measurement", "Stay duration, months", "Draws"):
        assert text in page.text
    assert 'href="/settings/global-control"' in page.text  # in the settings navigation


def test_saving_turns_measurement_on_draws_the_group_and_is_audited(
    admin_client: UIClient, session: Session
) -> None:
    make_base(session, 40, gender=lambda i: "mf"[i % 2])
    response = admin_client.submit(URL, GOOD)
    assert response.status_code == 303, response.text
    assert len(open_members(session)) == 4
    assert history(session) == [("settings", "update"), ("global_control", "draw")]
    page = admin_client.get(URL)
    assert "Draw now" in page.text and 'data-card="members"' in page.text

    assert admin_client.submit(f"{URL}/draw").status_code == 303
    assert history(session)[-1] == ("global_control", "draw")
    shown = admin_client.get("/settings/history").text
    for text in ("Global control group", "Drawn", "Effect measurement", "Share of the base, %"):
        assert text in shown


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("percent", "75", "Enter a share from 0.1 to 50 %."),
        ("percent", "abc", "Enter a share from 0.1 to 50 %."),
        ("cap", "0", "Enter a whole number of customers, at least 1, or leave it empty."),
        ("months", "40", "Enter a whole number of months from 1 to 36."),
    ],
)
def test_a_refused_field_is_named_and_nothing_is_written(
    admin_client: UIClient, session: Session, field: str, value: str, message: str
) -> None:
    make_base(session, 10)
    response = admin_client.submit(URL, {**GOOD, field: value})
    assert response.status_code == 422
    assert f'data-error-for="{field}">{message}' in response.text
    assert (stored(session), history(session), open_members(session)) == (0, [], [])


def test_an_upload_with_unknown_rows_names_them_and_writes_nothing(
    admin_client: UIClient, session: Session
) -> None:
    make_base(session, 5)
    global_control_service.update(session, ACTOR, {"enabled": True, "percent": 20})
    session.commit()
    before = (open_members(session), history(session))
    draws = session.scalar(select(func.count()).select_from(GlobalControlDraw))

    file = ("group.csv", b"G-1\nX-9\nG-2\n", "text/csv")
    response = admin_client.post(
        URL + "/upload", data={"csrf_token": admin_client.csrf}, files={"file": file}
    )

    assert response.status_code == 422
    assert "Row 2: no customer has the external id “X-9”" in response.text
    assert (open_members(session), history(session)) == before
    assert session.scalar(select(func.count()).select_from(GlobalControlDraw)) == draws


def test_an_upload_replaces_the_group(admin_client: UIClient, session: Session) -> None:
    ids = make_base(session, 5)
    global_control_service.update(session, ACTOR, {"enabled": True, "percent": 20})
    session.commit()
    file = ("group.csv", b"external_id\nG-3\nG-4\n", "text/csv")
    response = admin_client.post(
        URL + "/upload", data={"csrf_token": admin_client.csrf}, files={"file": file}
    )
    assert response.status_code == 303, response.text
    assert open_members(session) == ids[2:4]
    assert history(session)[-2:] == [("settings", "update"), ("global_control", "upload")]


def test_the_page_in_russian(client: UIClient, session: Session) -> None:
    user, password = make_user(session, role="administrator", language="ru")
    client.sign_in(user.email, password)
    page = client.get(URL)
    assert page.status_code == 200
    for text in ("Глобальная контрольная группа", "Включить измерение эффекта", "Стратифицировать по"):
        assert text in page.text


@pytest.mark.parametrize("role", ["operator", "designer"])
def test_other_roles_may_not_open_or_change_it(client: UIClient, session: Session, role: str) -> None:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    assert client.get(URL).status_code == 403
    assert client.submit(URL, GOOD).status_code == 403
    assert client.submit(f"{URL}/draw").status_code == 403
    assert 'href="/settings/global-control"' not in client.get("/account").text
    assert stored(session) == 0


@pytest.mark.parametrize("role", ["marketer", "senior_marketer"])
def test_a_marketer_turns_the_group_on_at_5_percent_and_draws_it(
    client: UIClient, session: Session, role: str
) -> None:
    make_base(session, 40)
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    page = client.get(URL)
    assert page.status_code == 200
    # Reached from the menu: the Settings section shows with this one entry, not the administrators' pages.
    assert 'href="/settings/global-control"' in page.text
    assert 'href="/settings/general"' not in page.text
    assert 'id="gcg-settings"' in page.text and 'id="gcg-upload"' in page.text

    response = client.submit(URL, {**GOOD, "percent": "5", "strata[]": ""})
    assert response.status_code == 303, response.text
    assert len(open_members(session)) == 2
    assert "Draw now" in client.get(URL).text
    assert client.submit(f"{URL}/draw").status_code == 303
    assert len(open_members(session)) == 2
    assert history(session) == [
        ("settings", "update"),
        ("global_control", "draw"),
        ("global_control", "draw"),
    ]


def test_an_analyst_sees_the_page_but_may_not_change_it(client: UIClient, session: Session) -> None:
    make_base(session, 20)
    user, password = make_user(session, role="analyst")
    client.sign_in(user.email, password)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'href="/settings/global-control"' in page.text and "Draws" in page.text
    assert "Draw now" not in page.text and 'id="gcg-upload"' not in page.text

    assert client.submit(URL, {**GOOD, "percent": "5"}).status_code == 403
    assert client.submit(f"{URL}/draw").status_code == 403
    file = ("group.csv", b"G-1\n", "text/csv")
    assert (
        client.post(URL + "/upload", data={"csrf_token": client.csrf}, files={"file": file}).status_code
        == 403
    )
    assert (stored(session), history(session), open_members(session)) == (0, [], [])
    assert session.scalar(select(func.count()).select_from(GlobalControlDraw)) == 0


def test_the_profile_shows_the_membership_and_its_history(admin_client: UIClient, session: Session) -> None:
    ids = make_base(session, 3)
    global_control_service.update(session, ACTOR, {"enabled": True, "source": "file"})
    global_control_service.upload(session, ACTOR, "a.csv", b"G-1\n")
    global_control_service.upload(session, ACTOR, "b.csv", b"G-1\nG-2\n")
    session.commit()
    page = admin_client.get(f"/customers/{ids[0]}")
    assert 'id="global-control-badge"' in page.text and "In the global control group since" in page.text
    assert page.text.count("data-stay=") == 2
    other = admin_client.get(f"/customers/{ids[2]}")
    assert 'id="global-control-badge"' not in other.text


def test_the_report_period_is_chosen_and_a_bad_date_falls_back_to_the_default(
    admin_client: UIClient, session: Session
) -> None:
    chosen = admin_client.get(URL, params={"from": "2026-03-01", "to": "2026-01-01"})
    assert 'name="from" value="2026-01-01"' in chosen.text and 'name="to" value="2026-03-01"' in chosen.text
    fallback = admin_client.get(URL, params={"from": "soon", "to": "2026-01-01"})
    assert fallback.status_code == 200 and 'name="to" value="2026-01-01"' not in fallback.text
