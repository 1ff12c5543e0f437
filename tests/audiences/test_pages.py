"""The audience pages behind the browser: forms, refusals that write nothing, segment actions, imports."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.audiences.schemas import AudienceIn, MembersIn
from smartcomm.audiences.service import audience_service
from smartcomm.models import Audience, AudienceImport, AuditEntry
from tests.audiences.helpers import ACTOR, city_segment, customer, member_ids
from tests.conftest import UIClient
from tests.factories import make_user


def signed_in(client: UIClient, session: Session, role: str = "marketer") -> UIClient:
    user, password = make_user(session, role=role)
    client.sign_in(user.email, password)
    return client


def test_create_from_the_dialog_and_refuse_a_taken_name(client: UIClient, session: Session) -> None:
    marketer = signed_in(client, session)
    dialog = marketer.get("/audiences/new", headers={"HX-Request": "true", "HX-Target": "dialog-content"})
    assert 'id="audience-form"' in dialog.text and "<html" not in dialog.text
    created = marketer.submit("/audiences", {"name": "Coffee lovers", "description": "Bought coffee twice"})
    audience = session.scalars(select(Audience)).one()
    assert (created.status_code, created.headers["location"]) == (303, f"/audiences/{audience.id}")
    taken = marketer.post(
        "/audiences",
        data={"name": "coffee LOVERS", "csrf_token": marketer.csrf},
        headers={"HX-Request": "true", "HX-Target": "dialog-content"},
    )
    assert taken.status_code == 422
    assert "an audience with this name already exists" in taken.text
    assert session.scalar(select(func.count()).select_from(Audience)) == 1


def test_rename_and_delete(client: UIClient, session: Session) -> None:
    marketer = signed_in(client, session)
    audience = audience_service.create(session, ACTOR, AudienceIn(name="Old name"))
    session.commit()
    marketer.submit(f"/audiences/{audience.id}/edit", {"name": "New name", "description": ""})
    session.expire_all()
    assert (audience.name, audience.description) == ("New name", None)
    confirm = marketer.get(f"/audiences/{audience.id}/delete")
    assert "Delete “New name”?" in confirm.text
    deleted = marketer.submit(f"/audiences/{audience.id}/delete")
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/audiences")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Audience)) == 0


def test_segment_actions_and_member_removal(client: UIClient, session: Session) -> None:
    marketer = signed_in(client, session)
    for number, city in enumerate(["Moscow", "Moscow", "Kazan"]):
        customer(session, f"C{number}", f"Last{number}", city=city)
    moscow = city_segment(session, "Moscow", "Moscow")
    audience = audience_service.create(session, ACTOR, AudienceIn(name="VIP"))
    session.commit()
    marketer.submit(f"/audiences/{audience.id}/segment", {"segment_id": str(moscow.id), "action": "add"})
    page = marketer.get(f"/audiences/{audience.id}")
    assert "2 customers were added to the audience." in page.text
    assert member_ids(session, audience.id) == {"C0", "C1"}
    c0 = re.search(r'data-customer-id="(\d+)"', page.text)
    assert c0 is not None
    marketer.submit(f"/audiences/{audience.id}/members/{c0.group(1)}/remove")
    assert "The customer was removed from the audience." in marketer.get(f"/audiences/{audience.id}").text
    assert len(member_ids(session, audience.id)) == 1
    marketer.submit(f"/audiences/{audience.id}/segment", {"segment_id": str(moscow.id), "action": "remove"})
    assert "1 customer was removed from the audience." in marketer.get(f"/audiences/{audience.id}").text
    assert member_ids(session, audience.id) == set()


def test_members_are_searched_within_the_audience(client: UIClient, session: Session) -> None:
    marketer = signed_in(client, session)
    customer(session, "C1", "Sokolova", phone="+7 916 111-22-33")
    customer(session, "C2", "Sokolov")
    audience = audience_service.create(session, ACTOR, AudienceIn(name="VIP"))
    audience_service.add_members(session, ACTOR, audience.id, MembersIn(external_ids=["C1"]))
    session.commit()
    found = marketer.get(
        f"/audiences/{audience.id}?q=sokol", headers={"HX-Request": "true", "HX-Target": "members-table"}
    )
    assert "Sokolova Test" in found.text and "Sokolov Test" not in found.text
    assert "Recent changes" not in found.text  # the table alone


def test_the_import_form_refuses_missing_choices_and_writes_nothing(
    client: UIClient, session: Session
) -> None:
    marketer = signed_in(client, session)
    no_file = marketer.submit(
        "/audiences/import", {"mode": "single", "target": "new", "new_name": "X", "id_type": "phone"}
    )
    assert no_file.status_code == 422 and "Choose a CSV file." in no_file.text
    files = {"file": ("ids.csv", b"LP-1\n", "text/csv")}
    no_audience = marketer.post(
        "/audiences/import",
        data={"mode": "single", "target": "existing", "id_type": "external_id", "csrf_token": marketer.csrf},
        files=files,
    )
    assert no_audience.status_code == 422
    assert "choose an audience or enter the name of a new one" in no_audience.text
    assert session.scalar(select(func.count()).select_from(AudienceImport)) == 0


def test_an_uploaded_file_is_imported_and_reported(client: UIClient, session: Session) -> None:
    marketer = signed_in(client, session)
    customer(session, "LP-1", "Sokolova")
    started = marketer.post(
        "/audiences/import",
        data={"mode": "single", "target": "new", "new_name": "From file", "id_type": "external_id",
              "csrf_token": marketer.csrf},
        files={"file": ("ids.csv", b"external_id;\nLP-1;\nLP-77;\n", "text/csv")},
    )  # fmt: skip
    assert started.status_code == 303
    page = marketer.get(started.headers["location"])
    assert 'data-status="done"' in page.text and "LP-77" in page.text
    report = marketer.get(started.headers["location"] + "/unmatched.csv")
    assert report.headers["content-type"].startswith("text/csv")
    assert report.text == "\ufeffrow;value;reason\r\n3;LP-77;no customer with this external id\r\n"
    imports = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
    assert [(entry.object_type, entry.changes["added"]) for entry in imports] == [("audience", [None, 1])]


def test_an_analyst_sees_the_lists_without_edit_controls(client: UIClient, session: Session) -> None:
    analyst = signed_in(client, session, "analyst")
    audience = audience_service.create(session, ACTOR, AudienceIn(name="VIP"))
    session.commit()
    listing = analyst.get("/audiences")
    assert listing.status_code == 200 and "VIP" in listing.text
    assert 'id="new-audience"' not in listing.text and 'data-action="delete"' not in listing.text
    page = analyst.get(f"/audiences/{audience.id}")
    assert page.status_code == 200 and 'id="delete-audience"' not in page.text
    assert analyst.get("/audiences/import").status_code == 403
    assert analyst.submit(f"/audiences/{audience.id}/delete").status_code == 403
    assert session.get(Audience, audience.id) is not None
