"""The groups report of a mailing: what each group bought — the recipients (or each A/B variant) and the
control group that was sent nothing — in one measurement window, and whether the differences are real.

The window is the same for every group: from the mailing's start for the days of its attribution rule (a
date-range rule: its dates; none or "off": the default days of the delivery settings). Purchases are every
paid receipt of a group's members in the window, not the attributed ones: control-group members have no
touches, so only plain purchases compare like with like.

The groups' statistics (the tests, the expected and incremental revenue) are the shared ones of
`analytics.groups`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from smartcomm.analytics.groups import GroupRow, Sample, compare_with_control, group_row, sample_of
from smartcomm.kit.time import end_of_day, start_of_day
from smartcomm.mailings.draws import LETTERS
from smartcomm.mailings.report_queries import MailingReportQueries
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Mailing
from smartcomm.settings.schemas import DeliverySettings, GeneralSettings
from smartcomm.settings.service import settings_service


class GroupsReport(BaseModel):
    mailing_id: int
    window_start: datetime | None  # None: the mailing has not started
    window_end: datetime | None
    window_days: int | None  # None for a date-range rule
    groups: list[GroupRow]
    winner_variant: int | None
    winner_label: str | None
    winner_reason: dict[str, Any] | None
    winner_chosen_at: datetime | None


# --- the report ---------------------------------------------------------------------------------------


class GroupsReportService:
    def report(self, session: Session, mailing_id: int) -> GroupsReport:
        """Each group's purchases in the measurement window, and each against the control group."""
        mailing = mailing_service.get(session, mailing_id)
        window = self.window(session, mailing)
        queries = MailingReportQueries(session)
        rows: list[GroupRow] = []
        if window is not None:
            rows = self._rows(queries, mailing, window)
        winner = mailing.winner_variant
        return GroupsReport(
            mailing_id=mailing.id,
            window_start=window[0] if window else None,
            window_end=window[1] if window else None,
            window_days=window[2] if window else None,
            groups=rows,
            winner_variant=winner,
            winner_label=_letter(winner) if winner is not None else None,
            winner_reason=mailing.winner_reason,
            winner_chosen_at=mailing.winner_chosen_at,
        )

    def window(self, session: Session, mailing: Mailing) -> tuple[datetime, datetime, int | None] | None:
        """(start, end, days) of the measurement window; None before the mailing started."""
        if mailing.started_at is None:
            return None
        rule = mailing.attribution_rule or {}
        if rule.get("window") == "range" and rule.get("date_from") and rule.get("date_to"):
            zone = settings_service.read(session, GeneralSettings).time_zone
            first, last = _date(rule["date_from"]), _date(rule["date_to"])
            return start_of_day(first, zone), end_of_day(last, zone), None
        days = rule.get("days") if rule.get("window") == "days" else None
        if not days:
            # "off" or no rule: the default window, at least a day (a default of 0 switches attribution
            # off, yet the groups still need a window to be compared in).
            days = max(settings_service.read(session, DeliverySettings).attribution_days, 1)
        return mailing.started_at, mailing.started_at + timedelta(days=int(days)), int(days)

    def _rows(
        self, queries: MailingReportQueries, mailing: Mailing, window: tuple[datetime, datetime, int | None]
    ) -> list[GroupRow]:
        start, end, _ = window
        control = self._sample(queries, queries.control_members(mailing.id), start, end)
        rows = []
        for key, label, variant, members in self._groups(queries, mailing):
            sample = self._sample(queries, members, start, end)
            row = group_row(key, label, sample, queries.delivered(mailing.id, members))
            row.variant = variant
            if control.size:
                compare_with_control(row, sample, control)
            rows.append(row)
        if control.size:
            rows.append(group_row("control", "Control", control, None))
        return rows

    @staticmethod
    def _groups(
        queries: MailingReportQueries, mailing: Mailing
    ) -> list[tuple[str, str, int | None, Select[Any]]]:
        """(key, label, variant, members) of every group but the control one."""
        variants = queries.assigned_variants(mailing.id) if mailing.variants else []
        if not variants:
            return [("main", "Main", None, queries.recipients(mailing.id))]
        groups: list[tuple[str, str, int | None, Select[Any]]] = []
        for variant in variants:
            members = queries.variant_members(mailing.id, variant)
            if variant is None:
                groups.append(("rest", "Rest", None, members))  # waited for, then got, the winner
            else:
                groups.append(("variant", _letter(variant), variant, members))
        return groups

    @staticmethod
    def _sample(
        queries: MailingReportQueries, members: Select[Any], start: datetime, end: datetime
    ) -> Sample:
        return sample_of(queries.size(members), queries.purchases(members, start, end))


def _letter(variant: int) -> str:
    return LETTERS[variant] if 0 <= variant < len(LETTERS) else str(variant + 1)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


groups_report_service = GroupsReportService()
