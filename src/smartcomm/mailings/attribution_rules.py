"""Each mailing's own attribution rule (N days after the touch, a date range, or off, with receipt
criteria), told to attribution; a mailing without one uses the default of the settings."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcomm.attribution.rules import Rule, register_rule_source
from smartcomm.attribution.stored import rules_of
from smartcomm.models import Mailing


def mailing_rules(session: Session, mailing_ids: Collection[int | None]) -> dict[int | None, Rule]:
    ids = [i for i in mailing_ids if i is not None]
    statement = select(Mailing.id, Mailing.attribution_rule).where(
        Mailing.id.in_(ids), Mailing.attribution_rule.is_not(None)
    )
    return rules_of(session, ((int(row[0]), row[1]) for row in session.execute(statement)))


register_rule_source("mailing", mailing_rules)
