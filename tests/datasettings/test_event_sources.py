"""Settings → Event sources: write keys, activation, the protected system source, the delete guard."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy.orm import Session

from smartcomm.audit.service import REDACTED
from smartcomm.datasettings.event_sources import EventSourceCreate, EventSourceUpdate, event_source_service
from smartcomm.kit.errors import Conflict, InvalidInput
from smartcomm.kit.time import utcnow
from smartcomm.models import Event, EventSource
from smartcomm.models.events import SYSTEM_SOURCE_CODE
from tests.datasettings.helpers import ACTOR, audit_rows, count

KEY = re.compile(r"[A-Za-z0-9_-]{32}")


def system_source(session: Session) -> EventSource:
    return next(s for s in event_source_service.overview(session) if s.code == SYSTEM_SOURCE_CODE)


def create(session: Session, code: str = "mobile-app", domain: str | None = None) -> EventSource:
    return event_source_service.create(
        session, ACTOR, EventSourceCreate(code=code, name="Mobile app", domain=domain)
    )


def test_a_new_source_is_active_with_a_random_key_that_the_history_never_shows(session: Session) -> None:
    first, second = create(session), create(session, "kiosk")

    assert first.is_active and not first.is_system
    assert KEY.fullmatch(first.write_key) and first.write_key != second.write_key
    entry = audit_rows(session, "event_source")[0]
    assert entry.changes["write_key"] == [None, REDACTED]
    assert first.write_key not in json.dumps(entry.changes)


def test_regenerating_the_key_replaces_it_and_records_a_redacted_change(session: Session) -> None:
    source = create(session)
    old = source.write_key

    event_source_service.regenerate_key(session, ACTOR, source.id)

    assert KEY.fullmatch(source.write_key) and source.write_key != old
    entry = audit_rows(session, "event_source")[-1]
    assert (entry.action, entry.changes) == ("update", {"write_key": [REDACTED, REDACTED]})
    assert old not in json.dumps(entry.changes) and source.write_key not in json.dumps(entry.changes)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Shop.Example.com", "shop.example.com"),
        ("https://shop.example.com:8443/catalog", "shop.example.com"),
        ("", None),
    ],
)
def test_the_domain_is_kept_as_a_bare_host_name(session: Session, given: str, stored: str | None) -> None:
    assert create(session, domain=given or None).domain == stored


def test_a_bad_domain_or_code_names_the_field_and_writes_nothing(session: Session) -> None:
    with pytest.raises(InvalidInput) as bad_domain:
        create(session, domain="not a domain")
    with pytest.raises(InvalidInput) as bad_code:
        create(session, code="Mobile App")
    with pytest.raises(Conflict) as taken:
        create(session, code=SYSTEM_SOURCE_CODE)
    assert [e.value.errors[0].field for e in (bad_domain, bad_code, taken)] == ["domain", "code", "code"]
    assert count(session, EventSource) == 1
    assert audit_rows(session, "event_source") == []


def test_the_system_source_can_be_deactivated_and_edited_but_not_deleted(session: Session) -> None:
    system = system_source(session)
    event_source_service.set_active(session, ACTOR, system.id, False)
    event_source_service.update(
        session, ACTOR, system.id, EventSourceUpdate(name="Web shop", domain="shop.example")
    )

    assert (system.is_active, system.name, system.domain, system.code) == (
        False,
        "Web shop",
        "shop.example",
        SYSTEM_SOURCE_CODE,
    )
    with pytest.raises(Conflict, match="deactivate it instead"):
        event_source_service.delete(session, ACTOR, system.id)
    changes = [e.changes for e in audit_rows(session, "event_source")]
    assert changes[0] == {"is_active": [True, False]}


def test_a_source_that_sent_events_cannot_be_deleted_but_an_unused_one_can(session: Session) -> None:
    used, unused = create(session), create(session, "kiosk")
    session.add(Event(name="app_opened", occurred_at=utcnow(), source_id=used.id))
    session.flush()

    with pytest.raises(Conflict, match="Events came from this source"):
        event_source_service.delete(session, ACTOR, used.id)
    event_source_service.delete(session, ACTOR, unused.id)

    assert {s.code for s in event_source_service.overview(session)} == {SYSTEM_SOURCE_CODE, "mobile-app"}
    assert audit_rows(session, "event_source")[-1].changes["code"] == ["kiosk", None]
