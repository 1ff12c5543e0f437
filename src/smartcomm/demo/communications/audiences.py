"""The target audiences the demo's mailings went to, made the day before their first mailing.

A mailing reads its audience as it was at its start (members added by then), so the members are added
with that past moment: through the audience repository's `add_selected`, which takes the moment, rather
than the service's `add_members`, which stamps them now. The audience itself is created (and audited) by
the service, its count kept by it.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.audiences.repository import AudienceRepository
from smartcomm.audiences.schemas import AudienceIn
from smartcomm.audiences.service import audience_service
from smartcomm.audit.actor import Actor
from smartcomm.demo.communications.plans import AudiencePlan
from smartcomm.demo.repository import DemoRepository
from smartcomm.models import Customer

CHUNK = 900


def make_audience(
    session: Session,
    actor: Actor,
    plan: AudiencePlan,
    category_id: int,
    at: datetime,
    rng: random.Random,
) -> int:
    """Create the audience with up to `plan.size` of the customers who qualify as of `at`, added then;
    returns its id."""
    candidates = DemoRepository(session).audience_candidates(
        plan.contact, category_id, at, plan.recent_days, plan.lapsed_days, plan.min_receipts
    )
    members = sorted(rng.sample(candidates, min(plan.size, len(candidates))))
    audience = audience_service.create(
        session, actor, AudienceIn(name=plan.name, description=plan.description)
    )
    audience.created_at = audience.updated_at = at  # made the day before its first mailing
    repository = AudienceRepository(session)
    for start in range(0, len(members), CHUNK):
        part = members[start : start + CHUNK]
        repository.add_selected(audience.id, select(Customer.id).where(Customer.id.in_(part)), at)
    audience_service.recount(session, [audience.id])
    session.flush()
    return audience.id
