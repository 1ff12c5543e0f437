"""Drawing new codes into a group, at once or — for a large quantity — in the background.

Up to SYNC_LIMIT codes are generated in the request (a hundred thousand take a second or two). A larger
quantity is a job, `promocodes.generate`, that adds the codes in steps of STEP, one transaction each: the
group's `generation` holds the format, the quantity and what was added so far, so the page shows the
progress, and a job that stopped (a worker killed between two steps) is taken up where it was by the
every-minute look once its last step is older than STALLED. The group's row is locked for a step, so two
jobs of one group never add past the quantity.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartcomm.audit.actor import Actor
from smartcomm.audit.service import audit_service
from smartcomm.kit.errors import Conflict, FieldError
from smartcomm.kit.jobs import queue_after_commit
from smartcomm.kit.time import ensure_utc, utcnow
from smartcomm.models import PromoCodeGroup
from smartcomm.promocodes.generation import CodeFormat, parse_format
from smartcomm.promocodes.repository import PromoCodeGroupRepository, PromoCodeRepository

SYNC_LIMIT = 100_000
STEP = 50_000
BATCH = 10_000
# Rounds of drawing beyond the batches a quantity needs, for codes that collided with stored ones.
EXTRA_ROUNDS = 60
STALLED = timedelta(minutes=2)
GROUP = "promo_code_group"
SPACE_EXHAUSTED = "space_exhausted"


def draw(repository: PromoCodeRepository, group_id: int, code_format: CodeFormat, quantity: int) -> int:
    """Draw and insert until `quantity` codes were added (or the rounds run out); returns how many were.
    A set keeps each batch free of repeats; the unique constraint (insert-or-ignore) skips stored codes."""
    added = 0
    for _ in range(-(-quantity // BATCH) + EXTRA_ROUNDS):
        missing = quantity - added
        if missing <= 0:
            break
        added += repository.insert_new(group_id, sorted(code_format.unique_sample(min(missing, BATCH))))
    return added


# --- in the background ---------------------------------------------------------------------------------


def is_running(group: PromoCodeGroup) -> bool:
    return group.generation is not None and not group.generation.get("error")


def start(session: Session, actor: Actor, group: PromoCodeGroup, format_text: str, quantity: int) -> None:
    """Hand a large generation to the job (queued after the commit)."""
    if is_running(group):
        raise Conflict(
            "Codes are being generated for this group already; wait until they are added",
            [FieldError("quantity", "a generation of this group is running", "generation_running")],
        )
    now = utcnow().isoformat()
    group.generation = {"format": format_text, "quantity": quantity, "added": 0, "user_id": actor.user_id,
                        "started_at": now, "beat": now}  # fmt: skip
    session.flush()
    queue_after_commit(session, "promocodes.generate", group.id)


def step(session: Session, group_id: int) -> bool:
    """Add the next step of the group's running generation; whether more steps remain."""
    group = PromoCodeGroupRepository(session).locked(group_id)
    if group is None or group.generation is None or not is_running(group):
        return False
    state = dict(group.generation)
    code_format = parse_format(state["format"])
    wanted = min(state["quantity"] - state["added"], STEP)
    added = draw(PromoCodeRepository(session), group.id, code_format, wanted)
    state.update(added=state["added"] + added, beat=utcnow().isoformat())
    if added < wanted:
        state["error"] = SPACE_EXHAUSTED  # the format has too few new codes left: stop short, say so
    finished = state["added"] >= state["quantity"] or "error" in state
    group.generation = state if "error" in state or not finished else None
    if finished:
        _finish(session, group, state)
    session.flush()
    return not finished


def _finish(session: Session, group: PromoCodeGroup, state: dict[str, Any]) -> None:
    group.last_format = state["format"]
    changes = {"codes": [None, state["added"]], "format": [None, state["format"]]}
    if "error" in state:
        changes["stopped_short"] = [None, state["quantity"]]
    actor = (
        Actor("user", state["user_id"], "background generation") if state.get("user_id") else Actor.system()
    )
    audit_service.record(session, actor, object_type=GROUP, object_id=group.id, action="generate_codes",
                         changes=changes, object_label=group.name)  # fmt: skip


def stalled(session: Session, now: datetime | None = None) -> list[int]:
    """Groups whose running generation has not moved for STALLED (its job was lost)."""
    limit = (now or utcnow()) - STALLED
    return [
        group.id
        for group in PromoCodeGroupRepository(session).generating()
        if is_running(group) and ensure_utc(datetime.fromisoformat(group.generation["beat"])) < limit  # type: ignore[index]
    ]
