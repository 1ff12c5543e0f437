"""The global control group: its settings, drawing it, uploading it, and the redraw when its time is up.

Every change is one action: the settings keys, the closed and opened stays and a history row, in the
caller's transaction. Turning measurement off dissolves the group (the open stays end; the history
stays); turning it on draws one at once unless the group comes from a file.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.control_groups.draws import Share
from smartcomm.control_groups.repository import GlobalControlRepository
from smartcomm.control_groups.schemas import DrawOut, GlobalControlSettings, GlobalControlStatus, StayOut
from smartcomm.control_groups.uploads import read_list, unknown_rows_error
from smartcomm.kit.errors import Conflict
from smartcomm.kit.time import utcnow
from smartcomm.models import GlobalControlDraw
from smartcomm.segments.metrics.base import add_months
from smartcomm.settings.service import settings_service

AUDIT_TYPE = "global_control"


class GlobalControlService:
    def settings(self, session: Session) -> GlobalControlSettings:
        return settings_service.read(session, GlobalControlSettings)

    def status(self, session: Session) -> GlobalControlStatus:
        """The settings, the group now, and when it is drawn again."""
        settings = self.settings(session)
        repository = GlobalControlRepository(session)
        current = repository.current()
        return GlobalControlStatus(
            settings=settings,
            current=DrawOut.model_validate(current) if current else None,
            members=repository.members_now(),
            next_draw_at=self.next_draw_at(settings, repository.latest()),
        )

    @staticmethod
    def next_draw_at(settings: GlobalControlSettings, latest: GlobalControlDraw | None) -> datetime | None:
        """A drawn group is drawn again `months` months after its draw (a change of the months moves the
        date with it); an uploaded one is kept until the next upload."""
        if not settings.enabled or settings.source != "draw" or latest is None:
            return None
        drawn = latest.drawn_at
        return datetime.combine(add_months(drawn.date(), settings.months), drawn.timetz())

    def update(
        self, session: Session, actor: Actor, values: dict[str, Any], now: datetime | None = None
    ) -> GlobalControlSettings:
        """Change the settings; switching measurement off dissolves the group, on draws one."""
        before = self.settings(session)
        after = settings_service.update(session, actor, GlobalControlSettings, values)
        if before.enabled and not after.enabled:
            self._dissolve(session, actor, now or utcnow())
        elif after.enabled and not before.enabled and self._drawn_on_start(session, after):
            self.draw(session, actor, now=now)
        return after

    def draw(
        self, session: Session, actor: Actor, seed: int | None = None, now: datetime | None = None
    ) -> GlobalControlDraw:
        """Draw the group anew from the whole base by the settings; the open stays end."""
        settings = self._enabled(session)
        moment = now or utcnow()
        repository = GlobalControlRepository(session)
        base = repository.base_size()
        draw = self._new_draw(session, actor, moment, source="draw", base_size=base)
        draw.seed = secrets.randbelow(2**62) if seed is None else seed
        draw.percent, draw.cap, draw.strata = settings.percent, settings.cap, list(settings.strata)
        share = Share.of(settings.percent, settings.cap, base)
        draw.size = repository.insert_drawn(draw, share, settings.strata, moment.date())
        self._audit(session, actor, draw, "draw")
        return draw

    def upload(
        self, session: Session, actor: Actor, file_name: str, data: bytes, now: datetime | None = None
    ) -> GlobalControlDraw:
        """The group becomes the customers listed in the file; a row naming no customer rejects the whole
        file (nothing is written)."""
        self._enabled(session)
        listed = read_list(data)
        repository = GlobalControlRepository(session)
        known = repository.customers_by_external_id(sorted({value for _, value in listed.rows}))
        unknown = [(number, value) for number, value in listed.rows if value not in known]
        if unknown:
            raise unknown_rows_error(unknown)
        if self.settings(session).source != "file":
            settings_service.update(session, actor, GlobalControlSettings, {"source": "file"})
        members = sorted({known[value] for _, value in listed.rows})
        draw = self._new_draw(
            session, actor, now or utcnow(), source="file", base_size=repository.base_size()
        )
        draw.file_name, draw.size = file_name[:255], len(members)
        repository.insert_members(draw, members)
        self._audit(session, actor, draw, "upload")
        return draw

    def redraw_due(self, session: Session, now: datetime | None = None) -> GlobalControlDraw | None:
        """Draw the group again when its time is up (or it was never drawn); None when nothing was due."""
        settings = self.settings(session)
        moment = now or utcnow()
        latest = GlobalControlRepository(session).latest()
        due = self.next_draw_at(settings, latest)
        never_drawn = settings.enabled and settings.source == "draw" and latest is None
        if not never_drawn and (due is None or due > moment):
            return None
        return self.draw(session, Actor.system("global control group"), now=moment)

    def stays(self, session: Session, customer_id: int) -> list[StayOut]:
        """The customer's stays in the group, the latest first."""
        return [StayOut.model_validate(stay) for stay in GlobalControlRepository(session).stays(customer_id)]

    def draws(self, session: Session) -> list[DrawOut]:
        return [DrawOut.model_validate(draw) for draw in GlobalControlRepository(session).draws()]

    # --- parts -----------------------------------------------------------------------------------------

    @staticmethod
    def _drawn_on_start(session: Session, settings: GlobalControlSettings) -> bool:
        return settings.source == "draw" and GlobalControlRepository(session).current() is None

    def _enabled(self, session: Session) -> GlobalControlSettings:
        settings = self.settings(session)
        if not settings.enabled:
            raise Conflict("Turn on effect measurement first")
        return settings

    @staticmethod
    def _new_draw(
        session: Session, actor: Actor, now: datetime, source: str, base_size: int
    ) -> GlobalControlDraw:
        """A new draw row, the stays of the previous one ended at the same moment."""
        repository = GlobalControlRepository(session)
        closed = repository.close_open(now)
        draw = GlobalControlDraw(
            source=source, base_size=base_size, drawn_at=now, drawn_by=actor.label, details={"closed": closed}
        )
        return repository.add(draw)

    def _dissolve(self, session: Session, actor: Actor, now: datetime) -> None:
        closed = GlobalControlRepository(session).close_open(now)
        if closed:
            audit_service.record(
                session,
                actor,
                object_type=AUDIT_TYPE,
                object_id="group",
                action="dissolve",
                changes={"members": [closed, 0]},
                object_label="Global control group",
            )

    @staticmethod
    def _audit(session: Session, actor: Actor, draw: GlobalControlDraw, action: str) -> None:
        session.flush()
        audit_service.record(
            session,
            actor,
            object_type=AUDIT_TYPE,
            object_id=draw.id,
            action=action,
            changes={"members": [draw.details.get("closed", 0), draw.size], "seed": [None, draw.seed]},
            object_label="Global control group",
        )


global_control_service = GlobalControlService()
