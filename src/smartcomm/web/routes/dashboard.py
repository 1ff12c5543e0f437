"""Summary dashboard: the stored figures of a period as charts with their tables, the period picker and the
recomputation on demand. The page only reads the snapshot the analytics job stored."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from smartcomm.analytics.dashboard import (
    PRESET_MONTHS,
    ROLLING,
    ZERO,
    Bucket,
    DashboardData,
    Period,
    custom_period,
    dashboard_service,
)
from smartcomm.auth.permissions import Permission
from smartcomm.auth.principal import Principal
from smartcomm.kit import i18n
from smartcomm.kit.errors import InvalidInput
from smartcomm.kit.http import DbSession
from smartcomm.kit.i18n import lazy
from smartcomm.kit.jobs import queue_after_commit
from smartcomm.kit.time import ensure_utc
from smartcomm.web.deps import requires
from smartcomm.web.forms import PostedForm
from smartcomm.web.routes.global_control import report_chart
from smartcomm.web.templating import flash, redirect, render

router = APIRouter(prefix="/dashboard")
Viewer = Annotated[Principal, Depends(requires(Permission.DASHBOARD_VIEW))]
Recomputer = Annotated[Principal, Depends(requires(Permission.DASHBOARD_RECOMPUTE))]

# The names of the charts' series and axes, in the interface language.
CHART_LABELS = {
    "customers": lazy("Customers"),
    "revenue": lazy("Revenue"),
    "best": lazy("Best (R5 F5 M5)"),
    "lost": lazy("Lost (R1)"),
    "repeat": lazy("With repeat purchases"),
    "assisted": lazy("Assisted"),
    "regular": lazy("Regular"),
    "receipts": lazy("Receipts"),
    "amount": lazy("Amount"),
}
CHANNEL_LABELS = {"email": lazy("E-mail"), "sms": lazy("SMS"), "viber": lazy("Viber"), "push": lazy("Push")}


@router.get("", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: DbSession,
    principal: Viewer,
    period: str = "",
    start: str = "",
    end: str = "",
    since: float | None = None,
) -> Response:
    """The dashboard of a period (the settings' analysis period by default) as last computed."""
    try:
        chosen = _chosen_period(session, period, start, end)
    except InvalidInput as error:
        flash(request, error.message, "danger")
        return redirect(request, "/dashboard")
    snapshot = dashboard_service.snapshot(session, chosen.key)
    data = dashboard_service.readable(snapshot)
    context = {
        "period": chosen,
        "presets": [f"{ROLLING}{months}" for months in PRESET_MONTHS],
        "snapshot": snapshot,
        "data": data,
        "computing": since is not None and not _newer(snapshot, since),
        "since": since,
        "view": _view(data, principal) if data else None,
    }
    return render(request, "dashboard/index.html", context)


@router.get("/status", response_class=HTMLResponse)
def status(request: Request, session: DbSession, _: Viewer, period: str, since: float = 0) -> Response:
    """What the page polls while its period is recomputed: sends the browser back once it is done."""
    if _newer(dashboard_service.snapshot(session, period), since):
        return Response(
            status_code=200, headers={"HX-Redirect": f"/dashboard?{urlencode({'period': period})}"}
        )
    return render(request, "dashboard/_computing.html", {"period_key": period, "since": since})


@router.post("/recompute")
def recompute(request: Request, session: DbSession, _: Recomputer, form: PostedForm) -> Response:
    """Queue the recomputation of a period; the page shows "computing…" until the new figures are stored."""
    key = str(form.get("period") or "")
    try:
        chosen = dashboard_service.period(session, key or None)
    except InvalidInput as error:
        flash(request, error.message, "danger")
        return redirect(request, "/dashboard")
    snapshot = dashboard_service.snapshot(session, chosen.key)
    since = ensure_utc(snapshot.computed_at).timestamp() if snapshot else 0
    queue_after_commit(session, "analytics.dashboard", chosen.key)
    return redirect(request, f"/dashboard?{urlencode({'period': chosen.key, 'since': since})}")


def _chosen_period(session: Session, key: str, start: str, end: str) -> Period:
    """The period asked for: a key, or the months of the custom picker (YYYY-MM)."""
    if start or end:
        today = dashboard_service.today(session)
        try:
            first, last = (datetime.strptime(value, "%Y-%m").date() for value in (start, end or start))
        except ValueError as error:
            raise InvalidInput("Choose the months of the period") from error
        return custom_period(first, last, dashboard_service.zone(session), today)
    return dashboard_service.period(session, key or None)


def _newer(snapshot: Any, since: float) -> bool:
    return snapshot is not None and ensure_utc(snapshot.computed_at).timestamp() > since


# --- what the charts and tables show ------------------------------------------------------------------


def _view(data: DashboardData, principal: Principal) -> dict[str, Any]:
    """The figures arranged for the cards, and the JSON the charts are drawn from."""
    links = principal.can(Permission.CUSTOMERS_VIEW) and principal.can(Permission.SEGMENTS_VIEW)
    buckets = [(b, _bucket_label(b), _links(_bucket_rules(b, data)) if links else None)
               for b in data.base_quality]  # fmt: skip
    returning = [
        (
            "returning",
            lazy("Returning (2+ receipts)"),
            data.returning,
            _period_count_url(data, "gte", 2, links),
        ),
        ("one_time", lazy("One-time (1 receipt)"), data.one_time, _period_count_url(data, "eq", 1, links)),
    ]
    months = [_month_label(m.month) for m in data.sales]
    channels = sorted(data.channels)
    return {
        "buckets": buckets,
        "returning": returning,
        "months": months,
        "channels": [(c, _channel_label(c)) for c in channels],
        "totals": _totals(data),
        "chart": _chart(data, buckets, returning, months, channels),
    }


def _chart(data: DashboardData, buckets: list[Any], returning: list[Any], months: list[str],
           channels: list[str]) -> dict[str, Any]:  # fmt: skip
    return {
        "labels": {key: str(label) for key, label in CHART_LABELS.items()},
        "base": {
            "labels": [_bucket_tick(b) for b, _l, _u in buckets],
            "titles": [str(label) for _b, label, _u in buckets],
            "axis": i18n.gettext_("Months since the last purchase"),
            "counts": [b.customers for b, _l, _u in buckets],
            "kinds": [b.kind for b, _l, _u in buckets],
            "links": [found and found["customers"] for _b, _l, found in buckets],
        },
        "returning": {
            "labels": [str(label) for _k, label, _s, _u in returning],
            "customers": [split.customers for _k, _l, split, _u in returning],
            "revenue": [float(split.revenue) for _k, _l, split, _u in returning],
            "links": [found and found["customers"] for _k, _l, _s, found in returning],
        },
        "months": months,
        "rfm": {"best": [m.best for m in data.rfm], "lost": [m.lost for m in data.rfm]},
        "repeat": [None if m.share is None else round(m.share * 100, 1) for m in data.repeat],
        "sales": {
            "assisted_amount": [float(m.assisted.amount) for m in data.sales],
            "regular_amount": [float(m.regular.amount) for m in data.sales],
            "assisted_receipts": [m.assisted.receipts for m in data.sales],
            "regular_receipts": [m.regular.receipts for m in data.sales],
            "channels": [
                {"key": c, "label": _channel_label(c), "amounts": _amounts(data, c)} for c in channels
            ],
        },
        # The global control group against the rest: the bars of its settings page.
        "control": report_chart(data.control) if data.control else None,
    }


def _amounts(data: DashboardData, channel: str) -> list[float]:
    """A channel's assisted sales month by month (0 in the months it sold nothing)."""
    return [float(m.channels[channel].amount) if channel in m.channels else 0.0 for m in data.sales]


def _totals(data: DashboardData) -> dict[str, Any]:
    """The headline figures over the cards."""
    assisted = sum((m.assisted.amount for m in data.sales), start=ZERO)
    regular = sum((m.regular.amount for m in data.sales), start=ZERO)
    revenue = assisted + regular
    buyers = data.returning.customers + data.one_time.customers
    return {
        "customers": data.customers,
        "buyers": buyers,
        "revenue": revenue,
        "returning_share": data.returning.customers / buyers if buyers else None,
        "assisted": assisted,
        "assisted_share": float(assisted / revenue) if revenue else None,
    }


def _month_label(month: date) -> str:
    return format_date(month, "LLL yyyy", locale=i18n.current_language())


def _channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def _bucket_label(bucket: Bucket) -> str:
    if bucket.kind == "never":
        return i18n.gettext_("Never bought")
    if bucket.kind == "older":
        return i18n.gettext_("Earlier")
    months = bucket.months or 0
    if months == 0:
        return i18n.gettext_("Less than a month")
    return i18n.ngettext("%(num)s month", "%(num)s months", months) % {"num": months}


def _bucket_tick(bucket: Bucket) -> str:
    """A bucket on the histogram's axis: "<1", "1" … "11", "Earlier", "Never"."""
    if bucket.kind == "never":
        return i18n.gettext_("Never")
    if bucket.kind == "older":
        return i18n.gettext_("Earlier")
    return str(bucket.months) if bucket.months else "<1"


def _rules(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "root": {"type": "group", "op": "and", "children": list(conditions)}}


def _bucket_rules(bucket: Bucket, data: DashboardData) -> dict[str, Any] | None:
    """The segment conditions of a bucket's customers. Customers' stored last purchase is today's, so the
    buckets of a period that ended in the past have no such conditions."""
    if not data.period_key.startswith(ROLLING):
        return None
    if bucket.kind == "never":
        return _rules({"metric": "purchases.count", "operator": "eq", "value": 0})
    if bucket.kind == "older":
        return _rules({"metric": "purchases.last_date", "operator": "before", "value": _next_day(bucket)})
    days = [str(bucket.first_day), str(bucket.last_day)]
    return _rules({"metric": "purchases.last_date", "operator": "between", "value": days})


def _next_day(bucket: Bucket) -> str:
    assert bucket.last_day is not None
    return str(date.fromordinal(bucket.last_day.toordinal() + 1))


def _period_count_url(data: DashboardData, operator: str, count: int, links: bool) -> dict[str, str] | None:
    """Customers with `count` receipts (eq or gte) within the period."""
    if not links:
        return None
    period = {"kind": "between", "start": str(data.first_month), "end": str(data.last_day)}
    condition = {
        "metric": "purchases.count",
        "operator": operator,
        "value": count,
        "params": {"period": period},
    }
    return _links(_rules(condition))


def _links(rules: dict[str, Any] | None) -> dict[str, str] | None:
    """The customers behind a figure in the customer list, and the same conditions in the segment builder
    (to save them as a segment)."""
    if rules is None:
        return None
    query = urlencode({"rules": json.dumps(rules, separators=(",", ":"))})
    return {"customers": f"/customers?{query}", "builder": f"/segments/new?{query}"}
