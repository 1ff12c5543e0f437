"""The report of a mailing: its volume, delivery and engagement with their rates, the receipts credited to
it per day, and when people opened its e-mails (hour of day × weekday in the project time zone); and the
report as CSV files (the figures with the per-day table, and one row per message).

The figures, their rates and the opens by hour are the shared ones of `analytics.messages`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from smartcomm.analytics.messages import FIGURE_LABELS, Figure, OpensHeatmap, figures_of, heatmap_of
from smartcomm.attribution.schemas import AttributionDay
from smartcomm.attribution.service import attribution_service
from smartcomm.delivery.ledger import Source
from smartcomm.kit.csvfile import SafeCsvWriter
from smartcomm.kit.i18n import LazyString, lazy
from smartcomm.kit.time import to_zone
from smartcomm.mailings.report_queries import MailingReportQueries
from smartcomm.mailings.repository import MailingRepository
from smartcomm.mailings.service import mailing_service
from smartcomm.models import Mailing
from smartcomm.settings.schemas import GeneralSettings
from smartcomm.settings.service import settings_service

BOM = "\ufeff"  # spreadsheet programs read UTF-8 correctly only with it
DELIMITER = ";"


class MailingHeader(BaseModel):
    id: int
    name: str
    channel: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None


class AttributionTotals(BaseModel):
    receipts: int
    buyers: int
    amount: Decimal


class MailingReport(BaseModel):
    mailing: MailingHeader
    buckets: dict[str, int]  # the volume: good_recipients, address_issue, unsubscribed_channel, …
    control: int  # control-group members: sent nothing
    figures: list[Figure]
    attributed: AttributionTotals
    per_day: list[AttributionDay]
    heatmap: OpensHeatmap | None  # e-mail mailings only
    waiting: dict[str, int] = {}  # messages the gate deferred, by reason (still good recipients)


BUCKET_LABELS: dict[str, LazyString] = {
    "good_recipients": lazy("Good recipients"),
    "address_issue": lazy("Address issue"),
    "unsubscribed_channel": lazy("Unsubscribed from the channel"),
    "unsubscribed_category": lazy("Unsubscribed from the category"),
    "blocked_by_policy": lazy("Blocked by communication policy"),
    "global_control": lazy("Global control group"),
    "no_promocode": lazy("No promo code left"),
}
# Why deferred messages wait, as the report's Volume card says it.
WAITING_LABELS: dict[str, LazyString] = {
    "warm_up": lazy(
        "Waiting for IP warm-up: the day's allowance of e-mails is used up; they go from the next day"
    ),
    "send_window": lazy("Waiting for the recipient's send-time window"),
    "rate_limit": lazy("Waiting for the rate limit"),
    "retry": lazy("Waiting to retry after a provider error"),
    "cascade_wait": lazy("Waiting for the Viber message before the SMS"),
}
RECIPIENT_HEADERS: tuple[LazyString, ...] = (
    lazy("Message"),
    lazy("External id"),
    lazy("Channel"),
    lazy("Recipient"),
    lazy("Status"),
    lazy("Reason"),
    lazy("Sent"),
    lazy("Delivered"),
    lazy("Opened"),
    lazy("Clicked"),
    lazy("Opens"),
    lazy("Clicks"),
    lazy("Attributed receipts"),
    lazy("Attributed amount"),
)


class MailingReportService:
    def report(self, session: Session, mailing_id: int) -> MailingReport:
        """The mailing's volume, delivery, engagement, attributed receipts and e-mail opens by hour."""
        mailing = mailing_service.get(session, mailing_id)
        queries = MailingReportQueries(session)
        unsubscribed, complaints = queries.unsubscribes(mailing.id)
        summary = attribution_service.summary(session, Source.MAILING, mailing.id)
        return MailingReport(
            mailing=_header(mailing),
            buckets=mailing_service.recorded_buckets(session, mailing.id),
            control=queries.size(queries.control_members(mailing.id)),
            figures=figures_of(queries.message_figures(mailing.id), unsubscribed, complaints),
            attributed=AttributionTotals(
                receipts=summary.receipts, buyers=summary.buyers, amount=summary.amount
            ),
            per_day=attribution_service.per_day(session, Source.MAILING, mailing.id),
            heatmap=self._heatmap(session, queries, mailing),
            waiting=MailingRepository(session).waiting_by_reason(mailing.id),
        )

    @staticmethod
    def _heatmap(session: Session, queries: MailingReportQueries, mailing: Mailing) -> OpensHeatmap | None:
        if mailing.channel != "email":
            return None
        zone = settings_service.read(session, GeneralSettings).time_zone
        return heatmap_of(queries.email_opens_by_quarter(mailing.id), zone)

    # --- CSV -------------------------------------------------------------------------------------------

    def report_csv(self, report: MailingReport) -> str:
        """The figures, the volume and the per-day receipts as one CSV text (labels in the current
        language)."""
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer, DELIMITER)
        writer.writerow([str(lazy("Mailing")), report.mailing.name])
        writer.writerow([])
        writer.writerow([str(lazy("Figure")), str(lazy("Value")), str(lazy("Rate, %"))])
        for key, value in report.buckets.items():
            writer.writerow([str(BUCKET_LABELS.get(key, key)), value, ""])
        writer.writerow([str(lazy("Control group")), report.control, ""])
        for figure in report.figures:
            writer.writerow([str(FIGURE_LABELS[figure.key]), figure.value, _percent(figure.rate)])
        writer.writerow([str(lazy("Attributed receipts")), report.attributed.receipts, ""])
        writer.writerow([str(lazy("Buyers")), report.attributed.buyers, ""])
        writer.writerow([str(lazy("Attributed revenue")), report.attributed.amount, ""])
        writer.writerow([])
        writer.writerow([str(lazy("Day")), str(lazy("Receipts")), str(lazy("Revenue"))])
        writer.writerows([day.day, day.receipts, day.amount] for day in report.per_day)
        return BOM + buffer.getvalue()

    def recipients_csv(
        self, session: Session, mailing_id: int, headers: Sequence[str] | None = None
    ) -> Iterator[str]:
        """One row per message of the mailing, streamed in batches (times in the project time zone);
        `headers` are the column names translated by the caller (a stream outlives the request)."""
        mailing = mailing_service.get(session, mailing_id)
        zone = settings_service.read(session, GeneralSettings).time_zone
        buffer = io.StringIO()
        writer = SafeCsvWriter(buffer, DELIMITER)
        writer.writerow(headers or [str(label) for label in RECIPIENT_HEADERS])
        yield BOM + _drain(buffer)
        for rows in MailingReportQueries(session).recipient_rows(mailing.id):
            writer.writerows([_cell(value, zone) for value in row] for row in rows)
            yield _drain(buffer)


def _header(mailing: Mailing) -> MailingHeader:
    return MailingHeader(
        id=mailing.id,
        name=mailing.name,
        channel=mailing.channel,
        status=mailing.status,
        started_at=mailing.started_at,
        finished_at=mailing.finished_at,
    )


def _percent(value: float | None) -> Any:
    return "" if value is None else round(value * 100, 2)


def _cell(value: Any, zone: str) -> Any:
    if isinstance(value, datetime):
        return to_zone(value, zone).strftime("%Y-%m-%d %H:%M")
    return value


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def file_name(mailing_id: int, part: str, day: date | None = None) -> str:
    suffix = f"-{day.isoformat()}" if day else ""
    return f"mailing-{mailing_id}-{part}{suffix}.csv"


mailing_report_service = MailingReportService()
