"""The bell in the top bar: a user sees their own unread notifications, opens one (it is read and leads to
its link), reads them all; nobody opens another user's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.models import FieldDefinition, Notification
from smartcomm.notifications.service import NotificationIn, notification_service
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service
from tests.conftest import UIClient
from tests.factories import make_user


def notify(
    session: Session, user_id: int, title: str, link: str | None = None, key: str | None = None
) -> None:
    notification_service.notify(session, [NotificationIn(user_id, title, "Body", link, key)])
    session.commit()


def read_at(session: Session) -> dict[str, object]:
    statement = select(Notification.title, Notification.read_at).execution_options(populate_existing=True)
    return {row.title: row.read_at for row in session.execute(statement)}


def test_the_bell_lists_the_users_own_unread_notifications_newest_first(
    client: UIClient, session: Session
) -> None:
    me, password = make_user(session)
    other, _ = make_user(session)
    notify(session, me.id, "Call Olga", "/customers/1")
    notify(session, me.id, "Big purchase")
    notify(session, other.id, "Not yours")
    client.sign_in(me.email, password)

    page = client.get("/notifications/bell").text

    assert page.index("Big purchase") < page.index("Call Olga")
    assert "Not yours" not in page
    assert 'id="bell-count">2<' in page
    assert 'hx-get="/notifications/bell"' in client.get("/account").text  # every page loads it


def test_opening_a_notification_reads_it_and_follows_its_link(client: UIClient, session: Session) -> None:
    me, password = make_user(session)
    notify(session, me.id, "Call Olga", "/customers/1")
    notify(session, me.id, "No link")
    client.sign_in(me.email, password)
    [with_link, without] = session.scalars(select(Notification).order_by(Notification.id)).all()

    response = client.submit(f"/notifications/{with_link.id}/open")
    assert (response.status_code, response.headers["location"]) == (303, "/customers/1")
    response = client.submit(
        f"/notifications/{without.id}/open", headers={"referer": "http://testserver/segments"}
    )
    assert response.headers["location"] == "/segments"

    assert all(when is not None for when in read_at(session).values())
    assert "No new notifications" in client.get("/notifications/bell").text


def test_another_users_notification_is_not_found_and_stays_unread(client: UIClient, session: Session) -> None:
    me, password = make_user(session)
    other, _ = make_user(session)
    notify(session, other.id, "Theirs")
    [theirs] = session.scalars(select(Notification)).all()
    client.sign_in(me.email, password)

    assert client.submit(f"/notifications/{theirs.id}/open").status_code == 404
    assert client.submit("/notifications/999999/open").status_code == 404
    assert read_at(session) == {"Theirs": None}


def test_reading_all_empties_the_bell_of_that_user_only(client: UIClient, session: Session) -> None:
    me, password = make_user(session)
    other, _ = make_user(session)
    notify(session, me.id, "Mine 1")
    notify(session, me.id, "Mine 2")
    notify(session, other.id, "Theirs")
    client.sign_in(me.email, password)

    response = client.post("/notifications/read", headers={"X-CSRF-Token": client.csrf, "HX-Request": "true"})

    assert response.status_code == 200 and "No new notifications" in response.text
    found = read_at(session)
    assert found["Mine 1"] is not None and found["Mine 2"] is not None and found["Theirs"] is None


def test_a_key_notifies_once_and_an_outside_link_is_dropped(session: Session) -> None:
    me, _ = make_user(session)
    notify(session, me.id, "Once", "https://evil.example/", key="k-1")
    notify(session, me.id, "Once again", "//evil.example/", key="k-1")
    [note] = session.scalars(select(Notification)).all()
    assert (note.title, note.link) == ("Once", None)


def test_the_bell_needs_a_signed_in_user(client: UIClient) -> None:
    response = client.get("/notifications/bell")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.post("/notifications/read").status_code in (303, 403)  # no session, no CSRF token


def test_the_manager_email_field_is_chosen_in_general_settings(
    admin_client: UIClient, session: Session
) -> None:
    session.add(FieldDefinition(object="customer", code="manager", name="Personal manager", type="string"))
    session.commit()
    page = admin_client.get("/settings/general").text
    assert '<option value="manager"' in page and "Personal manager" in page

    form = {"company_name": "Shop", "time_zone": "Europe/Moscow", "currency": "RUB", "default_language": "en"}
    assert (
        admin_client.submit("/settings/general", form | {"manager_email_field": "manager"}).status_code == 303
    )
    assert settings_service.read(session, GeneralSettings).manager_email_field == "manager"
    assert admin_client.submit("/settings/general", form | {"manager_email_field": ""}).status_code == 303
    assert settings_service.read(session, GeneralSettings).manager_email_field is None
