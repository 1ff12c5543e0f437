"""What a mailing's templates will ask of the promo code groups: the groups their `client.promocode(…)`
names, and how many codes each still has to give — so the messaging volume can say, before the send, how
many recipients would be skipped with "no promo code"."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from smartcomm.kit.time import utcnow
from smartcomm.promocodes.issuing import may_issue
from smartcomm.promocodes.repository import PromoCodeGroupRepository, PromoCodeRepository

# `client.promocode('SPRING')` / `client.promocode("SPRING")` — the issuing macro (not last_promocode).
ISSUING_MACRO = re.compile(r"""\bclient\s*\.\s*promocode\s*\(\s*(['"])([^'"]{1,64})\1\s*\)""")


def groups_named_in(texts: Iterable[str]) -> set[str]:
    """The group codes the issuing macro names in these template texts (upper-cased: codes ignore case)."""
    return {match.group(2).strip().upper() for text in texts for match in ISSUING_MACRO.finditer(text)}


def codes_left(session: Session, group_code: str, now: datetime | None = None) -> int:
    """Codes the group can still issue: active and unblocked, in a group neither blocked nor ended."""
    group = PromoCodeGroupRepository(session).by_code(group_code)
    if group is None or not may_issue(group, now or utcnow()):
        return 0
    return PromoCodeRepository(session).count_issuable(group.id)


def recipients_short(session: Session, texts: Iterable[str], recipients: int) -> int:
    """Of `recipients` each rendered once, how many would find a group named in `texts` empty."""
    groups = groups_named_in(texts)
    if not groups or recipients == 0:
        return 0
    return max(0, recipients - min(codes_left(session, group) for group in groups))
