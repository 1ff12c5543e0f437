"""Settings → Event sources: sites and apps that send behaviour, each with a public write key."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from pydantic import BaseModel, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import REDACTED, diff
from smartcomm.datasettings.common import (
    INTEGRATION_CODE,
    INTEGRATION_CODE_RULE,
    check_code,
    duplicate_code,
    record,
    snapshot,
)
from smartcomm.kit.errors import Conflict, InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.repository import Repository
from smartcomm.models import Event, EventSource, WebEvent, WebSession

OBJECT_TYPE = "event_source"
AUDITED = ("code", "name", "domain", "is_active")
HOSTNAME = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Domain = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None


class EventSourceCreate(BaseModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: Name
    domain: Domain = None


class EventSourceUpdate(BaseModel):
    name: Name
    domain: Domain = None


def new_write_key() -> str:
    return secrets.token_urlsafe(24)


def clean_domain(value: str | None) -> str | None:
    """A bare host name: a pasted address loses its scheme, path and port; anything else is an error."""
    if not value:
        return None
    host = value.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host).split("/", 1)[0].split(":", 1)[0].rstrip(".")
    if not HOSTNAME.fullmatch(host):
        raise InvalidInput.for_field("domain", "Enter a domain name such as shop.example.com")
    return host


class EventSourceRepository(Repository[EventSource]):
    model = EventSource

    def ordered(self) -> list[EventSource]:
        statement = select(EventSource).order_by(
            EventSource.is_system.desc(), EventSource.name, EventSource.id
        )
        return list(self.session.scalars(statement))

    def by_code(self, code: str) -> EventSource | None:
        return self.session.scalar(select(EventSource).where(EventSource.code == code))

    def is_used(self, source_id: int) -> bool:
        """Whether any event, web event or site session came from the source."""
        for model in (Event, WebEvent, WebSession):
            statement = select(model.id).where(model.source_id == source_id).limit(1)
            if self.session.scalar(statement) is not None:
                return True
        return False


def _label(source: EventSource) -> str:
    return f"{source.name} ({source.code})"


class EventSourceService:
    def overview(self, session: Session) -> list[EventSource]:
        """Every event source, the system one first."""
        return EventSourceRepository(session).ordered()

    def get(self, session: Session, source_id: int) -> EventSource:
        source = EventSourceRepository(session).get(source_id)
        if source is None:
            raise NotFound("Event source", source_id)
        return source

    def create(self, session: Session, actor: Actor, data: EventSourceCreate) -> EventSource:
        """Add an active source with a new random write key."""
        repository = EventSourceRepository(session)
        code = check_code(data.code, INTEGRATION_CODE, INTEGRATION_CODE_RULE)
        domain = clean_domain(data.domain)
        if repository.by_code(code) is not None:
            raise duplicate_code(lazy("An event source with this code already exists"))
        source = repository.add(
            EventSource(code=code, name=data.name, domain=domain, is_active=True, write_key=new_write_key())
        )
        changes = diff({}, snapshot(source, AUDITED)) | {"write_key": [None, REDACTED]}
        record(session, actor, OBJECT_TYPE, source.id, "create", changes, _label(source))
        return source

    def update(self, session: Session, actor: Actor, source_id: int, data: EventSourceUpdate) -> EventSource:
        """Change the name and domain of a source (its code is what trackers send)."""
        source = self.get(session, source_id)
        domain = clean_domain(data.domain)
        before = snapshot(source, AUDITED)
        source.name = data.name
        source.domain = domain
        return self._saved(session, actor, source, before)

    def set_active(self, session: Session, actor: Actor, source_id: int, active: bool) -> EventSource:
        """Activate or deactivate a source (the system one too)."""
        source = self.get(session, source_id)
        before = snapshot(source, AUDITED)
        source.is_active = active
        return self._saved(session, actor, source, before)

    def regenerate_key(self, session: Session, actor: Actor, source_id: int) -> EventSource:
        """Replace the write key; senders holding the old key are refused from now on."""
        source = self.get(session, source_id)
        source.write_key = new_write_key()
        session.flush()
        record(
            session,
            actor,
            OBJECT_TYPE,
            source.id,
            "update",
            {"write_key": [REDACTED, REDACTED]},
            _label(source),
        )
        return source

    def delete(self, session: Session, actor: Actor, source_id: int) -> None:
        """Delete a user source that never sent anything."""
        repository = EventSourceRepository(session)
        source = self.get(session, source_id)
        if source.is_system:
            raise Conflict("The system event source cannot be deleted; deactivate it instead")
        if repository.is_used(source.id):
            raise Conflict("Events came from this source, so it cannot be deleted; deactivate it instead")
        changes = diff(snapshot(source, AUDITED), {}) | {"write_key": [REDACTED, None]}
        record(session, actor, OBJECT_TYPE, source.id, "delete", changes, _label(source))
        repository.delete(source)

    def _saved(
        self, session: Session, actor: Actor, source: EventSource, before: dict[str, object]
    ) -> EventSource:
        session.flush()
        changes = diff(before, snapshot(source, AUDITED))
        if changes:
            record(session, actor, OBJECT_TYPE, source.id, "update", changes, _label(source))
        return source


event_source_service = EventSourceService()
