"""Test data of campaigns: graphs, activated campaigns, receipts that trigger them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.campaigns.schemas import CampaignIn
from smartcomm.campaigns.service import campaign_service
from smartcomm.models import Campaign, Customer, Journey, Message
from smartcomm.receipts.schemas import ReceiptIn
from smartcomm.receipts.service import receipt_service

ACTOR = Actor.system("tests")
_numbers = itertools.count(1)


def node(node_id: str, kind: str, **settings: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": kind, "settings": settings}


def edge(source: str, target: str, output: str = "out") -> dict[str, Any]:
    return {"source": source, "output": output, "target": target}


def graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": edges}


def active_campaign(session: Session, body: dict[str, Any], **settings: Any) -> Campaign:
    """A committed, activated campaign with this graph."""
    data = CampaignIn.model_validate({"name": f"Campaign {next(_numbers)}", **settings})
    campaign = campaign_service.create(session, ACTOR, data, body)
    campaign_service.activate(session, ACTOR, campaign.id)
    session.commit()
    return campaign


def buy(session: Session, customer: Customer, total: str = "100.00", when: datetime | None = None) -> None:
    """A receipt of the customer, committed (its domain event is dispatched at once in tests)."""
    data = {
        "number": f"R-{next(_numbers)}",
        "store": "MSK-01",
        "customer_external_id": customer.external_id,
        "purchased_at": (when.isoformat() if when else "2026-12-01T10:00:00+00:00"),
        "lines": [{"sku": "A-1", "quantity": "1", "price": total}],
    }
    receipt_service.write(session, ACTOR, [ReceiptIn.model_validate(data)])
    session.commit()


def journeys(session: Session, campaign: Campaign) -> list[Journey]:
    statement = select(Journey).where(Journey.campaign_id == campaign.id).order_by(Journey.id)
    return list(session.scalars(statement.execution_options(populate_existing=True)))


def campaign_messages(session: Session, campaign: Campaign) -> list[Message]:
    statement = select(Message).where(Message.source_kind == "campaign", Message.source_id == campaign.id)
    return list(session.scalars(statement.order_by(Message.id).execution_options(populate_existing=True)))
