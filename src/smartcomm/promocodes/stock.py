"""What a mailing's templates will ask of the promo code groups: the groups their `client.promocode(…)`
names, and how many codes each still has to give — so the messaging volume can say, before the send, how
many recipients would be skipped with "no promo code"."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.models import PromoCode
from smartcomm.promocodes.issuing import ACTIVE, group_by_code

# `client.promocode('SPRING')` / `client.promocode("SPRING")` — the issuing macro (not last_promocode).
ISSUING_MACRO = re.compile(r"""\bclient\s*\.\s*promocode\s*\(\s*(['"])([^'"]{1,64})\1\s*\)""")


def groups_named_in(texts: Iterable[str]) -> set[str]:
    """The group codes the issuing macro names in these template texts (upper-cased: codes ignore case)."""
    return {match.group(2).strip().upper() for text in texts for match in ISSUING_MACRO.finditer(text)}


def codes_left(session: Session, group_code: str, now: datetime | None = None) -> int:
    """Codes the group can still issue: active and unblocked, in a group neither blocked nor ended."""
    group = group_by_code(session, group_code)
    moment = now or utcnow()
    if group is None or group.blocked or (group.valid_to is not None and group.valid_to < moment.date()):
        return 0
    statement = select(func.count()).where(
        PromoCode.group_id == group.id, PromoCode.status == ACTIVE, PromoCode.blocked.is_(False)
    )
    return int(session.scalar(statement) or 0)


def recipients_short(session: Session, texts: Iterable[str], recipients: int) -> int:
    """Of `recipients` each rendered once, how many would find a group named in `texts` empty."""
    groups = groups_named_in(texts)
    if not groups or recipients == 0:
        return 0
    return max(0, recipients - min(codes_left(session, group) for group in groups))
