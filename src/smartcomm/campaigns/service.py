"""Campaigns: creating and editing them, their versions, activating and suspending.

Editing saves the draft version's graph as it is (the editor shows its problems); activating validates it,
publishes it — the version becomes immutable — and lets customers enter it. Editing an active campaign
makes a new draft (a copy of the published graph); activating again publishes that draft, and customers
already in flight finish on the version they entered. Suspending stops both entering and walking; the
journeys under way wait where they stand until the campaign is activated again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.campaigns import nodes
from smartcomm.campaigns.engine import project_zone
from smartcomm.campaigns.graph import CheckContext, Graph, validate_graph
from smartcomm.campaigns.repository import CampaignRepository
from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.triggers.base import Trigger
from smartcomm.kit.errors import Conflict, FieldError, InvalidInput, NotFound
from smartcomm.kit.i18n import lazy
from smartcomm.kit.time import utcnow
from smartcomm.models import Campaign, CampaignVersion

DRAFT, ACTIVE, SUSPENDED = "draft", "active", "suspended"
DEFAULT_TRIGGER = "trigger.cheque_issued"


@dataclass(frozen=True)
class Problems:
    """A graph's problems as the editor shows them."""

    errors: list[FieldError]

    @property
    def valid(self) -> bool:
        return not self.errors


class CampaignService:
    # --- reading -----------------------------------------------------------------------------------

    def get(self, session: Session, campaign_id: int) -> Campaign:
        found = CampaignRepository(session).get(campaign_id)
        if found is None:
            raise NotFound("Campaign", campaign_id)
        return found

    def editable_version(self, session: Session, campaign: Campaign) -> CampaignVersion:
        """The version the editor shows: the draft, else the published one (read-only until edited)."""
        repository = CampaignRepository(session)
        version_id = campaign.draft_version_id or campaign.published_version_id
        version = repository.version(version_id) if version_id is not None else None
        if version is None:
            raise NotFound("Campaign version")
        return version

    def check(self, session: Session, graph: dict[str, Any]) -> Problems:
        return Problems(validate_graph(graph, self._context(session)))

    # --- creating and editing ----------------------------------------------------------------------

    def create(
        self, session: Session, actor: Actor, data: CampaignIn, graph: dict[str, Any] | None = None
    ) -> Campaign:
        campaign = Campaign(status=DRAFT, created_by_id=actor.user_id)
        self._apply(campaign, data)
        session.add(campaign)
        session.flush()
        graph = graph if graph is not None else default_graph()
        version = self._new_version(session, campaign, graph)
        campaign.draft_version_id = version.id
        campaign.trigger_kind = _trigger_kind(graph)
        audit_service.record(
            session, actor, object_type="campaign", object_id=campaign.id, action="create",
            object_label=campaign.name,
        )  # fmt: skip
        return campaign

    def update(self, session: Session, actor: Actor, campaign_id: int, data: CampaignIn) -> Campaign:
        campaign = self.get(session, campaign_id)
        before = settings_of(campaign)
        self._apply(campaign, data)
        after = settings_of(campaign)
        changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
        if changes:
            audit_service.record(
                session, actor, object_type="campaign", object_id=campaign.id, action="update",
                changes=changes, object_label=campaign.name,
            )  # fmt: skip
        return campaign

    def save_graph(self, session: Session, actor: Actor, campaign_id: int, graph: dict[str, Any]) -> Problems:
        """Save the graph into the draft (made from the published version when there is none); the graph's
        problems come back for the editor. A graph that is not even a graph is refused."""
        problems = self.check(session, graph)
        if any(error.field == "graph" and error.message.startswith("nodes") for error in problems.errors):
            raise InvalidInput(problems.errors[0].message, problems.errors)
        campaign = self.get(session, campaign_id)
        version = self._draft(session, campaign)
        version.graph = copy.deepcopy(graph)
        version.updated_at = utcnow()
        if campaign.published_version_id is None:
            campaign.trigger_kind = _trigger_kind(graph)
        campaign.updated_at = utcnow()
        audit_service.record(
            session, actor, object_type="campaign", object_id=campaign.id, action="edit_graph",
            object_label=campaign.name,
        )  # fmt: skip
        return problems

    def copy(self, session: Session, actor: Actor, campaign_id: int) -> Campaign:
        source = self.get(session, campaign_id)
        graph = self.editable_version(session, source).graph
        data = CampaignIn.model_validate({**settings_of(source), "name": _copy_name(source.name)})
        return self.create(session, actor, data, copy.deepcopy(graph))

    def delete(self, session: Session, actor: Actor, campaign_id: int) -> None:
        campaign = self.get(session, campaign_id)
        if campaign.published_version_id is not None:
            raise Conflict(lazy("A campaign that was activated cannot be deleted: suspend it instead"))
        audit_service.record(
            session, actor, object_type="campaign", object_id=campaign.id, action="delete",
            object_label=campaign.name,
        )  # fmt: skip
        session.delete(campaign)

    # --- activating and suspending -----------------------------------------------------------------

    def activate(self, session: Session, actor: Actor, campaign_id: int) -> Campaign:
        """Publish the draft (if any) and let customers enter; refused while the graph has problems."""
        campaign = self.get(session, campaign_id)
        if campaign.draft_version_id is not None:
            self._publish(session, actor, campaign)
        elif campaign.published_version_id is None:
            raise Conflict(lazy("The campaign has no graph to activate"))
        elif campaign.status == ACTIVE:
            return campaign
        now = utcnow()
        campaign.status, campaign.activated_at, campaign.suspended_at = ACTIVE, now, None
        self._schedule(session, campaign, now)
        audit_service.record(
            session, actor, object_type="campaign", object_id=campaign.id, action="activate",
            object_label=campaign.name,
        )  # fmt: skip
        return campaign

    def suspend(self, session: Session, actor: Actor, campaign_id: int) -> Campaign:
        campaign = self.get(session, campaign_id)
        if campaign.status != ACTIVE:
            raise Conflict(lazy("Only an active campaign can be suspended"))
        campaign.status, campaign.suspended_at = SUSPENDED, utcnow()
        audit_service.record(
            session, actor, object_type="campaign", object_id=campaign.id, action="suspend",
            object_label=campaign.name,
        )  # fmt: skip
        return campaign

    def _publish(self, session: Session, actor: Actor, campaign: Campaign) -> None:
        repository = CampaignRepository(session)
        assert campaign.draft_version_id is not None
        version = repository.version(campaign.draft_version_id)
        assert version is not None
        problems = self.check(session, version.graph)
        if not problems.valid:
            raise InvalidInput(lazy("The campaign has problems: fix them before activating"), problems.errors)
        version.published_at, version.published_by_id = utcnow(), actor.user_id
        campaign.published_version_id, campaign.draft_version_id = version.id, None
        campaign.trigger_kind = _trigger_kind(version.graph)
        campaign.checked_until = None

    def _schedule(self, session: Session, campaign: Campaign, now: datetime) -> None:
        """A scheduled trigger's first look (and the window it starts from: now)."""
        version = CampaignRepository(session).version(campaign.published_version_id or 0)
        graph = Graph.of(version.graph) if version is not None else None
        node = graph.trigger if graph is not None else None
        trigger = nodes.kind(node.kind) if node is not None else None
        if graph is None or node is None or not isinstance(trigger, Trigger) or not trigger.scheduled:
            campaign.next_check_at = None
            return
        campaign.checked_until = campaign.checked_until or now
        campaign.next_check_at = trigger.next_check(graph.settings[node.id], now, project_zone(session))

    # --- helpers -----------------------------------------------------------------------------------

    def _draft(self, session: Session, campaign: Campaign) -> CampaignVersion:
        repository = CampaignRepository(session)
        if campaign.draft_version_id is not None:
            found = repository.version(campaign.draft_version_id)
            if found is not None:
                return found
        published = repository.version(campaign.published_version_id or 0)
        version = self._new_version(session, campaign, copy.deepcopy(published.graph) if published else {})
        campaign.draft_version_id = version.id
        return version

    def _new_version(self, session: Session, campaign: Campaign, graph: dict[str, Any]) -> CampaignVersion:
        number = CampaignRepository(session).next_version_number(campaign.id)
        version = CampaignVersion(campaign_id=campaign.id, number=number, graph=graph)
        session.add(version)
        session.flush()
        return version

    @staticmethod
    def _apply(campaign: Campaign, data: CampaignIn) -> None:
        campaign.name = data.name
        campaign.description = data.description
        campaign.reentry_minutes = data.reentry_minutes
        campaign.exit_rules = [rule.model_dump(exclude_none=True) for rule in data.exit_rules]
        campaign.category_id = data.category_id
        campaign.exclude_global_control = data.exclude_global_control
        campaign.attribution = (
            data.attribution.model_dump(mode="json", exclude_none=True) if data.attribution else {}
        )

    @staticmethod
    def _context(session: Session) -> CheckContext:
        from smartcomm.campaigns.modules import switched_on

        return CheckContext(session, switched_on(session))


def default_graph(trigger: str = DEFAULT_TRIGGER) -> dict[str, Any]:
    return {"nodes": [{"id": "trigger", "kind": trigger, "settings": {}, "x": 60, "y": 160}], "edges": []}


def _trigger_kind(graph: dict[str, Any]) -> str | None:
    found = [
        node.get("kind")
        for node in (graph or {}).get("nodes", [])
        if str(node.get("kind", "")).startswith("trigger.")
    ]
    return str(found[0])[:48] if len(found) == 1 else None


def settings_of(campaign: Campaign) -> dict[str, Any]:
    """The campaign's settings as `CampaignIn` takes them (a form or a PATCH changes some of them)."""
    return {
        "name": campaign.name,
        "description": campaign.description,
        "reentry_minutes": campaign.reentry_minutes,
        "exit_rules": campaign.exit_rules,
        "category_id": campaign.category_id,
        "exclude_global_control": campaign.exclude_global_control,
        "attribution": campaign.attribution or None,
    }


def _copy_name(name: str) -> str:
    return f"{name} (copy)"[:200]


campaign_service = CampaignService()
